"""Multi-chip mapping at scale: a 1M-neuron / ~40M-synapse network onto a Kapoho Point board (8 chips).

    .venv/bin/python benchmarks/bench_multichip.py [--neurons 1000000] [--fan-in 40] [--areas 8]
        [--local 0.9] [--chips 8] [--direct]

The network: ``--areas`` areas, each an excitatory (80 %) and an inhibitory
(20 %) LIF population; every neuron receives ``--fan-in`` synapses on
average, a fraction ``--local`` of them from its own area (E and I in
proportion to their sizes) and the rest spread evenly over the other areas.
Built with the vectorised builder (``Network.connect(p=...)``, then
``neuroport.compile``), or with ``--direct`` as a Program whose CSR blocks are
drawn straight with numpy (the same statistics, less memory and time: the
NIR graph is skipped).

Maps it with :func:`neuroport.multichip.map_chips` twice, packed (fewest
chips) and balanced (all chips), at 10 Hz assumed rates, and prints the build
and map times (s), peak memory (ru_maxrss, MiB) and the per-chip tables. The
issue's target: mapping in < 20 s.
"""

import argparse
import resource
import time

import numpy as np
import scipy.sparse as sp

import neuroport
from neuroport.hardware import KAPOHO_POINT
from neuroport.multichip import map_chips


def sizes(neurons, areas):
    per = neurons // areas
    exc = int(round(0.8 * per))
    return [(f"a{k}_e", exc) for k in range(areas)], [(f"a{k}_i", per - exc) for k in range(areas)]


def plan(neurons, areas, fan_in, local):
    """(pre, post, p) for every pair of populations, and the population sizes."""
    exc, inh = sizes(neurons, areas)
    pops = dict(exc + inh)
    area_of = {name: int(name[1:].split("_")[0]) for name in pops}
    per_area = neurons // areas
    others = neurons - per_area
    pairs = []
    for pre, n_pre in pops.items():
        for post in pops:
            same = area_of[pre] == area_of[post]
            p = fan_in * local / per_area if same else fan_in * (1 - local) / max(others, 1)
            if p > 0:
                pairs.append((pre, post, min(p, 1.0)))
    return pops, pairs


def build_network(pops, pairs, dt):
    net = neuroport.Network()
    for name, n in pops.items():
        net.population(n, neuroport.LIF(tau=0.02, v_threshold=1.0), name=name)
    for k, (pre, post, p) in enumerate(pairs):
        w = 0.1 if pre.endswith("_e") else -0.4
        net.connect(pre, post, weight=w, p=p, seed=k)
    return neuroport.compile(net.to_nir(), dt=dt)


def build_direct(pops, pairs, dt):
    """A Program with random CSR blocks drawn directly (Binomial row counts, uniform columns)."""
    from neuroport.program import Population, Program, Projection

    rng = np.random.default_rng(0)
    populations = {n: Population(n, size, "lif", {"du": np.ones(1), "dv": np.full(1, dt / 0.02),
                                                  "v_threshold": np.ones(1)}, "spikes", None, (size,))
                   for n, size in pops.items()}
    projections = []
    for pre, post, p in pairs:
        n_pre, n_post = pops[pre], pops[post]
        counts = rng.binomial(n_pre, p, size=n_post)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        cols = rng.integers(0, n_pre, size=int(indptr[-1]), dtype=np.int32)   # duplicates possible (p << 1)
        w = sp.csr_matrix((np.full(cols.size, 0.1, dtype=np.float32), cols, indptr), shape=(n_post, n_pre))
        projections.append(Projection(f"{pre}->{post}", pre, post, w, np.ones(cols.size, dtype=np.int8)))
    return Program(populations, tuple(projections), (), {}, (), {"dt": dt, "timing": "hardware"}, "discrete")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--neurons", type=int, default=1_000_000)
    parser.add_argument("--fan-in", type=float, default=40.0, help="mean synapses per neuron")
    parser.add_argument("--areas", type=int, default=8)
    parser.add_argument("--local", type=float, default=0.9, help="fraction of a neuron's inputs from its own area")
    parser.add_argument("--chips", type=int, default=8)
    parser.add_argument("--direct", action="store_true", help="draw the Program's CSR blocks directly")
    args = parser.parse_args()
    dt = 1e-3
    pops, pairs = plan(args.neurons, args.areas, args.fan_in, args.local)
    t0 = time.perf_counter()
    program = (build_direct if args.direct else build_network)(pops, pairs, dt)
    build_s = time.perf_counter() - t0
    how = "Program drawn directly" if args.direct else "Network.connect(p=) + compile"
    print(f"built ({how}): {program.n_neurons} neurons, {program.n_synapses} synapses, "
          f"{len(program.projections)} projections in {build_s:.1f} s; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    spec = KAPOHO_POINT.with_chips(args.chips)
    for balance in (False, True):
        t0 = time.perf_counter()
        chip_map = map_chips(program, spec, balance=balance)
        map_s = time.perf_counter() - t0
        print(f"\nmap_chips(balance={balance}) in {map_s:.2f} s; peak RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
        print(chip_map)


if __name__ == "__main__":
    main()
