"""``Depression``: short-term depression of spikes as a Lava process (``process.py``) with float and fixed models (``models.py``)."""
