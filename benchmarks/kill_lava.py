"""Kill Lava runs with SIGINT, SIGTERM and SIGKILL (5 each by default) and print what survives.

    .venv/bin/python benchmarks/kill_lava.py [--repeat 5]

Each kill: :func:`neuroport.backends.lava.kill_check.kill_once` (a child running ``lava-fixed`` in its own
session, signalled once Lava's runtime is up). Prints one line per kill and a total per signal:
processes recorded while running, survivors after the grace period, the run's /dev/shm segments
and how many are left. Exit status 1 if anything survived.
"""

from __future__ import annotations

import argparse
import signal
import sys

from neuroport.backends.lava.kill_check import cleanup, kill_once


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="kills per signal (default 5)")
    args = ap.parse_args(argv)
    bad = 0
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        survivors = shm_left = 0
        for k in range(args.repeat):
            r = kill_once(sig)
            cleanup(r)
            print(f"{r['signal']} #{k + 1}: workers {r['workers']}, survivors {r['survivors']}, "
                  f"shm {r['shm']}, shm left {r['shm_left']}, exit {r['exit']}", flush=True)
            survivors += r["survivors"]
            shm_left += r["shm_left"]
        print(f"{signal.Signals(sig).name}: {args.repeat} kills, {survivors} surviving processes, "
              f"{shm_left} /dev/shm segments left", flush=True)
        bad += survivors + shm_left
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
