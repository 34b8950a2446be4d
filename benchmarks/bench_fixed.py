"""Steps per second of ``numpy`` (float64) vs ``numpy-fixed`` (Lava's integers) on one network.

The network: 1,000 Poisson inputs, 8,000 excitatory + 2,000 inhibitory LIF
neurons, about 1.0 M synapses (recurrent E/I with 1-3 step delays), built as a
Program directly and quantized with ``neuroport.quantize``.

    python benchmarks/bench_fixed.py [--steps 300] [--coba]

``--coba`` also runs the COBA benchmark network (4,000 CondLIF, dt = 0.1 ms,
10,000 steps = 1 s, no input) on both engines and prints the mean rates
(the quantized network should stay within 15 % of the float one).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import scipy.sparse as sp

from neuroport.backends.numpy import NumpyBackend
from neuroport.backends.numpy_fixed import NumpyFixedBackend
from neuroport.errors import QuantizationWarning
from neuroport.program import Population, Program, Projection
from neuroport.quantize import quantize


def _proj(name, pre, post, n_pre, n_post, per_row, lo, hi, rng, delays=(1,)):
    cols = rng.integers(0, n_pre, size=n_post * per_row)
    rows = np.repeat(np.arange(n_post), per_row)
    w = sp.csr_matrix((rng.uniform(lo, hi, rows.size), (rows, cols)), shape=(n_post, n_pre))
    w.sum_duplicates()
    return Projection(name, pre, post, w, rng.choice(np.asarray(delays), size=w.nnz).astype(np.int64))


def network(seed: int = 0, n_in: int = 1000, n_e: int = 8000, n_i: int = 2000) -> Program:
    rng = np.random.default_rng(seed)

    def lif(name, n, dv):
        params = {"du": np.ones(n), "dv": np.full(n, dv), "v_threshold": np.ones(n), "bias": np.zeros(n),
                  "u_bias": np.zeros(n), "refractory": np.zeros(n, np.int64)}
        return Population(name, n, "lif", params, "spikes", np.zeros(n), (n,), {"reset": "zero"})

    pops = {"x": Population("x", n_in, "input", {}, "state", np.zeros(n_in), (n_in,)),
            "exc": lif("exc", n_e, 0.05), "inh": lif("inh", n_i, 0.1)}
    projs = (_proj("x->exc", "x", "exc", n_in, n_e, 25, 0, 0.2, rng),
             _proj("x->inh", "x", "inh", n_in, n_i, 25, 0, 0.2, rng),
             _proj("exc->exc", "exc", "exc", n_e, n_e, 80, 0, 0.02, rng, delays=(1, 2, 3)),
             _proj("exc->inh", "exc", "inh", n_e, n_i, 80, 0, 0.03, rng),
             _proj("inh->exc", "inh", "exc", n_i, n_e, 20, -0.1, 0, rng, delays=(1, 2)),
             _proj("inh->inh", "inh", "inh", n_i, n_i, 20, -0.05, 0, rng))
    return Program(pops, projs, ("x",), {}, (), {"dt": 1e-3, "scheme": "euler", "reset": "zero",
                                                 "timing": "hardware"}, "discrete")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--coba", action="store_true", help="also run the COBA benchmark network (1 s)")
    ap.add_argument("--coba-steps", type=int, default=10_000)
    args = ap.parse_args(argv)
    program = network()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", QuantizationWarning)
        t0 = time.perf_counter()
        fixed, report = quantize(program)
        tq = time.perf_counter() - t0
    x = (np.random.default_rng(1).random((args.steps, 1000)) < 0.02).astype(float)
    print(f"network: {program.n_neurons} neurons, {program.n_synapses} synapses, {args.steps} steps "
          f"(quantize: {tq:.2f} s, {len(caught)} warning(s))")
    rates = {}
    for name, backend, prog in (("numpy", NumpyBackend(), program), ("numpy-fixed", NumpyFixedBackend(), fixed)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", QuantizationWarning)
            r = backend.run(prog, steps=args.steps, inputs=x, progress=False)
        rates[name] = args.steps / r.wall_time
        spikes = sum(t.count for n, t in r.spikes.items() if n != "x")
        print(f"{name:12s} {rates[name]:8.1f} steps/s  ({r.wall_time:.2f} s, {spikes} spikes, "
              f"{spikes / (program.n_neurons * args.steps * 1e-3):.1f} Hz mean)")
    print(f"ratio numpy-fixed / numpy: {rates['numpy-fixed'] / rates['numpy']:.2f} (speed)")
    if args.coba:
        coba(args.coba_steps)


def coba(steps: int = 10_000) -> None:
    """COBA benchmark: float vs quantized mean rates over ``steps`` steps of 0.1 ms."""
    import neuroport
    from neuroport.models.networks.benchmarks import coba_network

    program = neuroport.compile(coba_network().to_nir(), dt=1e-4)
    fixed, report = quantize(program, strict=True)
    out = {}
    for name, backend, prog in (("numpy", NumpyBackend(), program), ("numpy-fixed", NumpyFixedBackend(), fixed)):
        r = backend.run(prog, steps=steps, progress=False)
        out[name] = {n: r.spikes[n].rate_hz(program.dt) for n in ("exc", "inh")}
        print(f"COBA {name:12s} exc {out[name]['exc']:6.2f} Hz  inh {out[name]['inh']:6.2f} Hz  "
              f"({steps / r.wall_time:.0f} steps/s)")
    for n in ("exc", "inh"):
        a, b = out["numpy"][n], out["numpy-fixed"][n]
        print(f"COBA {n}: fixed vs float rate error {abs(b - a) / a:.3f} (limit 0.15)")


if __name__ == "__main__":
    main()
