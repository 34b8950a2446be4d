"""Spike encoders: statistics against binomial bounds, exact counts from arithmetic, errors."""

import math

import numpy as np
import pytest

from neuroport import encoders
from neuroport.errors import ParameterError


def test_poisson_rate_within_binomial_bounds():
    steps, dt, rate, n = 20000, 1e-3, 30.0, 5
    s = encoders.poisson(np.full(n, rate), steps=steps, dt=dt, seed=3)
    assert s.shape == (steps, n) and s.dtype == np.uint8
    p = rate * dt
    mean, sd = steps * p, math.sqrt(steps * p * (1 - p))
    counts = s.sum(axis=0)
    assert np.all(np.abs(counts - mean) < 5 * sd), counts


def test_poisson_seeding():
    a = encoders.poisson([50.0, 50.0], steps=500, dt=1e-3, seed=1)
    b = encoders.poisson([50.0, 50.0], steps=500, dt=1e-3, seed=1)
    c = encoders.poisson([50.0, 50.0], steps=500, dt=1e-3, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_poisson_time_varying_rates():
    rates = np.zeros((1000, 1))
    rates[500:] = 200.0
    s = encoders.poisson(rates, steps=1000, dt=1e-3, seed=0)
    assert s[:500].sum() == 0 and s[500:].sum() > 50


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf, 2000.0])
def test_poisson_refuses_bad_rates(bad):
    with pytest.raises(ParameterError, match="rate"):
        encoders.poisson([bad], steps=10, dt=1e-3)


def test_regular_counts_are_exact():
    s = encoders.regular([10.0, 250.0, 0.0], steps=1000, dt=1e-3)
    np.testing.assert_array_equal(s.sum(axis=0), [10, 250, 0])
    isi = np.diff(np.flatnonzero(s[:, 1]))
    assert set(isi.tolist()) == {4}


def test_latency_order_and_single_spike():
    s = encoders.latency([1.0, 0.5, 0.1, 0.0], steps=11)
    first = [np.flatnonzero(s[:, i]) for i in range(4)]
    assert [f.tolist() for f in first[:3]] == [[0], [5], [9]]  # round((1 - x) * 10)
    assert first[3].size == 0  # at or below the threshold: no spike
    assert s.sum(axis=0).max() == 1
    with pytest.raises(ParameterError, match=r"\[0, 1\]"):
        encoders.latency([1.5], steps=5)


def test_population_code_peaks_at_nearest_preferred_value():
    values = np.array([0.0, 0.33, 1.0])
    rates = encoders.population_rates(values, n_neurons=11, max_rate_hz=100.0)
    assert rates.shape == (33,)
    preferred = np.linspace(0, 1, 11)
    for i, v in enumerate(values):
        block = rates[i * 11:(i + 1) * 11]
        assert np.argmax(block) == np.argmin(np.abs(preferred - v))
        sigma = 0.1
        np.testing.assert_allclose(block, 100.0 * np.exp(-(v - preferred) ** 2 / (2 * sigma ** 2)))
    spikes = encoders.population(values, n_neurons=11, max_rate_hz=100.0, steps=3000, dt=1e-3, seed=0)
    assert spikes.shape == (3000, 33)
    counts = spikes.sum(axis=0)
    assert np.argmax(counts[:11]) == 0 and np.argmax(counts[22:]) == 10
    with pytest.raises(ParameterError):
        encoders.population_rates([2.0], n_neurons=5, max_rate_hz=10.0)
