"""Lava backend: Loihi2SimCfg (float, fixed_pt) and Loihi2HwCfg."""
