"""Speed of the numpy engine on a 10,000-neuron network with about 1M synapses.

Prints steps/s and synaptic events/s (spikes x fan-out delivered per second).

    .venv/bin/python benchmarks/bench_numpy.py [--steps 1000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import neuroport
from neuroport import encoders


def build(n_exc=8000, n_inh=2000, p=0.01, seed=0):
    """Sparse recurrent E/I LIF network: 10,000 neurons, p = 1 % -> ~1M synapses."""
    net = neuroport.Network()
    x = net.input(1000, name="x")
    exc = net.population(n_exc, neuroport.LIF(tau=0.02, v_threshold=1.0), name="exc")
    inh = net.population(n_inh, neuroport.LIF(tau=0.01, v_threshold=1.0), name="inh")
    net.connect(x, exc, weight=5.0, p=0.02, seed=seed + 1)
    net.connect(x, inh, weight=4.0, p=0.02, seed=seed + 2)
    net.connect(exc, exc, weight=1.0, p=p, seed=seed + 3, allow_self=False)
    net.connect(exc, inh, weight=1.0, p=p, seed=seed + 4)
    net.connect(inh, exc, weight=-3.0, p=p, seed=seed + 5)
    net.connect(inh, inh, weight=-2.0, p=p, seed=seed + 6, allow_self=False)
    return net


def events(program, result) -> int:
    """Synaptic events: for every spike, the number of synapses it was delivered to."""
    total = 0
    for proj in program.projections:
        fanout = np.diff(proj.weights.tocsc().indptr)
        total += int(fanout[result.spikes[proj.pre].neurons].sum())
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--backends", default="numpy", help="comma-separated modes, e.g. numpy,numpy-fixed")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    program = build().compile(dt=1e-3)
    print(f"built and compiled in {time.perf_counter() - t0:.1f} s: {program.n_neurons} neurons, "
          f"{program.n_synapses} synapses")
    inputs = encoders.poisson(np.full(1000, 10.0), steps=args.steps, dt=1e-3, seed=1)
    for mode in args.backends.split(","):
        result = neuroport.run(program if mode != "numpy-fixed" else program, backend=mode,
                               steps=args.steps, inputs=inputs, progress=False)
        ev = events(program, result)
        rates = {k: round(v.rate_hz(1e-3), 1) for k, v in result.spikes.items()}
        print(f"{mode:<12} {args.steps / result.wall_time:10.0f} steps/s  {ev / result.wall_time / 1e6:8.2f} M events/s  "
              f"({result.wall_time:.2f} s, rates Hz {rates})")


if __name__ == "__main__":
    main()
