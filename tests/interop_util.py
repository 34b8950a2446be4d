"""Helpers of ``tests/test_interop.py``: the shipped framework fixtures (``tests/data/interop``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data" / "interop"
#: fixture folder -> neuroport import profile
PROFILE_OF = {"snntorch": "snntorch", "norse": "norse", "sinabs": "sinabs", "rockpool": "rockpool",
              "spyx": "spyx", "lavadl": "lava-dl"}


def fixtures() -> list:
    """Every ``tests/data/interop/<framework>/<case>.nir`` that has its ``.npz``."""
    return sorted(p for p in DATA.glob("*/*.nir") if p.with_suffix(".npz").exists())


def fixture_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def load(path: Path) -> tuple:
    """``(arrays dict, info dict)`` of a fixture's ``.npz``."""
    with np.load(path.with_suffix(".npz"), allow_pickle=False) as d:
        arrays = {k: d[k] for k in d.files}
    info = json.loads(str(arrays.pop("info")))
    return arrays, info


def overrides(framework: str, info: dict) -> dict:
    """The compile keywords (``reset=``, ``semantics=``) for what the exporter does not write, from the
    constructor arguments the fixture records (never parameters: those come from the file)."""
    ctor = dict(info.get("constructor") or {})
    for value in list(ctor.values()):  # per-layer constructors ({"lif1": {...}, ...})
        if isinstance(value, dict):
            ctor = {**value, **{k: v for k, v in ctor.items() if not isinstance(v, dict)}}
    out = {}
    if framework == "snntorch":
        if "reset_mechanism" in ctor:
            out["reset"] = ctor["reset_mechanism"]
        if "reset_delay" in ctor:
            out["semantics"] = {"reset_delay": bool(ctor["reset_delay"])}
    elif framework == "sinabs":  # the constructor's spike_fn / reset_fn, which the exported IF does not record
        if str(ctor.get("spike_fn", "")).startswith("SingleSpike"):
            out["semantics"] = {"spikes": "single"}
        if str(ctor.get("reset_fn", "")).startswith("MembraneReset"):
            out["reset"] = "zero"
    else:
        if "reset" in ctor:
            out["reset"] = ctor["reset"]
        if "spikes" in ctor:
            out["semantics"] = {"spikes": ctor["spikes"]}
    return out


def layers(arrays: dict) -> dict:
    """``{node: (T, *shape) spikes}`` recorded in a fixture."""
    return {k[len("spikes__"):]: v for k, v in arrays.items() if k.startswith("spikes__")}


def dense_counts(train, steps: int) -> np.ndarray:
    """``(steps, size)`` spikes per neuron and step (a multi-spike train repeats its entries)."""
    out = np.zeros((steps, train.size))
    np.add.at(out, (train.steps, train.neurons), 1)
    return out
