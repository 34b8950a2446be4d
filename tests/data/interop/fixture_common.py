"""Helpers shared by the ``make_<framework>.py`` fixture scripts (numpy + json only).

The scripts run by hand, each in its own virtual environment with the framework
installed (see the top of each script); they are not run by ``make test``.  This
module only holds what every script does the same way: seeded inputs, the weight
gain calibration that keeps every spiking layer at a moderate spike rate, and the
writing of one case's ``.npz`` per ``README.md`` (schema: ``input``,
``spikes__<node>``, ``v__<node>``, optional ``i__<node>``, ``dt``, ``info``).
"""
from __future__ import annotations

import json
import os
from typing import Callable, Dict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RATE_LO, RATE_HI = 0.05, 0.30  # wanted spike rate per layer (fraction of neuron-steps)


def bernoulli_input(seed: int, T: int, shape, p: float = 0.2) -> np.ndarray:
    """Seeded Bernoulli spike input, float64 array of shape (T, *shape)."""
    rng = np.random.default_rng(seed)
    return (rng.random((T,) + tuple(shape)) < p).astype(np.float64)


def current_input(seed: int, T: int, shape, scale: float = 1.0) -> np.ndarray:
    """Seeded non-negative current input (half-normal), float64 (T, *shape)."""
    rng = np.random.default_rng(seed)
    return np.abs(rng.normal(0.0, scale, (T,) + tuple(shape)))


def calibrate(run: Callable[[np.ndarray], Dict[str, float]], n_layers: int,
              gains=None, iters: int = 40) -> np.ndarray:
    """Find one weight gain per spiking layer so each spikes at RATE_LO..RATE_HI.

    ``run(gains)`` simulates the network with layer ``k``'s weights multiplied by
    ``gains[k]`` and returns the list of per-layer spike rates (in layer order).
    Layers are tuned front to back (a layer's rate depends on the ones before it).
    """
    gains = np.ones(n_layers) if gains is None else np.asarray(gains, float)
    target = 0.5 * (RATE_LO + RATE_HI)
    for k in range(n_layers):
        lo, hi = 0.0, None
        for _ in range(iters):
            rate = run(gains)[k]
            if RATE_LO <= rate <= RATE_HI:
                break
            if rate < target:
                lo = gains[k]
                gains[k] = gains[k] * 2.0 if hi is None else 0.5 * (gains[k] + hi)
            else:
                hi = gains[k]
                gains[k] = 0.5 * (gains[k] + lo)
    return gains


def seeded_torch_modules(spec, gains, seed, weighted):
    """torch-based scripts: seed torch, call each factory of ``spec``, and multiply the
    ``weight`` of the k-th module that is an instance of ``weighted`` by ``gains[k]``.
    Returns the list of modules (torch is imported here, so this module stays numpy-only
    for the scripts that do not use torch)."""
    import torch

    torch.manual_seed(seed)
    mods = [f() for f in spec]
    k = 0
    with torch.no_grad():
        for m in mods:
            if isinstance(m, weighted):
                m.weight.data = m.weight.data * gains[k]
                k += 1
    return mods


def save_case(framework: str, case: str, *, input, layers: Dict[str, Dict[str, np.ndarray]],
              dt: float, info: dict, nir_writer: Callable[[str], None]) -> str:
    """Write ``<framework>/<case>.nir`` (through the framework's own exporter,
    ``nir_writer(path)``) and ``<framework>/<case>.npz``.

    ``layers`` maps an exported NIR node name to {"spikes": (T,...), "v": (T,...),
    optionally "i": (T,...)}; arrays are stored as float64 with keys
    ``spikes__<node>``, ``v__<node>``, ``i__<node>``.
    """
    out = os.path.join(HERE, framework)
    os.makedirs(out, exist_ok=True)
    nir_path = os.path.join(out, case + ".nir")
    nir_writer(nir_path)
    arrays = {"input": np.asarray(input, np.float64), "dt": np.float64(dt),
              "info": np.array(json.dumps(dict(info, case=case), sort_keys=True))}
    for node, rec in layers.items():
        for key, name in (("spikes", "spikes"), ("v", "v"), ("i", "i")):
            if key in rec and rec[key] is not None:
                arrays[f"{name}__{node}"] = np.asarray(rec[key], np.float64)
    npz_path = os.path.join(out, case + ".npz")
    np.savez_compressed(npz_path, **arrays)
    rates = {n: float(np.mean(r["spikes"] > 0)) for n, r in layers.items() if r.get("spikes") is not None}
    size = os.path.getsize(nir_path) + os.path.getsize(npz_path)
    print(f"{framework}/{case}: {size/1024:.1f} KB, spike rates "
          + ", ".join(f"{n}={r:.3f}" for n, r in rates.items()))
    return npz_path
