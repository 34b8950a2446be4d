"""A fixed, seeded subset of the fuzz run (benchmarks/fuzz.py, `make fuzz`): 40 mutated files, 4 per kind."""

import collections

from neuroport.testing.fuzz import KINDS, generate, run_case


def test_every_mutated_file_is_refused_cleanly_or_runs(tmp_path):
    outcomes = collections.defaultdict(collections.Counter)
    bad = []
    for path, kind in generate(tmp_path, 4 * len(KINDS), seed=12):
        outcome, detail = run_case(path, timeout_s=60)
        outcomes[kind][outcome] += 1
        if outcome not in ("refused", "ok"):
            bad.append((kind, outcome, detail))
    assert not bad
    assert set(outcomes) == set(KINDS)
    assert sum(c["refused"] for c in outcomes.values()) >= 20  # the mutations do break files
