"""Sweep of bad CLI invocations over every subcommand (issue 12 defect 7): prints counts per outcome.

    .venv/bin/python benchmarks/cli_sweep.py [-v]

Outcomes: usage (exit 2), failure (exit 1), ok (exit 0: the invocation was in fact valid), traceback (an
exception escaped, or the CLI's catch-all 'internal error' line), timeout. The goal is 0 tracebacks, 0 timeouts.
"""

import collections
import sys
import tempfile
import time

from neuroport.testing.cli_sweep import bad_invocations, make_files, run_one


def main() -> int:
    verbose = "-v" in sys.argv
    with tempfile.TemporaryDirectory() as d:
        cases = bad_invocations(make_files(d))
        counts = collections.Counter()
        t0 = time.perf_counter()
        for argv in cases:
            outcome, line = run_one(argv)
            counts[outcome] += 1
            if verbose or outcome in ("traceback", "timeout"):
                print(f"{outcome:<9} {' '.join(argv)[-90:]}\n          {line[:200]}")
    print(f"{len(cases)} bad invocations in {time.perf_counter() - t0:.1f} s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"tracebacks: {counts['traceback']}, timeouts: {counts['timeout']}")
    return 1 if counts["traceback"] or counts["timeout"] else 0


if __name__ == "__main__":
    sys.exit(main())
