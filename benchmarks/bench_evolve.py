"""Genetic weight evolution on 3-class digit subsets: held-out accuracy (numpy, numpy-fixed), time.

One :func:`neuroport.sweep` point per class subset. A point's ``build`` runs the whole evolution
(:func:`neuroport.apps.evolve.evolve`, which measures the held-out accuracy of the best network on
the full test split on numpy and numpy-fixed by stacked runs) and writes those numbers to
``OUT/evolve_<digits>.json``; it returns the saved ``.nir`` network with the first
``--sequential-per-class`` test samples of each class shown one after another (``--steps`` of
input, then ``--gap`` silent steps so the membranes relax), which the sweep runs as one ordinary run of
the single network and scores with its ``accuracy`` metric: an independent check of the stacked
evaluation (column ``sequential_accuracy``; the state carries over between samples, so it may
differ slightly).

Usage::

    python benchmarks/bench_evolve.py                     # subsets 012, 358, 479, 10-minute budget each
    python benchmarks/bench_evolve.py --subsets 0,1,2 --generations 40 --out examples_output

Prints per subset: held-out accuracy on numpy and numpy-fixed (and the drop), training accuracy,
generations, wall and CPU time of the evolution, generations/s.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import time

import numpy as np


def evolve_point(classes: str, *, out: str, options: dict, gap: int, per_class: int):
    """Sweep build: evolve ``classes`` ("012"), write the numbers, return the sequential test run."""
    from neuroport.apps import evolve as ev
    from neuroport.fileutil import write_json

    digits = tuple(int(c) for c in classes)
    path = os.path.join(out, f"evolve_{classes}.nir")
    result = ev.evolve(digits, out=path, progress=True,
                       test_backends=("numpy", "numpy-fixed"), **options)
    write_json(os.path.join(out, f"evolve_{classes}.json"), {
        "classes": classes, "numpy": result.test_accuracy["numpy"],
        "numpy_fixed": result.test_accuracy["numpy-fixed"], "train": result.train_accuracy,
        "generations": result.generations, "wall_s": result.wall_s, "cpu_s": result.cpu_s,
        "history": result.history})
    data = ev.load_data(digits, 1)
    keep = np.concatenate([np.flatnonzero(data.y_test == k)[:per_class] for k in range(len(digits))])
    keep.sort()
    c = result.config
    spikes = ev.encode(data.x_test[keep], steps=c.steps, dt=c.dt, max_rate_hz=c.max_rate_hz, seed=12345)
    windows = np.zeros((len(keep), c.steps + gap, 64), dtype=np.uint8)
    windows[:, :c.steps] = spikes.reshape(c.steps, len(keep), 64).transpose(1, 0, 2)
    return {"network": result.network.to_nir(), "inputs": {"x": windows.reshape(-1, 64)},
            "labels": data.y_test[keep], "readout": "out"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subsets", nargs="+", default=["0,1,2", "3,5,8", "4,7,9"])
    parser.add_argument("--population", type=int, default=32)
    parser.add_argument("--generations", type=int, default=400)
    parser.add_argument("--time-limit", type=float, default=540.0, help="wall seconds per subset (default 540)")
    parser.add_argument("--target", type=float, default=None, help="stop at this training accuracy")
    parser.add_argument("--hidden", type=int, default=0)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--train-per-class", type=int, default=100)
    parser.add_argument("--engine", default="compiled", choices=("numpy", "compiled"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gap", type=int, default=60, help="silent steps between sequential test samples")
    parser.add_argument("--sequential-per-class", type=int, default=20,
                        help="test samples per class shown one after another (default 20: the split has 20 sevens)")
    parser.add_argument("--spike-seeds", type=int, default=10,
                        help="re-evaluate each saved network on this many other test-spike draws (default 10)")
    parser.add_argument("--out", default="examples_output")
    args = parser.parse_args(argv)

    import neuroport

    os.makedirs(args.out, exist_ok=True)
    options = {"population": args.population, "generations": args.generations, "time_limit_s": args.time_limit,
               "target_accuracy": args.target, "hidden": args.hidden, "steps": args.steps,
               "train_per_class": args.train_per_class, "seed": args.seed, "parents": min(12, args.population)}
    build = functools.partial(evolve_point, out=args.out, options=options, gap=args.gap,
                              per_class=args.sequential_per_class)
    subsets = ["".join(s.split(",")) for s in args.subsets]
    steps = args.sequential_per_class * 3 * (args.steps + args.gap)
    if any(len(s) != 3 for s in subsets):
        parser.error("--subsets: this benchmark measures 3-class subsets, e.g. 0,1,2")
    t0 = time.perf_counter()
    table = neuroport.sweep(build, {"classes": subsets}, steps=steps, dt=1e-3, metrics=["accuracy"],
                            workers=0, progress=False, run_options={"engine": args.engine})
    total = time.perf_counter() - t0
    print(f"genetic evolution, {args.population} genomes, <= {args.generations} generations or "
          f"{args.time_limit:g} s, {args.steps} steps/sample, {args.train_per_class} training samples/class, "
          f"hidden {args.hidden}, engine {args.engine}, seed {args.seed}")
    print(f"{'classes':>8} {'numpy':>7} {'fixed':>7} {'drop':>6} {'train':>7} {'seq':>6} {'gens':>5} "
          f"{'wall s':>7} {'cpu s':>7} {'gen/s':>6}")
    for _, row in table.iterrows():
        if row["status"] != "ok":
            print(f"{row['classes']:>8} failed: {row['error']}")
            continue
        with open(os.path.join(args.out, f"evolve_{row['classes']}.json")) as f:
            r = json.load(f)
        print(f"{r['classes']:>8} {r['numpy'] * 100:6.1f}% {r['numpy_fixed'] * 100:6.1f}% "
              f"{(r['numpy'] - r['numpy_fixed']) * 100:+5.1f} {r['train'] * 100:6.1f}% "
              f"{row['accuracy'] * 100:5.1f}% {r['generations']:5d} {r['wall_s']:7.1f} {r['cpu_s']:7.1f} "
              f"{r['generations'] / r['wall_s']:6.2f}")
    print(f"total {total:.1f} s wall (evolutions, test evaluations and the sequential runs)")
    from neuroport.apps import evolve as ev

    print(f"held-out accuracy of the saved networks over {args.spike_seeds} other Poisson draws of the test split "
          "(mean, sd, min-max, %):")
    for _, row in table.iterrows():
        if row["status"] != "ok":
            continue
        path = os.path.join(args.out, f"evolve_{row['classes']}.nir")
        parts = []
        for backend in ("numpy", "numpy-fixed"):
            acc = np.array([ev.evaluate(path, backend=backend, seed=100 + s) for s in range(args.spike_seeds)]) * 100
            parts.append(f"{backend} {acc.mean():.1f} ({acc.std(ddof=1) if acc.size > 1 else 0:.1f}, "
                         f"{acc.min():.1f}-{acc.max():.1f})")
        print(f"{row['classes']:>8} " + "; ".join(parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
