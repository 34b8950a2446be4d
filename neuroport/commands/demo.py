"""``neuroport demo``: build, save, reload and run the demo network on every backend."""

from __future__ import annotations

import os
import sys
import time

import numpy as np

import neuroport
from neuroport import backend as registry
from neuroport import encoders
from neuroport.api import prepare
from neuroport.compare import matched_fraction
from neuroport.models.networks.demo import DT, demo_network
from neuroport.commands.common import SEED, add_progress, add_run_length, backend_list, nonneg_float, run_steps
from neuroport.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser(
        "demo", help="build the demo network, round-trip it through .nir, run it on every backend",
        description="Builds a small network in the seed projects' style (Poisson input, a sparse recurrent "
                    "excitatory/inhibitory LIF layer, a readout layer), writes it to a .nir file, reads it "
                    "back, runs it on every available backend, prints spike counts and agreement with the "
                    "numpy engine per backend, and writes a raster plot.",
    )
    p.add_argument("--out", default="demo_output", help="folder for demo.nir and the PNG (default demo_output)")
    add_run_length(p, default_steps=1000, what="each run (steps of 1 ms)")
    p.add_argument("--rate", type=nonneg_float, default=20.0, help="Poisson input rate in Hz (default 20)")
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--backends", default=None,
                   help="comma-separated modes to run (default: every registered one)")
    add_progress(p, default=False)
    p.set_defaults(func=run)


def _agreement(reference, result, populations):
    """(identical spikes?, fraction of reference spikes matched within +-1 step) over ``populations``."""
    identical = all(
        (reference.spikes[p].steps.tolist(), reference.spikes[p].neurons.tolist())
        == (result.spikes[p].steps.tolist(), result.spikes[p].neurons.tolist())
        for p in populations
    )
    total = sum(reference.spikes[p].count for p in populations)
    if total == 0:
        return identical, 1.0
    matched = sum(min(matched_fraction(reference.spikes[p], result.spikes[p], k=1)) * reference.spikes[p].count
                  for p in populations)
    return identical, matched / total


def run(args) -> int:
    modes = backend_list(args.backends) or registry.names()
    steps = run_steps(args, DT)
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {args.out!r}: cannot create the folder ({exc.strerror or exc})") from None
    net = demo_network(seed=args.seed)
    path = os.path.join(args.out, "demo.nir")
    neuroport.write(path, net, options={"dt": DT, "timing": "hardware"})
    graph = neuroport.read(path)
    reread = neuroport.Network.from_nir(graph)
    print(f"wrote and re-read {path}: {len(graph.nodes)} nodes, populations "
          f"{', '.join(reread.populations())}")
    program = neuroport.compile(graph)
    inputs = {"input": encoders.poisson(np.full(program.populations["input"].size, args.rate),
                                        steps=steps, dt=program.dt, seed=args.seed)}
    populations = [n for n, p in program.populations.items() if not p.is_input]
    results, rows = {}, []
    for mode in modes:
        be = registry.get(mode)
        ok, reason = be.available()
        if not ok:
            rows.append((mode, "unavailable", reason))
            continue
        print(f"running {mode} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            prog = prepare(graph, be)
            results[mode] = be.run(prog, steps=steps, inputs=inputs, progress=args.progress, seed=args.seed)
            rows.append((mode, "ok", time.perf_counter() - t0))
        except neuroport.NeuroportError as exc:
            rows.append((mode, "failed", f"{type(exc).__name__}: {exc}"))
    reference = results.get("numpy")
    print()
    header = f"{'backend':<12} " + " ".join(f"{p:>9}" for p in populations) + \
        f"  {'compared with':<13} {'identical':>9} {'match+-1':>9} {'time (s)':>9}"
    print(f"spike counts over {steps} steps of {DT * 1e3:g} ms; fixed-point backends are compared with "
          "numpy-fixed (bit-exact), the others and numpy-fixed with numpy")
    print(header)
    print("-" * len(header))
    failed = False
    for mode, status, info in rows:
        if status != "ok":
            failed |= status == "failed"
            print(f"{mode:<12} {status}: {info}")
            continue
        res = results[mode]
        counts = " ".join(f"{res.spikes[p].count:>9}" for p in populations)
        ref_name = "numpy-fixed" if registry.get(mode).level == "fixed" and mode != "numpy-fixed" else "numpy"
        ref = results.get(ref_name)
        if ref is not None and mode != ref_name:
            identical, frac = _agreement(ref, res, populations)
            agree = f"{ref_name:<13} {'yes' if identical else 'no':>9} {frac * 100:>8.1f}%"
        else:
            agree = f"{'(reference)':<13} {'-':>9} {'-':>9}"
        print(f"{mode:<12} {counts}  {agree} {info:>9.2f}")
    if reference is not None:
        from neuroport import plot  # matplotlib is heavy: imported only when a plot is written

        png = os.path.join(args.out, "demo_raster.png")
        # overlay the independent reference when it ran, else the first other backend
        others = sorted((m for m in results if m != "numpy"), key=lambda m: m != "brian2")
        overlay = results[others[0]] if others else None
        plot.raster(reference, path=png, overlay=overlay,
                    title="demo network: numpy" + (f" vs {others[0]}" if others else ""))
        print(f"\nwrote {png}")
    return 1 if failed else 0
