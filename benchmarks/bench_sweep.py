"""An 8-point COBA sweep serially and on a 2-worker loopback Dask cluster: wall times, speedup, equality.

    .venv/bin/python benchmarks/bench_sweep.py [--n 4000] [--steps 10000] [--workers 2]

The grid is ``weight_scale`` in (0.8, 1.0, 1.2, 1.4) x ``seed`` in (0, 1) of
the COBA benchmark network (Brette et al. 2007; --n neurons, p = 2 %, dt =
0.1 ms; the default 10,000 steps are 1 s). Three timings (seconds):

* serial: ``neuroport.sweep(..., workers=0)``, one run after another here;
* dask, cold: ``workers=N`` including starting the LocalCluster, the
  workers importing neuroport and closing it again (what one call costs);
* dask, warm: the same sweep on an already started ``distributed.Client``.

The speedup is serial / dask. The table of both must be identical (spike
counts, rates and ISI CV per population): the script exits 1 otherwise. On
a shared machine, other processes' load enters every timing: the load
average is printed.
"""

import argparse
import os
import sys
import time

import neuroport
from neuroport.models.networks.benchmarks import coba_network

GRID = {"weight_scale": [0.8, 1.0, 1.2, 1.4], "seed": [0, 1]}
DT = 1e-4


def spike_counts(result):
    return {f"spikes_{name}": train.count for name, train in result.spikes.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=4000, help="neurons per network (default 4000)")
    parser.add_argument("--steps", type=int, default=10_000, help="0.1 ms steps per run (default 10,000: 1 s)")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (default 2)")
    args = parser.parse_args()

    import distributed
    import pandas as pd

    def build(weight_scale, seed):
        return coba_network(n_neurons=args.n, weight_scale=weight_scale, seed=seed)

    options = dict(steps=args.steps, dt=DT, metrics=["rate", "cv", spike_counts], progress=False)
    print(f"COBA sweep: 8 points, n={args.n}, {args.steps} steps of 0.1 ms; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    t0 = time.perf_counter()
    serial = neuroport.sweep(build, GRID, workers=0, **options)
    t_serial = time.perf_counter() - t0
    print(f"serial:                {t_serial:8.1f} s  (runs {serial['wall_s'].sum():.1f} s)", flush=True)

    t0 = time.perf_counter()
    cold = neuroport.sweep(build, GRID, workers=args.workers, **options)
    t_cold = time.perf_counter() - t0
    print(f"dask {args.workers} workers, cold: {t_cold:8.1f} s  (cluster start + imports included)", flush=True)

    cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        client.run(lambda: __import__("neuroport.backends.numpy"))  # each worker imports neuroport first
        t0 = time.perf_counter()
        warm = neuroport.sweep(build, GRID, client=client, **options)
        t_warm = time.perf_counter() - t0
    finally:
        client.close()
        cluster.close()
    print(f"dask {args.workers} workers, warm: {t_warm:8.1f} s", flush=True)
    print(f"speedup serial / dask: {t_serial / t_cold:.2f}x cold, {t_serial / t_warm:.2f}x warm "
          f"(load average now {os.getloadavg()[0]:.1f})")

    columns = [c for c in serial.columns if c not in ("wall_s", "cached")]
    identical = all(serial[columns].equals(t[columns]) for t in (cold, warm))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(serial[["weight_scale", "seed", "rate_exc", "rate_inh", "cv_exc", "spikes_exc", "spikes_inh",
                      "status"]].to_string(index=False))
    print(f"tables identical (spike counts, rates, CV): {identical}")
    return 0 if identical and (serial["status"] == "ok").all() else 1


if __name__ == "__main__":
    sys.exit(main())
