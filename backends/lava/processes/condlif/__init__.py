"""``CondLIF``: neuroport's conductance-based LIF as a Lava process (``process.py``) with float and fixed models (``models.py``)."""
