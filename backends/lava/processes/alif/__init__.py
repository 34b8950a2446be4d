"""``ALIF``: neuroport's adaptive LIF as a Lava process (``process.py``) with float and fixed models (``models.py``)."""
