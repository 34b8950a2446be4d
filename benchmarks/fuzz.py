"""Fuzz the reader/compiler/quantizer/engines with mutated .nir files (issue 12): counts per mutation kind.

    .venv/bin/python benchmarks/fuzz.py [COUNT] [SEED]      (default 300 cases, seed 0)

Each case runs in a forked child under RLIMIT_AS (2 GiB) and a 60 s limit. Done when every case is
'refused' (a NeuroportError) or 'ok' (ran, finite): 0 escape, 0 oom, 0 hang, 0 invalid.
"""

import collections
import sys
import tempfile
import time

from neuroport.testing.fuzz import KINDS, generate, run_case


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    table = collections.defaultdict(collections.Counter)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        for path, kind in generate(d, count, seed):
            outcome, detail = run_case(path)
            table[kind][outcome] += 1
            if outcome not in ("refused", "ok"):
                print(f"{outcome:<8} {kind:<14} {detail}")
    outcomes = ("refused", "ok", "escape", "invalid", "oom", "hang")
    print(f"{count} cases, seed {seed}, {time.perf_counter() - t0:.1f} s")
    print(f"{'kind':<14}" + "".join(f"{o:>9}" for o in outcomes))
    for kind in KINDS:
        print(f"{kind:<14}" + "".join(f"{table[kind][o]:>9}" for o in outcomes))
    bad = sum(table[k][o] for k in table for o in outcomes[2:])
    print(f"not refused-or-ok: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
