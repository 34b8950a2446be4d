"""Engines side by side on the COBA and CUBA benchmarks (Brette et al. 2007): neuroport compiled
float (whole-run loop where the network allows it), ``compiled-step`` (the compiled float engine
stepping in Python, ``NEUROPORT_WHOLE_RUN=0``) and compiled fixed, the numpy reference paths (float ``numpy``, integer ``numpy-fixed``), Brian2 cpp_standalone (1 thread) and Brian2 runtime.

    .venv/bin/python benchmarks/bench_engines.py [--sizes 4000 16000 64000] [--large] [--steps 2000]
        [--large-steps 10000] [--once]
        [--engines compiled-float compiled-step compiled-fixed numpy b2-standalone b2-runtime] [--models coba cuba]

Each (model, size, engine) runs in its own process (clean peak RSS). Connectivity keeps ~80
synapses per neuron (p = min(0.02, 80 / n)); dt = 0.1 ms. Columns: build (graph + compile, and
quantize for fixed), first run (includes numba's JIT, or loading its cache; Brian2 standalone:
code generation + C++ compile + run), cached run (a second run in the same process), run-only
(the timed loop of the cached run; Brian2 standalone: the C++ run alone), synaptic events per
second of run-only, peak RSS of the process, mean rate (Hz) and ISI CV (neurons with >= 3 spikes),
and the cost of run-only per neuron-step and per synaptic event (ns), and the CPU seconds of this
process during the measured run (engine setup included; on a loaded machine the wall times stretch,
the CPU time much less). ``--once``: one run per
configuration (no cached run: run-only is the first run's timed loop, after numba's cache is loaded;
for the 1M-neuron run on a shared machine); ``--large-steps``: steps of the sizes above 64k.
Ratios: run-only time of each engine over compiled float's. ``--large`` adds 256k and 1M neurons
(compiled engines only unless --engines says otherwise). The machine may be shared: compare
ratios measured in one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

ENGINES = ("compiled-float", "compiled-step", "compiled-fixed", "numpy", "numpy-fixed", "b2-standalone", "b2-runtime")


def _network(model, n):
    from neuroport.models.networks.benchmarks import coba_network, cuba_network

    p = min(0.02, 80.0 / n)
    return coba_network(n_neurons=n, p=p) if model == "coba" else cuba_network(n_neurons=n, p=p)


def _stats(result, program, steps, dt):
    spikes = events = 0
    isi_cv = []
    for name, train in result.spikes.items():
        spikes += train.count
        per = np.bincount(train.neurons, minlength=train.size) if train.count else np.zeros(train.size, int)
        for proj in program.projections:
            if proj.pre == name:
                out_degree = np.bincount(proj.weights.indices, minlength=train.size)
                events += int(per @ out_degree)
        if train.count:  # per-neuron ISI mean and std in whole-array operations (1M neurons: no Python loop)
            order = np.lexsort((train.steps, train.neurons))
            nrn, st = train.neurons[order], train.steps[order].astype(float)
            same = nrn[1:] == nrn[:-1]
            isi, owner = np.diff(st)[same], nrn[1:][same]
            count = np.bincount(owner, minlength=train.size)
            total = np.bincount(owner, weights=isi, minlength=train.size)
            mean = np.divide(total, count, out=np.zeros(train.size), where=count > 0)
            dev = np.bincount(owner, weights=(isi - mean[owner]) ** 2, minlength=train.size)
            ok = (count >= 2) & (mean > 0)
            isi_cv.extend((np.sqrt(dev[ok] / count[ok]) / mean[ok]).tolist())
    return spikes / (program.n_neurons * steps * dt), float(np.mean(isi_cv)) if isi_cv else float("nan"), events


def one(model, n, engine, steps, once=False) -> dict:
    """Build and run one configuration in this process; a dict of timings."""
    import os

    if engine == "compiled-step":
        os.environ["NEUROPORT_WHOLE_RUN"] = "0"
    import neuroport

    t0 = time.perf_counter()
    graph = _network(model, n).to_nir()
    dt = 1e-4
    program = neuroport.compile(graph, dt=dt)
    run_program = program
    if engine in ("compiled-fixed", "numpy-fixed"):
        run_program, _ = neuroport.quantize(program)
    build = time.perf_counter() - t0
    if engine.startswith("b2-"):
        from neuroport.backends.brian2.backend import Brian2Backend

        be = Brian2Backend(device="cpp_standalone" if engine == "b2-standalone" else "runtime",
                           codegen="cython" if engine == "b2-runtime" else "numpy")
        kw = {}
    else:
        be = neuroport.backend.get("numpy-fixed" if engine.endswith("fixed") else "numpy")
        kw = {"engine": "compiled" if engine.startswith("compiled") else "numpy"}
    if once and engine.startswith("compiled"):  # load the kernels from numba's cache outside the timed loop
        warm = neuroport.compile(_network(model, 400).to_nir(), dt=dt)
        be.run(neuroport.quantize(warm)[0] if engine == "compiled-fixed" else warm, steps=2, progress=False, **kw)
    t1, c1 = time.perf_counter(), time.process_time()
    r1 = be.run(run_program, steps=steps, progress=False, **kw)
    first, cpu = time.perf_counter() - t1, time.process_time() - c1
    if once:
        cached, run_only, r = first, r1.wall_time if not engine.startswith("b2-") else float(
            r1.meta.get("run_only_time", r1.wall_time)), r1
    elif engine == "b2-standalone":  # a second run generates and compiles again: not a cached run
        cached, run_only, r = first, float(r1.meta.get("run_only_time", r1.wall_time)), r1
    else:
        t2, c2 = time.perf_counter(), time.process_time()
        r = be.run(run_program, steps=steps, progress=False, **kw)
        cached, run_only, cpu = time.perf_counter() - t2, r.wall_time, time.process_time() - c2
    rate, cv, events = _stats(r, program, steps, dt)
    return {"model": model, "n": n, "engine": engine, "synapses": program.n_synapses, "build": build,
            "first": first, "cached": cached, "run_only": run_only, "us_per_step": run_only / steps * 1e6,
            "events_per_s": events / run_only if run_only > 0 else float("nan"), "steps": steps,
            "cpu_s": cpu,
            "ns_per_neuron_step": run_only / (n * steps) * 1e9,
            "ns_per_event": run_only / events * 1e9 if events else float("nan"),
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20, "rate_hz": rate,
            "isi_cv": cv, "path": r.meta.get("engine_path", r.meta.get("device")), "whole_run": r.meta.get("whole_run")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000, 16000, 64000])
    parser.add_argument("--large", action="store_true", help="add 256,000 and 1,000,000 neurons")
    parser.add_argument("--steps", type=int, default=2000, help="steps of 0.1 ms (default 2000 = 0.2 s)")
    parser.add_argument("--engines", nargs="+", default=None, choices=ENGINES,
                        help="default: all (above 64,000 neurons: the compiled engines only)")
    parser.add_argument("--models", nargs="+", default=["coba", "cuba"], choices=("coba", "cuba"))
    parser.add_argument("--large-steps", type=int, default=None,
                        help="steps for sizes above 64,000 (default: --steps; 10000 = 1 s)")
    parser.add_argument("--once", action="store_true", help="one run per configuration (no cached run)")
    parser.add_argument("--one", nargs=3, metavar=("MODEL", "N", "ENGINE"), help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per configuration")
    args = parser.parse_args(argv)
    if args.one:
        print("RESULT " + json.dumps(one(args.one[0], int(args.one[1]), args.one[2], args.steps, args.once)))
        return 0
    sizes = list(args.sizes) + ([256_000, 1_000_000] if args.large else [])
    rows = []
    head = (f"{'model':<5} {'n':>8} {'engine':<15} {'build s':>8} {'first s':>8} {'cached s':>8} {'run s':>8} "
            f"{'us/step':>9} {'Mev/s':>7} {'RSS GB':>6} {'rate Hz':>7} {'ISI CV':>6} {'ns/nrn-step':>11} "
            f"{'ns/event':>8} {'CPU s':>7}")
    print(head)
    for model in args.models:
        for n in sizes:
            for engine in args.engines or ENGINES:
                if n > 64_000 and engine not in ("compiled-float", "compiled-fixed") and args.engines is None:
                    continue
                steps = args.large_steps if (n > 64_000 and args.large_steps) else args.steps
                cmd = [sys.executable, __file__, "--one", model, str(n), engine, "--steps", str(steps)]
                if args.once:
                    cmd.append("--once")
                try:
                    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
                except subprocess.TimeoutExpired:
                    print(f"{model:<5} {n:>8} {engine:<15} timed out after {args.timeout:.0f} s")
                    continue
                line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
                if out.returncode or not line:
                    err = (out.stderr.strip().splitlines() or ["?"])[-1]
                    print(f"{model:<5} {n:>8} {engine:<15} failed: {err[:100]}")
                    continue
                r = json.loads(line[0][7:])
                rows.append(r)
                print(f"{model:<5} {n:>8} {engine:<15} {r['build']:8.2f} {r['first']:8.2f} {r['cached']:8.2f} "
                      f"{r['run_only']:8.3f} {r['us_per_step']:9.1f} {r['events_per_s'] / 1e6:7.1f} "
                      f"{r['peak_rss_gb']:6.2f} {r['rate_hz']:7.2f} {r['isi_cv']:6.3f} "
                      f"{r['ns_per_neuron_step']:11.2f} {r['ns_per_event']:8.2f} {r['cpu_s']:7.2f}"
                      f"{'  (whole-run)' if r.get('whole_run') else ''}", flush=True)
    print("\nratios: run-only time / compiled float run-only time (same model and size, this run)")
    for model in args.models:
        for n in sizes:
            base = [r for r in rows if r["model"] == model and r["n"] == n and r["engine"] == "compiled-float"]
            if not base:
                continue
            parts = [f"{r['engine']} {r['run_only'] / base[0]['run_only']:.2f}x" for r in rows
                     if r["model"] == model and r["n"] == n and r["engine"] != "compiled-float"]
            sa = [r for r in rows if r["model"] == model and r["n"] == n and r["engine"] == "b2-standalone"]
            if sa:
                parts.append(f"end-to-end standalone first / compiled-float (build + cached) "
                             f"{sa[0]['first'] / (base[0]['build'] + base[0]['cached']):.1f}x")
            print(f"  {model} {n}: " + ", ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
