"""Every framework fixture (``tests/data/interop``) through its import profile: one table.

    .venv/bin/python benchmarks/interop_report.py [--lava] [--steps 40] [framework ...]

Per fixture (the framework's own export, its seeded input and its own spikes):

* ``numpy``: the fraction of (step, neuron) spike counts equal to the framework's, every recorded
  layer pooled (the criterion of ``tests/test_interop.py`` is 100 %), or ``LOST`` where the exporter
  drops a parameter (``tests/test_interop.py``'s ``EXPORTER_LOST``);
* ``fixed vs float``: the quantization report's spike-match rate (``neuroport.quantize_report.fidelity``,
  +-1 step) of numpy-fixed against float numpy, both with hardware timing (the lowest layer);
* ``fixed vs framework``: numpy-fixed with the profile's timing (compensated, shifted back by the stated
  latency) against the framework's spikes (+-1 step, the lowest layer);
* ``lava-fixed``: with ``--lava``, whether lava-fixed is bit-identical to numpy-fixed (spikes and v).

Sinabs' and Rockpool's several-spikes-per-step layers have no fixed-point form (refused with the
reason); their fixed columns are the one-spike version (``spikes="single"``), marked ``1-spike``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import neuroport  # noqa: E402
from neuroport.errors import NeuroportError  # noqa: E402
from neuroport.quantize_report import fidelity, match_spikes  # noqa: E402
from neuroport.timing import latency  # noqa: E402

from interop_util import PROFILE_OF, dense_counts, fixture_id, fixtures, layers, load, overrides  # noqa: E402


def _lost() -> dict:
    from test_interop import EXPORTER_LOST

    return EXPORTER_LOST


def _program(path, info, **kw):
    fw = path.parent.name
    ov = overrides(fw, info)
    if "semantics" in kw:
        ov["semantics"] = {**ov.get("semantics", {}), **kw.pop("semantics")}
    return neuroport.compile(neuroport.read(path), profile=PROFILE_OF[fw], **ov, **kw)


def _inputs(program, arrays, steps):
    x = arrays["input"][:steps]
    return {program.inputs[0]: x.reshape(x.shape[0], -1)}


def row(path, steps: int, lava: bool) -> dict:
    arrays, info = load(path)
    fid = fixture_id(path)
    recorded = layers(arrays)
    out = {"fixture": fid}
    program = _program(path, info)
    total = arrays["input"].shape[0]
    res = neuroport.run(program, backend="numpy", steps=total, inputs=_inputs(program, arrays, total))
    equal = sum(int(np.sum(dense_counts(res.spikes[n], total) == w.reshape(total, -1))) for n, w in recorded.items())
    size = sum(w.size for w in recorded.values())
    out["numpy"] = f"{100.0 * equal / size:.1f} %" + (" LOST" if fid in _lost() else "")
    single = ""
    if any(p.multi_spike for p in program.populations.values()):
        program, single = _program(path, info, semantics={"spikes": "single"}), " 1-spike"
    hw = _program(path, info, timing="hardware", **({"semantics": {"spikes": "single"}} if single else {}))
    x = _inputs(program, arrays, steps)
    try:
        rep = fidelity(hw, steps, x)
        out["fixed vs float"] = f"{rep.min_match_rate:.3f}{single}"
        fixed = neuroport.run(program, backend="numpy-fixed", steps=steps, inputs=x,
                              probes=[(n, "v") for n in recorded])
    except NeuroportError as exc:
        out["fixed vs float"] = f"refused: {type(exc).__name__}: {str(exc)[:70]}"
        return out
    lat = latency(fixed)
    rates = []
    for n, want in recorded.items():
        shift = lat.get(n, 0)
        got = fixed.spikes[n].to_dense()[shift:]
        ref = want[: steps - shift].reshape(steps - shift, -1) > 0
        n_spikes = int(ref.sum() + got.sum())
        rates.append(1.0 if n_spikes == 0 else 2.0 * match_spikes(ref, got, 1) / n_spikes)
    out["fixed vs framework"] = f"{min(rates):.3f}{single}"
    if lava:
        t0 = time.perf_counter()
        lv = neuroport.run(program, backend="lava-fixed", steps=steps, inputs=x, probes=[(n, "v") for n in recorded])
        same = all(np.array_equal(fixed.spikes[n].to_dense(), lv.spikes[n].to_dense())
                   and np.array_equal(fixed.states[n]["v"], lv.states[n]["v"]) for n in recorded)
        out["lava-fixed"] = f"{'bit-identical' if same else 'DIFFERS'} ({time.perf_counter() - t0:.1f} s)"
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("frameworks", nargs="*", help="framework folders to report (default: all)")
    ap.add_argument("--steps", type=int, default=40, help="steps of the fixed-point runs (default 40)")
    ap.add_argument("--lava", action="store_true", help="also run lava-fixed (slow: a few seconds per fixture)")
    args = ap.parse_args(argv)
    cols = ["fixture", "numpy", "fixed vs float", "fixed vs framework"] + (["lava-fixed"] if args.lava else [])
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for path in fixtures():
        if args.frameworks and path.parent.name not in args.frameworks:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                r = row(path, args.steps, args.lava)
            except NeuroportError as exc:
                r = {"fixture": fixture_id(path), "numpy": f"refused: {exc}"[:90]}
        print("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
