"""Tests of neuroport.encoders against independent arithmetic and statistics."""

from __future__ import annotations

import doctest
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroport import encoders
from neuroport.encoders import latency, poisson, population, population_rates, preferred_values, regular
from neuroport.errors import ParameterError


def test_docstring_examples_run():
    failures, tried = doctest.testmod(encoders, optionflags=doctest.ELLIPSIS)
    assert tried >= 6 and failures == 0


# --------------------------------------------------------------------------- poisson
def test_poisson_shape_dtype_values():
    s = poisson([5.0, 50.0, 0.0], steps=300, dt=1e-3, seed=3)
    assert s.shape == (300, 3) and s.dtype == np.uint8
    assert set(np.unique(s)) <= {0, 1}
    assert s[:, 2].sum() == 0
    assert poisson(20.0, steps=7, dt=1e-3).shape == (7, 1)


def test_poisson_mean_rate_within_binomial_bound():
    rate, dt, steps, n = 40.0, 1e-3, 4000, 100
    s = poisson(np.full(n, rate), steps=steps, dt=dt, seed=11)
    p = rate * dt
    trials = steps * n
    sd = math.sqrt(trials * p * (1 - p))
    assert abs(int(s.sum()) - trials * p) < 4.5 * sd
    # per-neuron counts are Binomial(steps, p): their variance matches too
    counts = s.sum(axis=0).astype(float)
    assert 0.6 < counts.var(ddof=1) / (steps * p * (1 - p)) < 1.5


def test_poisson_no_correlation_between_steps():
    s = poisson(np.full(50, 200.0), steps=4000, dt=1e-3, seed=5).astype(float)
    a, b = s[:-1].ravel(), s[1:].ravel()
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.02


def test_poisson_time_varying_rates():
    rates = np.zeros((1000, 4))
    rates[500:] = 300.0
    s = poisson(rates, steps=1000, dt=1e-3, seed=0)
    assert s[:500].sum() == 0
    p, trials = 0.3, 500 * 4
    assert abs(int(s[500:].sum()) - p * trials) < 4.5 * math.sqrt(trials * p * (1 - p))


def test_poisson_rate_one_per_step_is_every_step():
    assert poisson(1000.0, steps=50, dt=1e-3).sum() == 50


def test_poisson_seeding():
    a = poisson(np.full(20, 50.0), steps=500, dt=1e-3, seed=42)
    b = poisson(np.full(20, 50.0), steps=500, dt=1e-3, seed=42)
    c = poisson(np.full(20, 50.0), steps=500, dt=1e-3, seed=43)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("rates, match", [
    (1001.0, "rate"),                      # rate * dt > 1
    (-1.0, ">= 0"),
    ([1.0, float("nan")], "NaN"),
    ([1.0, float("inf")], "NaN or infinite"),
    (np.ones((3, 2)), r"steps=10"),        # 2-D with the wrong number of rows
    (np.ones((2, 2, 2)), "shape"),
    ("fast", "rates_hz"),
])
def test_poisson_refuses_bad_rates(rates, match):
    with pytest.raises(ParameterError, match=match):
        poisson(rates, steps=10, dt=1e-3)


def test_poisson_error_gives_expected_and_actual():
    with pytest.raises(ParameterError) as info:
        poisson(2000.0, steps=10, dt=1e-3)
    msg = str(info.value)
    assert "1000" in msg and "2000" in msg and "rate*dt = 2" in msg
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("kw, name", [
    (dict(steps=-1, dt=1e-3), "steps"), (dict(steps=1.5, dt=1e-3), "steps"),
    (dict(steps=10, dt=0.0), "dt"), (dict(steps=10, dt=float("nan")), "dt"),
])
def test_poisson_refuses_bad_steps_dt(kw, name):
    with pytest.raises(ParameterError, match=name):
        poisson(1.0, **kw)


# --------------------------------------------------------------------------- regular
@settings(max_examples=40, deadline=None)
@given(rate=st.integers(0, 1000), steps=st.integers(0, 3000),
       phase_milli=st.integers(0, 999))
def test_regular_count_is_exact_arithmetic(rate, steps, phase_milli):
    dt, phase = 1e-3, phase_milli / 1000
    s = regular(float(rate), steps=steps, dt=dt, phase=phase)
    expected = math.floor(Fraction(phase_milli, 1000) + steps * Fraction(rate, 1000))
    assert int(s.sum()) == expected


def test_regular_spike_times():
    s = regular([100.0, 250.0], steps=40, dt=1e-3)
    assert np.flatnonzero(s[:, 0]).tolist() == [9, 19, 29, 39]
    assert np.flatnonzero(s[:, 1]).tolist() == [3, 7, 11, 15, 19, 23, 27, 31, 35, 39]
    # half a period of head start: first spike after 5 steps instead of 10
    assert np.flatnonzero(regular(100.0, steps=30, dt=1e-3, phase=0.5)[:, 0]).tolist() == [4, 14, 24]


def test_regular_evenly_spaced_for_non_integer_period():
    s = regular(30.0, steps=2000, dt=1e-3)[:, 0]
    isi = np.diff(np.flatnonzero(s))
    assert set(isi.tolist()) <= {33, 34}
    assert s.sum() == 60


def test_regular_time_varying_rate():
    rates = np.concatenate([np.full((100, 1), 100.0), np.full((100, 1), 500.0)])
    s = regular(rates, steps=200, dt=1e-3)
    assert s[:100].sum() == 10 and s[100:].sum() == 50


def test_regular_is_deterministic_and_validates():
    np.testing.assert_array_equal(regular(70.0, steps=99, dt=1e-3), regular(70.0, steps=99, dt=1e-3))
    for phase in (1.0, -0.1, float("nan")):
        with pytest.raises(ParameterError, match="phase"):
            regular(1.0, steps=5, dt=1e-3, phase=phase)
    with pytest.raises(ParameterError, match="rate"):
        regular(2000.0, steps=5, dt=1e-3)


# --------------------------------------------------------------------------- latency
def test_latency_linear_mapping():
    x = np.array([1.0, 0.75, 0.5, 0.25, 0.01, 0.0])
    s = latency(x, steps=21)
    assert s.shape == (21, 6) and s.dtype == np.uint8
    assert s.sum(axis=0).tolist() == [1, 1, 1, 1, 1, 0]
    times = [int(np.flatnonzero(s[:, i])[0]) for i in range(5)]
    assert times == [0, 5, 10, 15, 20]  # round((1 - x) * 20)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30))
def test_latency_at_most_one_spike_and_ordered(values):
    x = np.array(values)
    s = latency(x, steps=50, t_max_steps=40)
    assert s.sum(axis=0).max() <= 1
    assert not s[40:].any()
    spiking = np.flatnonzero(s.sum(axis=0))
    assert set(spiking.tolist()) == set(np.flatnonzero(x > 0).tolist())
    t = s[:, spiking].argmax(axis=0)
    for i in range(len(spiking)):
        for j in range(len(spiking)):
            if x[spiking[i]] > x[spiking[j]]:
                assert t[i] <= t[j]


def test_latency_threshold_and_window():
    s = latency([0.2, 0.3, 0.9], steps=100, t_max_steps=11, threshold=0.25)
    assert s.sum(axis=0).tolist() == [0, 1, 1]
    assert np.flatnonzero(s[:, 1]).tolist() == [7]  # round(0.7 * 10)
    assert not s[11:].any()


def test_latency_rc_mapping():
    x = np.array([1.0, 0.8, 0.5, 0.3, 0.21, 0.2, 0.1])
    tau, thr = 10.0, 0.2
    s = latency(x, steps=30, tau=tau, threshold=thr)
    for i, xi in enumerate(x):
        if xi <= thr:
            assert s[:, i].sum() == 0
            continue
        t = math.floor(tau * math.log(xi / (xi - thr)) + 0.5)
        if t > 29:
            assert s[:, i].sum() == 0  # beyond the window: dropped
        else:
            assert np.flatnonzero(s[:, i]).tolist() == [t]
    assert [int(np.flatnonzero(s[:, i])[0]) for i in range(4)] == [2, 3, 5, 11]
    assert s[:, 4].sum() == 0  # 0.21: t = 10 ln 21 = 30.4 steps, past the window


@pytest.mark.parametrize("kw, name", [
    (dict(values=[1.2]), "values"), (dict(values=[-0.1]), "values"),
    (dict(values=[float("nan")]), "values"), (dict(values=np.ones((2, 2))), "values"),
    (dict(values=[0.5], t_max_steps=20), "t_max_steps"), (dict(values=[0.5], t_max_steps=0), "t_max_steps"),
    (dict(values=[0.5], threshold=1.0), "threshold"), (dict(values=[0.5], tau=1.0), "threshold"),
    (dict(values=[0.5], tau=-1.0, threshold=0.1), "tau"),
])
def test_latency_refuses_bad_input(kw, name):
    with pytest.raises(ParameterError, match=name):
        latency(steps=10, **kw)


def test_latency_out_of_range_message_says_how_to_normalize():
    with pytest.raises(ParameterError, match=r"\[0, 1\].*normalize.*got range \[0, 3\]"):
        latency([0.0, 3.0], steps=10)


# --------------------------------------------------------------------------- population
def test_preferred_values():
    np.testing.assert_allclose(preferred_values(5, (-1, 1)), [-1, -0.5, 0, 0.5, 1])
    assert preferred_values(1, (0, 4)).tolist() == [2.0]


def test_population_rates_formula():
    v, n, lo, hi, sigma, rmax = [0.3, -0.9], 7, -1.0, 1.0, 0.25, 80.0
    r = population_rates(v, n_neurons=n, value_range=(lo, hi), sigma=sigma, max_rate_hz=rmax)
    assert r.shape == (14,)
    for i, val in enumerate(v):
        for j in range(n):
            mu = lo + j * (hi - lo) / (n - 1)
            assert r[i * n + j] == pytest.approx(rmax * math.exp(-(val - mu) ** 2 / (2 * sigma ** 2)))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(2.0, 10.0), min_size=1, max_size=5), st.integers(2, 20))
def test_population_peak_at_nearest_preferred(values, n):
    r = population_rates(values, n_neurons=n, value_range=(2.0, 10.0), max_rate_hz=50.0)
    mu = np.linspace(2.0, 10.0, n)
    for i, val in enumerate(values):
        block = r[i * n:(i + 1) * n]
        nearest = np.abs(mu - val)
        assert nearest[block.argmax()] == pytest.approx(nearest.min())
        assert block.max() <= 50.0


def test_population_default_sigma_is_spacing():
    r = population_rates(0.0, n_neurons=5, max_rate_hz=100.0)
    assert r[1] == pytest.approx(100.0 * math.exp(-0.5))  # one spacing away


def test_population_spike_counts_peak_at_encoded_value():
    s = population([0.0, 0.5, 1.0], n_neurons=5, max_rate_hz=200.0, steps=3000, dt=1e-3, seed=1)
    assert s.shape == (3000, 15) and s.dtype == np.uint8
    counts = s.sum(axis=0).reshape(3, 5)
    assert counts.argmax(axis=1).tolist() == [0, 2, 4]
    assert abs(int(counts[1, 2]) - 600) < 4.5 * math.sqrt(3000 * 0.2 * 0.8)


def test_population_seeding():
    kw = dict(n_neurons=8, max_rate_hz=100.0, steps=400, dt=1e-3)
    np.testing.assert_array_equal(population(0.4, seed=2, **kw), population(0.4, seed=2, **kw))
    assert not np.array_equal(population(0.4, seed=2, **kw), population(0.4, seed=3, **kw))


@pytest.mark.parametrize("kw, name", [
    (dict(values=1.5), "values"), (dict(values=float("nan")), "values"),
    (dict(values=np.zeros((2, 2))), "values"), (dict(n_neurons=0), "n_neurons"),
    (dict(sigma=0.0), "sigma"), (dict(value_range=(1, 0)), "value_range"),
    (dict(max_rate_hz=-5.0), "max_rate_hz"), (dict(max_rate_hz=2000.0), "rate"),
])
def test_population_refuses_bad_input(kw, name):
    args = dict(values=0.5, n_neurons=4, max_rate_hz=100.0, steps=10, dt=1e-3)
    args.update(kw)
    with pytest.raises(ParameterError, match=name):
        population(**args)
