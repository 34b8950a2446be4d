"""neuroport.compare: metrics checked against hand-computed values (independent of the code)."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from neuroport.backends.base import Result, SpikeTrain
from neuroport.compare import (EquivalenceReport, compare, criteria, first_divergence, is_recurrent, isi_cv,
                               matched_fraction, van_rossum)
from neuroport.program import Population, Program, Projection

DT = 1e-3


def train(pairs, size=1, steps=1000):
    pairs = sorted(pairs)
    st = np.array([p[0] for p in pairs], dtype=np.int64)
    nr = np.array([p[1] for p in pairs], dtype=np.int64)
    return SpikeTrain(st, nr, size, steps)


def result(name, trains, states=None, steps=1000):
    return Result(name, DT, steps, trains, states or {})


def test_matching_within_k_is_one_to_one_and_symmetric():
    a = train([(10, 0), (20, 0), (30, 0)])
    b = train([(11, 0), (22, 0), (30, 0)])
    assert matched_fraction(a, b, k=1) == (2 / 3, 2 / 3)  # 10~11 and 30~30; 20 vs 22 is 2 steps apart
    assert matched_fraction(a, b, k=2) == (1.0, 1.0)
    # one spike of b cannot pay for two spikes of a
    a2, b2 = train([(10, 0), (11, 0)]), train([(10, 0)])
    assert matched_fraction(a2, b2, k=1) == (0.5, 1.0)
    rep = compare(result("x", {"p": a2}), result("y", {"p": b2}))
    assert rep.populations["p"].match == 0.5
    # spikes of different neurons never match
    assert matched_fraction(train([(5, 0)], size=2), train([(5, 1)], size=2), k=3) == (0.0, 0.0)
    # nothing on both sides is a perfect match
    assert matched_fraction(train([], size=3), train([], size=3)) == (1.0, 1.0)


def test_van_rossum_single_spike_against_nothing():
    tau, steps = 0.01, 1000  # dt / tau = 0.1
    d = van_rossum(train([(0, 0)], steps=steps), train([], steps=steps), tau=tau, dt=DT)
    # filtered train exp(-0.1 t); D^2 = 0.1 * sum_t exp(-0.2 t) = 0.1 / (1 - exp(-0.2)) (geometric series)
    expected = math.sqrt(0.1 * (1 - math.exp(-0.2 * steps)) / (1 - math.exp(-0.2)))
    assert d[0] == pytest.approx(expected, rel=1e-12)
    assert d[0] == pytest.approx(0.7427, abs=1e-4)
    same = van_rossum(train([(3, 0), (50, 0)]), train([(3, 0), (50, 0)]), tau=tau, dt=DT)
    assert same[0] == 0.0


def test_van_rossum_shifted_spike():
    # spike at 0 vs spike at 1: difference is 1 at t=0, then (1 - e^{0.1}) e^{-0.1 t} ... = -(e^0.1 - 1) e^{-0.1 t}
    # for t >= 1 i.e. sum = 1 + (e^{0.1}-1)^2 * sum_{t>=1} e^{-0.2 t}
    steps = 2000
    d = van_rossum(train([(0, 0)], steps=steps), train([(1, 0)], steps=steps), tau=0.01, dt=DT)[0]
    q = math.exp(-0.2)
    total = 1 + (math.exp(0.1) - 1) ** 2 * q / (1 - q)
    assert d == pytest.approx(math.sqrt(0.1 * total), rel=1e-9)


def test_isi_cv_mean_over_neurons_with_three_spikes():
    t = train([(0, 0), (10, 0), (30, 0),  # isi 10, 20: mean 15, std 5 -> 1/3
               (0, 1), (10, 1), (20, 1), (30, 1),  # regular -> 0
               (0, 2), (40, 2)], size=3)  # two spikes: left out
    assert isi_cv(t) == pytest.approx((1 / 3 + 0) / 2)
    assert math.isnan(isi_cv(train([(1, 0), (5, 0)])))


def test_first_divergence_and_rates():
    a = train([(5, 0), (9, 1)], size=2)
    b = train([(5, 0), (9, 0)], size=2)
    assert first_divergence(a, b) == 9
    assert first_divergence(a, a) is None
    rep = compare(result("numpy", {"p": a}), result("brian2", {"p": b}))
    m = rep.populations["p"]
    assert m.count_a == 2 and m.rate_a_hz == pytest.approx(2 / (2 * 1000 * DT))  # 1 Hz per neuron
    assert rep.first_divergence == 9 and not rep.spikes_identical
    d = rep.to_dict()
    assert d["populations"]["p"]["first_divergence"] == 9
    assert "numpy vs brian2" in str(rep)


def test_state_differences():
    va = np.array([[0.0, 1.0], [2.0, -4.0]])
    vb = np.array([[0.0, 1.5], [2.0, -4.0]])
    rep = compare(result("a", {}, {"p": {"v": va}}, steps=2), result("b", {}, {"p": {"v": vb}}, steps=2))
    s = rep.states["p.v"]
    assert s.max_abs == 0.5
    assert s.max_rel == pytest.approx(0.5 / 4.0)


def _report(a, b, **metrics):
    rep = EquivalenceReport(a, b, DT, 1000, 1, 0.01)
    from neuroport.compare import PopulationMetrics

    base = dict(count_a=100, count_b=100, rate_a_hz=10.0, rate_b_hz=10.0, match_ab=1.0, match_ba=1.0,
                match=1.0, van_rossum=0.0, cv_a=0.5, cv_b=0.5, first_divergence=None)
    base.update(metrics)
    rep.populations["p"] = PopulationMetrics(**base)
    return rep


def test_criteria_brian2_feedforward_and_recurrent():
    ok = criteria(_report("numpy", "brian2", match=0.995), recurrent=False, kinds=("float", "nir"))
    assert [r["status"] for r in ok] == ["PASS"] and ok[0]["threshold"] == 0.99
    bad = criteria(_report("numpy", "brian2", match=0.98), recurrent=False, kinds=("float", "nir"))
    assert bad[0]["status"] == "FAIL" and bad[0]["pair"] == "numpy vs brian2"
    rec = criteria(_report("numpy", "brian2", rate_b_hz=10.4, cv_b=0.54), recurrent=True, kinds=("float", "nir"))
    assert [r["status"] for r in rec] == ["PASS", "PASS"]
    assert rec[0]["value"] == pytest.approx(0.04) and rec[1]["value"] == pytest.approx(0.08)
    rec = criteria(_report("numpy", "brian2", rate_b_hz=11.0, cv_b=0.6), recurrent=True, kinds=("float", "nir"))
    assert [r["status"] for r in rec] == ["FAIL", "FAIL"]


def test_criteria_float_and_fixed_pairs():
    rows = criteria(_report("numpy", "lava", first_divergence=17), recurrent=False, kinds=("float", "float"))
    assert rows[0]["status"] == "FAIL" and rows[0]["value"] == 17
    rows = criteria(_report("numpy-fixed", "lava-fixed"), recurrent=True, kinds=("fixed", "fixed"))
    assert rows[0]["status"] == "PASS"
    rows = criteria(_report("numpy", "numpy-fixed", match=0.85, rate_b_hz=11.0), recurrent=False,
                    kinds=("float", "fixed"))
    assert [r["status"] for r in rows] == ["PASS", "PASS"]


def _program(edges, extra=None):
    pops = {n: Population(n, 1, "lif") for n in "abc"}
    projs = tuple(Projection(f"{a}->{b}", a, b, sp.csr_matrix(np.ones((1, 1))), np.array([1]), extra or {})
                  for a, b in edges)
    return Program(pops, projs, ("a",), {})


def test_is_recurrent():
    assert not is_recurrent(_program([("a", "b"), ("b", "c"), ("a", "c")]))
    assert is_recurrent(_program([("a", "b"), ("b", "c"), ("c", "b")]))
    assert is_recurrent(_program([("b", "b")]))
    assert is_recurrent(_program([("a", "b")], {"recurrent": True}))
