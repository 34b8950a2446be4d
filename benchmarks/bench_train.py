"""Diehl & Cook training (``neuroport train``'s loop: ``DiehlCook.fit``) on the numpy reference engine
and the compiled engine, side by side in one run, on a reduced set of samples.

    .venv/bin/python benchmarks/bench_train.py [--samples 100] [--neurons 400] [--epochs 1]
        [--engines numpy compiled]

Each engine trains a fresh model (same seed, the default ``Config`` but ``neurons``) on the first
``--samples`` training digits, in one process after the other; the columns are the wall time of
``fit`` (s), its time per sample (ms) and the ratio to the numpy reference, and the same for the
process's CPU time (steadier on a shared machine). The learned weights
(``x->exc``, graph units, shape (neurons, 64)) and the learned thresholds (``theta``, mV) are
compared to the reference's bit for bit. The compiled engine's first fit includes numba's JIT
(or loading its cache): a short warm-up fit runs first. The machine may be shared: compare the
ratio of one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time

import numpy as np


def train(engine: str, samples: int, neurons: int, epochs: int):
    """``(fit wall s, fit CPU s, weights (neurons, 64), theta (neurons,))`` of a fresh model trained on ``engine``."""
    from neuroport.apps import diehl_cook as dc
    from neuroport.models.jit import ENV

    os.environ[ENV] = engine  # the Simulator's engine path (neuroport.models.jit.engine_path)
    data = dc.load_split()
    config = dataclasses.replace(dc.Config(), neurons=neurons)
    warm = dc.DiehlCook(dataclasses.replace(config, neurons=10), seed=0)
    warm.fit(data.x_train[:2], progress=False)  # numba's JIT / cache load, outside the timed fit
    model = dc.DiehlCook(config, seed=0)
    assert model.sim.engine.path_meta()["engine_path"] == engine
    t0, c0 = time.perf_counter(), time.process_time()
    model.fit(data.x_train[:samples], data.y_train[:samples], epochs=epochs, progress=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    theta = model.sim.engine.final_state()["exc"].get("theta")
    return wall, cpu, np.array(model.sim.weights["x->exc"]), None if theta is None else np.array(theta)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--neurons", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--engines", nargs="+", default=["numpy", "compiled"], choices=("numpy", "compiled"))
    args = parser.parse_args(argv)
    results = {}
    print(f"{'engine':<10} {'fit s':>8} {'ms/sample':>10} {'ratio':>7} {'CPU s':>8} {'CPU ratio':>9}  identical to numpy")
    for engine in args.engines:
        wall, cpu, w, theta = train(engine, args.samples, args.neurons, args.epochs)
        results[engine] = (wall, w, theta, cpu)
        ref = results.get("numpy")
        same = "-" if ref is None or engine == "numpy" else (
            "weights " + ("yes" if np.array_equal(w, ref[1]) else "NO") + ", theta "
            + ("yes" if (theta is None and ref[2] is None) or np.array_equal(theta, ref[2]) else "NO"))
        ratio = f"{ref[0] / wall:6.2f}x" if ref is not None else "-"
        cpu_ratio = f"{ref[3] / cpu:8.2f}x" if ref is not None else "-"
        print(f"{engine:<10} {wall:8.2f} {1e3 * wall / (args.samples * args.epochs):10.1f} {ratio:>7} {cpu:8.2f} "
              f"{cpu_ratio:>9}  {same}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
