"""Lava's LIF with overflow counters (``lava-fixed``): process and its ``fixed_pt`` model."""
