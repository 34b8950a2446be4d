"""COBA benchmark (Brette et al. 2007, benchmark 1) on numpy and Brian2: rates, ISI CV, wall time.

    .venv/bin/python benchmarks/bench_coba.py [--n 4000] [--p 0.02] [--steps 10000] [--scheme euler]

4000 conductance-based LIF neurons (80 % excitatory, p = 2 %), dt = 0.1 ms,
1 s (10,000 steps), no input: self-sustained activity from the published
random initial state. Prints per backend the mean rate and ISI CV (mean over
neurons with >= 3 spikes) of both populations, the relative differences
(criterion: within 10 %) and the wall times.
"""

import argparse
import time

import neuroport
from neuroport.compare import compare
from neuroport.models.networks.benchmarks import coba_network


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--p", type=float, default=0.02)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--scheme", default="euler", choices=("euler", "exact"))
    args = parser.parse_args()
    t0 = time.perf_counter()
    program = neuroport.compile(coba_network(n_neurons=args.n, p=args.p).to_nir(), dt=1e-4, scheme=args.scheme)
    print(f"COBA n={args.n} p={args.p} scheme={args.scheme}: {program.n_neurons} neurons, "
          f"{sum(p.nnz for p in program.projections)} synapses (built in {time.perf_counter() - t0:.1f} s)")
    results = {}
    for backend in ("numpy", "brian2"):
        t0 = time.perf_counter()
        results[backend] = neuroport.run(program, backend=backend, steps=args.steps, progress=False)
        print(f"  {backend:<7} total {time.perf_counter() - t0:6.2f} s (loop {results[backend].wall_time:.2f} s)")
    rep = compare(results["numpy"], results["brian2"])
    print(rep)
    for name, m in rep.populations.items():
        print(f"  {name}: rate {m.rate_a_hz:.2f} / {m.rate_b_hz:.2f} Hz (rel diff "
              f"{abs(m.rate_b_hz - m.rate_a_hz) / m.rate_a_hz:.2%}), ISI CV {m.cv_a:.3f} / {m.cv_b:.3f} "
              f"(rel diff {abs(m.cv_b - m.cv_a) / m.cv_a:.2%}); criterion 10 %")


if __name__ == "__main__":
    main()
