"""lava-fixed vs numpy-fixed: speed and bit-identity on the same networks, in one run.

Runs the canonical cases (``neuroport.testing.cases``, quantized) and the
seeded random integer networks of :mod:`neuroport.testing.random_networks`
(50 LIF networks by default, plus ``--custom`` networks with neuroport's own
processes: ALIF, CondLIF, LIF with refractoriness / subtractive reset / u bias,
short-term depression) on both engines, checks that every probed state and
every spike is identical at every step, and prints ms/step of each and the
ratio; numpy-fixed runs both its paths (``engine="numpy"`` and the compiled kernels,
``engine="compiled"``), each checked against Lava and timed. ms/step is the simulation loop only (``Result.wall_time``); Lava's
compile and process start-up is printed apart. The compiled path runs each network twice and the
second run is timed: a kernel signature's first call in a process loads it from numba's cache (up
to ~10 ms, inside the loop's timer), a one-off cost the summary prints apart.

Usage::

    .venv/bin/python benchmarks/bench_lava.py [--networks 50] [--custom 20] [--steps 100]

Exits with status 1 when any network differs (the first difference is printed).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np


def _quantized(program):
    from neuroport.errors import QuantizationWarning
    from neuroport.quantize import quantize

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        return quantize(program)[0]


def _first_difference(a, b, program) -> str | None:
    for name in program.populations:
        if not np.array_equal(a.spikes[name].to_dense(), b.spikes[name].to_dense()):
            t, i = np.argwhere(a.spikes[name].to_dense() != b.spikes[name].to_dense())[0]
            return f"spikes of {name} differ first at step {t}, neuron {i}"
    for name, var in program.probes:
        x, y = a.states[name][var], b.states[name][var]
        if not np.array_equal(x, y):
            t, i = np.argwhere(x != y)[0]
            return f"{name}.{var} differs first at step {t}, neuron {i}: lava-fixed={x[t, i]}, numpy-fixed={y[t, i]}"
    return None


def _run(backends, program, steps, inputs):
    from neuroport.errors import QuantizationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        t0 = time.perf_counter()
        lava = backends.get("lava-fixed").run(program, steps=steps, inputs=inputs)
        lava_total = time.perf_counter() - t0
        numpy_fixed = backends.get("numpy-fixed").run(program, steps=steps, inputs=inputs, engine="numpy")
        first = backends.get("numpy-fixed").run(program, steps=steps, inputs=inputs, engine="compiled")
        compiled = backends.get("numpy-fixed").run(program, steps=steps, inputs=inputs, engine="compiled")
    return lava, numpy_fixed, compiled, lava_total, first.wall_time - compiled.wall_time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=50, help="random networks (default 50)")
    parser.add_argument("--custom", type=int, default=20,
                        help="random networks with neuroport's own processes (default 20)")
    parser.add_argument("--steps", type=int, default=100, help="steps per random network (default 100)")
    args = parser.parse_args(argv)

    from neuroport import backends

    ok, reason = backends.get("lava-fixed").available()
    if not ok:
        print(f"lava-fixed unavailable: {reason}")
        return 0
    import neuroport
    from neuroport.testing import cases
    from neuroport.testing.random_networks import KINDS, random_fixed_program, random_inputs

    rows = []
    for case in cases.canonical_cases(0) + [cases.nir_paper()]:
        program = _quantized(neuroport.compile(case.graph, dt=case.dt, timing="hardware"))
        names = [n for n, p in program.populations.items() if not p.is_input]
        program = program.replace(probes=tuple((n, v) for n in names for v in ("u", "v")))
        rows.append((case.name, program, case.steps, case.inputs))
    for seed in range(args.networks):
        program = random_fixed_program(seed)
        rows.append((f"random-{seed}", program, args.steps, random_inputs(program, args.steps, seed)))
    for seed in range(args.custom):
        program = random_fixed_program(seed, models=KINDS, depression=0.3)
        rows.append((f"custom-{seed}", program, args.steps, random_inputs(program, args.steps, seed)))

    print(f"{'network':<16}{'neurons':>8}{'synapses':>10}{'procs':>6}{'steps':>6}"
          f"{'lava ms/step':>14}{'numpy ms/step':>15}{'ratio':>8}{'compiled ms':>12}{'ratio':>8}{'lava start s':>14}"
          "  identical")
    failures = 0
    lava_steps_s = numpy_steps_s = compiled_steps_s = first_call_s = 0.0
    total_steps = 0
    for name, program, steps, inputs in rows:
        lava, ref, comp, lava_total, first_extra = _run(backends, program, steps, inputs)
        first_call_s += first_extra
        diff = _first_difference(lava, ref, program) or _first_difference(lava, comp, program)
        failures += diff is not None
        lava_ms = 1e3 * lava.wall_time / steps
        numpy_ms = 1e3 * ref.wall_time / steps
        lava_steps_s += lava.wall_time
        numpy_steps_s += ref.wall_time
        compiled_steps_s += comp.wall_time
        comp_ms = 1e3 * comp.wall_time / steps
        total_steps += steps
        print(f"{name:<16}{program.n_neurons:>8}{program.n_synapses:>10}{lava.meta['processes']:>6}{steps:>6}"
              f"{lava_ms:>14.3f}{numpy_ms:>15.4f}{lava_ms / max(numpy_ms, 1e-9):>8.0f}"
              f"{comp_ms:>12.4f}{lava_ms / max(comp_ms, 1e-9):>8.0f}"
              f"{lava_total - lava.wall_time:>14.2f}  {'yes' if diff is None else 'NO: ' + diff}")
    ratio = lava_steps_s / max(numpy_steps_s, 1e-12)
    print(f"\n{len(rows)} networks ({args.networks} random LIF, {args.custom} random custom), {total_steps} steps: "
          f"lava-fixed {1e3 * lava_steps_s / total_steps:.3f} ms/step, "
          f"numpy-fixed {1e3 * numpy_steps_s / total_steps:.4f} ms/step, "
          f"numpy-fixed is {ratio:.0f}x faster (target >= 50x); compiled numpy-fixed "
          f"{1e3 * compiled_steps_s / total_steps:.4f} ms/step, {lava_steps_s / max(compiled_steps_s, 1e-12):.0f}x "
          "faster than lava-fixed (target >= 500x); the compiled path's first runs (numba loading kernel "
          f"signatures from its cache) took {1e3 * first_call_s:.1f} ms more in all; "
          f"{'all bit-identical' if not failures else f'{failures} network(s) DIFFER'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
