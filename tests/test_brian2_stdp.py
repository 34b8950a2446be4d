"""STDP (neuroport.PlasticLinear) on Brian2 against the numpy engine (docs/brian2.md).

Stated tolerance: final weights within 1e-9 (absolute, graph units) of the
numpy engine's, for pair (hard and soft bounds) and Diehl & Cook rules, in
both timing modes; measured: equal to rounding (<= 2e-16).
"""

import nir
import numpy as np
import pytest

import neuroport
from neuroport.backends.brian2 import _compat
from neuroport.compare import compare
from neuroport.nodes import PlasticLinear

pytestmark = pytest.mark.skipif(not _compat.available()[0], reason=f"brian2: {_compat.available()[1]}")

TOL = 1e-9
DT, T0, W0 = 1e-3, 60, 0.5
PAIR = dict(rule="pair", tau_pre=0.02, tau_post=0.02, a_plus=0.01, a_minus=0.012, w_min=0.0, w_max=1.0)
RULES = {
    "pair-hard": PAIR,
    "pair-soft": {**PAIR, "bounds": "soft", "tau_post": 0.03},
    "diehl-cook": dict(rule="diehl_cook", tau_pre=0.02, tau_post=0.02, eta=0.05, x_tar=0.4, mu=0.5,
                       a_minus=0.002, w_min=0.0, w_max=1.0),
}


def pairing_graph(n, rule, w0=W0):
    """Channel k: pre -> PlasticLinear (diagonal) -> y_k (IF); ``force`` makes y_k spike on demand."""
    return nir.NIRGraph(nodes={
        "pre": nir.Input(input_type={"input": np.array([n])}),
        "force": nir.Input(input_type={"input": np.array([n])}),
        "w": PlasticLinear(weight=np.eye(n) * w0, connectivity=np.eye(n, dtype=bool), **rule),
        "drive": nir.Linear(weight=1000.0 * np.eye(n)),
        "y": nir.IF(r=np.ones(n), v_threshold=np.full(n, 0.5), v_reset=np.zeros(n)),
    }, edges=[("pre", "w"), ("w", "y"), ("force", "drive"), ("drive", "y")], type_check=False)


def protocol(shifts, *, pairs=1, period=120):
    """``pairs`` pre spikes per channel every ``period`` steps, post forced ``shift`` steps after each."""
    n = len(shifts)
    steps = T0 + pairs * period
    pre, force = np.zeros((steps, n)), np.zeros((steps, n))
    for p in range(pairs):
        pre[T0 + p * period, :] = 1
        force[T0 + p * period + np.asarray(shifts), np.arange(n)] = 1
    return steps, {"pre": pre, "force": force}


def run_both(graph, steps, inputs, **opts):
    a = neuroport.run(graph, backend="numpy", dt=DT, steps=steps, inputs=inputs, **opts)
    b = neuroport.run(graph, backend="brian2", dt=DT, steps=steps, inputs=inputs, **opts)
    return a, b


SHIFTS = [-40, -10, -3, -1, 0, 1, 3, 10, 40]


@pytest.mark.parametrize("timing", ["ideal", "hardware"])
@pytest.mark.parametrize("rule", list(RULES))
def test_weight_trajectories_of_pairing_protocols(rule, timing):
    """Five pre/post pairings per synapse at several time differences of both signs; the weights after
    1, 3 and 5 pairings (the trajectory) agree with the numpy engine."""
    graph = pairing_graph(len(SHIFTS), RULES[rule], w0=0.3)
    for pairs in (1, 3, 5):
        steps, inputs = protocol(SHIFTS, pairs=pairs)
        a, b = run_both(graph, steps, inputs, timing=timing)
        assert np.array_equal(a.spikes["y"].steps, b.spikes["y"].steps)
        wa, wb = a.weights["w"], b.weights["w"]
        assert wb.shape == (len(SHIFTS), len(SHIFTS)) and np.all(wb[~np.eye(len(SHIFTS), dtype=bool)] == 0)
        assert np.max(np.abs(wa - wb)) <= TOL
        assert np.any(np.abs(np.diag(wa) - 0.3) > 1e-3)  # learning happened


@pytest.mark.parametrize("scheme", ["euler", "exact"])
def test_stdp_window(scheme):
    """The classic window, -50..+50 ms in one run: numpy and Brian2 agree; with scheme='exact' both equal
    a_plus exp(-dt/tau_pre) / -a_minus exp(dt/tau_post); with 'euler' the traces decay by (1 - dt/tau) per
    step, which is the exponential to within 7 % at 50 ms (2.5 tau)."""
    shifts = np.arange(-50, 51)
    steps, inputs = protocol(shifts)
    a, b = run_both(pairing_graph(shifts.size, PAIR), steps, inputs, timing="hardware", scheme=scheme)
    dw_a, dw_b = np.diag(a.weights["w"]) - W0, np.diag(b.weights["w"]) - W0
    assert np.max(np.abs(dw_a - dw_b)) <= TOL
    # timing="hardware": the forcing drive takes one step, so the post neuron fires at T0 + shift + 1
    # while learning sees the pre spike at its emission T0 (as Lava): the pairing interval is shift + 1
    delta = shifts + 1
    s = delta * DT
    if scheme == "exact":
        expected = np.where(s > 0, 0.01 * np.exp(-s / 0.02), -0.012 * np.exp(s / 0.02))
        expected[delta == 0] = 0.01 - 0.012
        np.testing.assert_allclose(dw_b, expected, rtol=1e-9, atol=1e-15)
    else:
        k = (1 - DT / 0.02) ** np.abs(delta)
        expected = np.where(delta > 0, 0.01 * k, np.where(delta < 0, -0.012 * k, -0.002))
        np.testing.assert_allclose(dw_b, expected, rtol=1e-9)
        assert np.all(np.abs(dw_b - np.where(delta > 0, 0.01, -0.012) * np.exp(-np.abs(s) / 0.02))[delta != 0]
                      <= 0.07 * np.abs(dw_b[delta != 0]))
    assert dw_b[shifts == 10][0] > 0 > dw_b[shifts == -10][0]


def test_hard_bounds_clip_and_absent_synapses_stay_absent():
    graph = pairing_graph(4, {**PAIR, "a_plus": 0.5, "a_minus": 0.5}, w0=0.8)
    steps, inputs = protocol([1, 2, -1, -2], pairs=3)
    a, b = run_both(graph, steps, inputs, timing="ideal")
    assert np.max(np.abs(a.weights["w"] - b.weights["w"])) <= TOL
    assert np.allclose(np.diag(b.weights["w"]), [1.0, 1.0, 0.0, 0.0])


@pytest.mark.parametrize("rule", ["pair-soft", "diehl-cook"])
def test_poisson_driven_learning(rule):
    """20 Poisson inputs -> 5 plastic LIF neurons (with a 2 ms delay), 2 s: identical spikes and weights."""
    rng = np.random.default_rng(3)
    net = nir.NIRGraph(nodes={
        "x": nir.Input(input_type={"input": np.array([20])}),
        "w": PlasticLinear(weight=rng.uniform(0.2, 0.8, (5, 20)), connectivity=rng.random((5, 20)) < 0.7,
                           **RULES[rule]),
        "d": nir.Delay(delay=np.full(5, 2e-3)),
        "y": neuroport.LIF(tau=0.02, v_threshold=1.0, r=8.0).to_nir(5),
    }, edges=[("x", "w"), ("w", "d"), ("d", "y")], type_check=False)
    steps = 2000
    x = (rng.random((steps, 20)) < 30 * DT).astype(float)
    for timing in ("ideal", "hardware"):
        a, b = run_both(net, steps, {"x": x}, timing=timing)
        rep = compare(a, b, inputs=("x",))
        assert a.spikes["y"].count > 100 and rep.spikes_identical, str(rep)
        assert np.max(np.abs(a.weights["w"] - b.weights["w"])) <= TOL
        assert np.max(np.abs(a.weights["w"] - net.nodes["w"].weight * net.nodes["w"].connectivity)) > 0.01
