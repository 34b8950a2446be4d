"""Population codes, their decoders and picture round trips, against independent formulas and Poisson statistics."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

from neuroport import decoders, encoders
from neuroport.decoders import (angle_between, bin_counts, circular_difference, fit_linear_decoder, maximum_likelihood,
                                rate_weighted, reconstruct_latency, reconstruct_poisson,
                                reconstruct_population, sliding_rates)
from neuroport.encoders import image_latency, image_poisson, image_population, image_to_unit, tuning_curves
from neuroport.errors import NeuroportError, ParameterError

DT = 1e-3


def held(values, steps_each):
    """A stimulus time series holding each value (row) for ``steps_each`` steps."""
    return np.repeat(np.asarray(values, dtype=float), steps_each, axis=0)


def trial_counts(spikes, steps_each):
    """Spike counts per held value, shape (trials, n_neurons)."""
    return spikes.reshape(-1, steps_each, spikes.shape[1]).sum(axis=1)


def test_docstring_examples_run():
    failures, tried = doctest.testmod(decoders, optionflags=doctest.ELLIPSIS)
    assert tried >= 12 and failures == 0


# --------------------------------------------------------------------------- tuning curves
def test_gaussian_rates_match_the_formula_on_a_2d_grid():
    code = tuning_curves(16, dims=2, value_range=[(0.0, 3.0), (-1.0, 1.0)], width=[0.5, 0.25],
                         max_rate_hz=90.0, baseline_rate_hz=5.0)
    s = np.array([[0.4, 0.1], [2.9, -0.7]])
    r = code.rates(s)
    assert r.shape == (2, 16)
    ax0, ax1 = np.linspace(0, 3, 4), np.linspace(-1, 1, 4)
    for t in range(2):
        for j in range(16):
            p0, p1 = ax0[j // 4], ax1[j % 4]
            e = math.exp(-(s[t, 0] - p0) ** 2 / (2 * 0.25) - (s[t, 1] - p1) ** 2 / (2 * 0.0625))
            assert r[t, j] == pytest.approx(5.0 + 85.0 * e)


def test_cosine_default_width_is_the_rectified_cosine_and_wraps():
    code = tuning_curves(12, tuning="cosine", value_range=(0.0, 2 * math.pi), max_rate_hz=40.0,
                         baseline_rate_hz=2.0)
    theta = np.array([0.1, 3.0, 6.2, -0.3, 2 * math.pi + 0.1])
    r = code.rates(theta)
    pref = 2 * math.pi * np.arange(12) / 12
    expect = 2.0 + 38.0 * np.maximum(0.0, np.cos(theta[:, None] - pref[None, :]))
    np.testing.assert_allclose(r, expect, atol=1e-12)
    np.testing.assert_allclose(r[0], r[4], atol=1e-12)          # one period later: the same rates


def test_encode_is_seeded_and_its_counts_follow_the_rates():
    code = tuning_curves(10, max_rate_hz=200.0, width=0.15)
    stim = np.full(4000, 0.37)
    a, b = code.encode(stim, dt=DT, seed=4), code.encode(stim, dt=DT, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, code.encode(stim, dt=DT, seed=5))
    assert a.shape == (4000, 10) and a.dtype == np.uint8
    p = 200.0 * DT * np.exp(-(0.37 - np.linspace(0, 1, 10)) ** 2 / (2 * 0.15 ** 2))
    sd = np.sqrt(4000 * p * (1 - p))
    assert np.all(np.abs(a.sum(axis=0) - 4000 * p) < 4.5 * sd + 1e-9)


def test_time_varying_stimulus_moves_the_active_neurons():
    code = tuning_curves(20, max_rate_hz=300.0, width=0.05)
    stim = np.linspace(0.0, 1.0, 3000)
    s = code.encode(stim, dt=DT, seed=0)
    peak_step = np.array([np.mean(np.flatnonzero(s[:, j])) for j in range(20)])
    assert np.all(np.diff(peak_step) > 0)   # neurons preferring larger values fire later on the ramp


# --------------------------------------------------------------------------- decoders
def test_rate_weighted_estimate_within_poisson_delta_method_bound():
    """Centre of mass at a symmetric stimulus: unbiased; its variance from independent Poisson counts."""
    n, width, rmax, steps_each, trials, s0 = 21, 0.1, 200.0, 1000, 20, 0.5
    code = tuning_curves(n, max_rate_hz=rmax, width=width)
    counts = trial_counts(code.encode(held([s0] * trials, steps_each), dt=DT, seed=7), steps_each)
    est = rate_weighted(counts, code)[:, 0]
    pref = np.linspace(0, 1, n)
    lam = rmax * steps_each * DT * np.exp(-(s0 - pref) ** 2 / (2 * width ** 2))
    sd = math.sqrt(np.sum(lam * (pref - s0) ** 2)) / lam.sum()
    assert np.all(np.abs(est - s0) < 4.5 * sd)
    ratio = np.mean((est - s0) ** 2) / sd ** 2          # chi2(20)/20 lies in [0.40, 1.88] 99 % of the time
    assert 0.3 < ratio < 2.2                              # Bernoulli counts: a bit under Poisson variance


def test_circular_mean_recovers_an_angle_across_the_wrap():
    n, rmax, steps_each, trials, s0 = 16, 100.0, 500, 20, 355.0
    code = tuning_curves(n, tuning="cosine", value_range=(0.0, 360.0), max_rate_hz=rmax)
    counts = trial_counts(code.encode(held([s0] * trials, steps_each), dt=DT, seed=3), steps_each)
    est = rate_weighted(counts, code)[:, 0]
    err = circular_difference(est, s0, 360.0)
    pref = np.radians(360.0 * np.arange(n) / n)
    d = pref - math.radians(s0)
    lam = rmax * steps_each * DT * np.maximum(0.0, np.cos(d))
    # angle error ~ perpendicular component / resultant length (delta method, Poisson counts)
    sd_deg = math.degrees(math.sqrt(np.sum(lam * np.sin(d) ** 2)) / abs(np.sum(lam * np.exp(1j * d))))
    bias_deg = math.degrees(np.angle(np.sum(lam * np.exp(1j * d))))
    assert np.all(np.abs(err - bias_deg) < 4.5 * sd_deg)
    assert np.all((est >= 0) & (est < 360))


def test_2d_direction_code_agrees_with_the_angle_code():
    """Two computations of the same code: wrapped angle differences vs arccos of unit-vector dot products."""
    n, steps_each = 10, 300
    angle = tuning_curves(n, tuning="cosine", value_range=(0.0, 2 * math.pi), max_rate_hz=80.0,
                          baseline_rate_hz=4.0, width=1.2)
    direction = tuning_curves(n, tuning="cosine", dims=2, max_rate_hz=80.0, baseline_rate_hz=4.0, width=1.2)
    theta = np.array([0.05, 1.7, 3.1, 4.4, 6.25])
    vectors = 3.0 * np.column_stack([np.cos(theta), np.sin(theta)])      # the length is not coded
    np.testing.assert_allclose(direction.rates(vectors), angle.rates(theta), atol=1e-9)
    counts = trial_counts(direction.encode(held(vectors, steps_each), dt=DT, seed=2), steps_each)
    from_angle = rate_weighted(counts, angle)[:, 0]
    from_vector = rate_weighted(counts, direction)
    np.testing.assert_allclose(from_vector, np.column_stack([np.cos(from_angle), np.sin(from_angle)]), atol=1e-9)


def test_3d_population_vector_within_poisson_delta_method_bound():
    n, rmax, steps_each, trials = 40, 60.0, 500, 30
    code = tuning_curves(n, tuning="cosine", dims=3, max_rate_hz=rmax)
    p = code.preferred
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1.0)
    s = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    counts = trial_counts(code.encode(held([s] * trials, steps_each), dt=DT, seed=9), steps_each)
    est = rate_weighted(counts, code)
    lam = rmax * steps_each * DT * np.maximum(0.0, p @ s)             # expected counts, from the formula
    mu = lam @ p                                                        # mean population vector
    cov = (p * lam[:, None]).T @ p                                      # Poisson: var k_j = lam_j
    mu_hat = mu / np.linalg.norm(mu)
    perp = np.eye(3) - np.outer(mu_hat, mu_hat)
    var_angle = np.trace(perp @ cov @ perp) / (mu @ mu)                 # sum of two perpendicular variances
    err2 = angle_between(est, np.tile(mu_hat, (trials, 1))) ** 2
    ratio = np.mean(err2) / var_angle                                   # chi2(60)/60: [0.59, 1.47] at 99 %
    assert 0.45 < ratio < 1.6, ratio
    assert angle_between(mu_hat[None], s[None])[0] < 0.2 * math.sqrt(var_angle)   # the lattice is nearly unbiased
    ml = maximum_likelihood(counts, code, window_s=steps_each * DT, grid_points=4000)
    assert np.mean(angle_between(ml, np.tile(s, (trials, 1))) ** 2) < 2.0 * var_angle


def test_linear_decoder_of_a_direction_returns_unit_vectors():
    code = tuning_curves(12, tuning="cosine", dims=2, max_rate_hz=50.0, baseline_rate_hz=10.0)
    theta = np.linspace(0, 2 * math.pi, 60, endpoint=False)
    train = 2.0 * np.column_stack([np.cos(theta), np.sin(theta)])
    dec = fit_linear_decoder(code.rates(train), train, code)
    test = np.array([[1.0, 0.1], [-0.3, -2.0]])
    out = dec.predict(code.rates(test))
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0)
    assert np.all(angle_between(out, test) < 0.02)


def test_maximum_likelihood_reaches_the_cramer_rao_bound():
    """For large counts the Poisson ML estimate is efficient: RMSE ~ 1/sqrt(Fisher information)."""
    n, width, rmax, steps_each = 21, 0.1, 100.0, 200
    rng = np.random.default_rng(0)
    stim = rng.uniform(0.3, 0.7, 60)
    code = tuning_curves(n, max_rate_hz=rmax, width=width)
    counts = trial_counts(code.encode(held(stim, steps_each), dt=DT, seed=1), steps_each)
    est = maximum_likelihood(counts, code, window_s=steps_each * DT, grid_points=1001)[:, 0]
    pref = np.linspace(0, 1, n)
    crb = []
    for s in stim:
        r = rmax * np.exp(-(s - pref) ** 2 / (2 * width ** 2))
        dr = r * (pref - s) / width ** 2
        crb.append(1.0 / (steps_each * DT * np.sum(dr ** 2 / r)))
    ratio = math.sqrt(np.mean((est - stim) ** 2) / np.mean(crb))
    assert 0.6 < ratio < 1.5


def test_decoding_error_falls_with_population_size():
    sizes, seeds, width, steps_each = [4, 8, 16, 32, 64], range(3), 0.1, 100
    rng = np.random.default_rng(11)
    stim = rng.uniform(0.2, 0.8, 40)
    rmse = {"likelihood": [], "rate_weighted": []}
    for n in sizes:
        code = tuning_curves(n, max_rate_hz=100.0, width=width)
        errs = {k: [] for k in rmse}
        for seed in seeds:
            counts = trial_counts(code.encode(held(stim, steps_each), dt=DT, seed=seed), steps_each)
            ml = maximum_likelihood(counts, code, window_s=steps_each * DT, grid_points=601)[:, 0]
            cm = rate_weighted(counts, code)[:, 0]
            errs["likelihood"].append(np.mean((ml - stim) ** 2))
            errs["rate_weighted"].append(np.mean((cm - stim) ** 2))
        for k in rmse:
            rmse[k].append(math.sqrt(np.mean(errs[k])))
    for k, values in rmse.items():
        assert np.all(np.diff(values) < 0), (k, values)
        assert values[-1] < 0.35 * values[0], (k, values)


def test_linear_decoder_equals_an_independent_least_squares_fit():
    code = tuning_curves(9, dims=2, max_rate_hz=50.0)
    rng = np.random.default_rng(2)
    stim = rng.uniform(0, 1, (80, 2))
    act = code.rates(stim) + rng.normal(0, 1.0, (80, 9))
    dec = fit_linear_decoder(act, stim, code, ridge=0.0)
    design = np.column_stack([act, np.ones(80)])
    sol = np.linalg.lstsq(design, stim, rcond=None)[0]
    np.testing.assert_allclose(dec.weights, sol[:-1], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(dec.intercept, sol[-1], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(dec.predict(act), design @ sol, atol=1e-9)


def test_ridge_decoder_matches_the_normal_equations_and_shrinks_weights():
    code = tuning_curves(6, max_rate_hz=40.0, width=0.2)
    stim = np.linspace(0, 1, 30)
    act = code.rates(stim)
    ridge = 0.05
    dec = fit_linear_decoder(act, stim, code, ridge=ridge)
    ac, yc = act - act.mean(0), stim - stim.mean()
    lam = ridge * np.sum(ac ** 2) / 6
    w = np.linalg.inv(ac.T @ ac + lam * np.eye(6)) @ ac.T @ yc
    np.testing.assert_allclose(dec.weights[:, 0], w, rtol=1e-6)
    assert np.linalg.norm(dec.weights) < np.linalg.norm(fit_linear_decoder(act, stim, code, ridge=1e-8).weights)


def test_linear_decoder_of_a_circular_code_decodes_across_the_wrap():
    code = tuning_curves(12, tuning="cosine", value_range=(0.0, 360.0), max_rate_hz=60.0, baseline_rate_hz=5.0)
    train = np.linspace(0, 360, 72, endpoint=False)
    dec = fit_linear_decoder(code.rates(train), train, code)
    test = np.array([1.0, 359.0, 180.0, 93.0])
    err = circular_difference(dec.predict(code.rates(test))[:, 0], test, 360.0)
    assert np.all(np.abs(err) < 1.0)


def test_sliding_rates_against_a_plain_loop():
    rng = np.random.default_rng(5)
    s = (rng.random((50, 3)) < 0.3).astype(np.uint8)
    out = sliding_rates(s, dt=DT, window_steps=7)
    for t in range(50):
        lo, hi = max(t - 3, 0), min(t + 4, 50)
        np.testing.assert_allclose(out[t], s[lo:hi].sum(0) / ((hi - lo) * DT))
    assert bin_counts(s, bin_steps=10).tolist() == [s[i:i + 10].sum(0).tolist() for i in range(0, 50, 10)]


# --------------------------------------------------------------------------- pictures
@pytest.fixture(scope="module")
def digit():
    datasets = pytest.importorskip("sklearn.datasets")
    return datasets.load_digits().images[0]           # (8, 8), values 0..16


def test_latency_code_orders_pixels_by_intensity(digit):
    x = digit.reshape(-1) / 16.0
    s = image_latency(digit, steps=17, value_range=(0, 16))
    fired = s.any(axis=0)
    assert np.array_equal(fired, x > 0)                # black pixels stay silent
    t = s.argmax(axis=0)
    for i in np.flatnonzero(fired):
        for j in np.flatnonzero(fired):
            if x[i] > x[j]:
                assert t[i] < t[j]                      # 17 levels, 17 steps: every brighter pixel strictly earlier
    assert np.all(s.sum(axis=0) <= 1)


def test_reconstruction_error_falls_with_the_window(digit):
    windows, steps, rate = [10, 30, 100, 300], 300, 200.0
    x = image_to_unit(digit, value_range=(0, 16)).reshape(8, 8)
    err = {"poisson": [], "latency": [], "population": []}
    lat = image_latency(digit, steps=steps, value_range=(0, 16))
    for w in windows:
        e_p, e_pop = [], []
        for seed in range(3):
            sp = image_poisson(digit, max_rate_hz=rate, steps=steps, dt=DT, value_range=(0, 16), seed=seed)
            e_p.append(np.mean((reconstruct_poisson(sp, shape=(8, 8), max_rate_hz=rate, dt=DT, window_steps=w)
                                - x) ** 2))
            spop = image_population(digit, n_neurons=8, max_rate_hz=rate, steps=steps, dt=DT,
                                    value_range=(0, 16), seed=seed)
            e_pop.append(np.mean((reconstruct_population(spop, shape=(8, 8), n_neurons=8, max_rate_hz=rate,
                                                         dt=DT, window_steps=w) - x) ** 2))
        err["poisson"].append(math.sqrt(np.mean(e_p)))
        err["population"].append(math.sqrt(np.mean(e_pop)))
        err["latency"].append(math.sqrt(np.mean((reconstruct_latency(lat, shape=(8, 8), window_steps=w) - x) ** 2)))
    for k, values in err.items():
        assert np.all(np.diff(values) < 0), (k, values)
    # Poisson: RMSE ~ sqrt(mean x / (rate T)) (binomial counts); window 10 -> 300 steps divides it by ~sqrt(30)
    predicted = [math.sqrt(np.mean(x * (1 - x * rate * DT)) / (rate * w * DT)) for w in windows]
    np.testing.assert_allclose(err["poisson"], predicted, rtol=0.35)
    # the whole latency window: exact to half a step of the linear mapping
    assert np.max(np.abs(reconstruct_latency(lat, shape=(8, 8)) - x)) <= 0.5 / (steps - 1) + 1e-12


def test_colour_image_is_averaged_to_grey():
    rgb = np.zeros((2, 3, 4))
    rgb[0, 0, :3] = 255.0
    rgb[1, 2, :3] = [255.0, 0.0, 0.0]
    rgb[..., 3] = 7.0                                  # alpha: ignored
    np.testing.assert_allclose(image_to_unit(rgb, value_range=(0, 255)),
                               [1, 0, 0, 0, 0, 1 / 3])


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("call, match", [
    (lambda: tuning_curves(8, max_rate_hz=-5.0), r"max_rate_hz.*-5"),
    (lambda: tuning_curves(8, max_rate_hz=10.0, baseline_rate_hz=20.0), r"baseline_rate_hz.*at most"),
    (lambda: tuning_curves(8, max_rate_hz=10.0, baseline_rate_hz=-1.0), r"baseline_rate_hz"),
    (lambda: tuning_curves(10, dims=2, max_rate_hz=10.0), r"m\*\*2.*9 or 16.*got 10"),
    (lambda: tuning_curves(8, tuning="cosine", dims=4, max_rate_hz=10.0), r"4-D direction.*preferred="),
    (lambda: tuning_curves(3, tuning="cosine", dims=2, max_rate_hz=10.0, preferred=[[1, 0], [0, 0], [0, 1]]),
     r"non-zero preferred"),
    (lambda: tuning_curves(3, dims=2, max_rate_hz=10.0, preferred=np.zeros((4, 2))), r"shape \(3, 2\).*\(4, 2\)"),
    (lambda: tuning_curves(8, tuning="cosine", dims=2, max_rate_hz=10.0).rates([[1.0, 0.0], [0.0, 0.0]]),
     r"non-zero stimulus vectors.*row 1"),
    (lambda: tuning_curves(8, tuning="triangle", max_rate_hz=10.0), r"tuning.*gaussian.*cosine"),
    (lambda: tuning_curves(8, tuning="cosine", value_range=(0, 360), width=200, max_rate_hz=10.0), r"width"),
    (lambda: tuning_curves(8, max_rate_hz=10.0, width=[0.1, 0.2]), r"width"),
    (lambda: tuning_curves(4, value_range=(1, 0), max_rate_hz=10.0), r"value_range"),
    (lambda: tuning_curves(4, dims=2, max_rate_hz=10.0).rates(np.zeros((5, 3))), r"shape \(steps, 2\).*\(5, 3\)"),
    (lambda: tuning_curves(4, dims=2, max_rate_hz=10.0).rates([0.5, 0.5]), r"x\[None, :\]"),
    (lambda: tuning_curves(4, max_rate_hz=10.0).rates([0.2, 1.5]), r"value_range \[0, 1\].*1\.5"),
    (lambda: tuning_curves(4, max_rate_hz=10.0).rates([0.2, math.nan]), r"finite"),
    (lambda: tuning_curves(4, max_rate_hz=2000.0).encode(np.full(5, 0.5), dt=DT), r"1 spike per step"),
    (lambda: rate_weighted(np.ones((3, 5)), tuning_curves(4, max_rate_hz=10.0)), r"4 columns.*\(3, 5\)"),
    (lambda: rate_weighted(np.ones((3, 4)), "not a code"), r"TuningCurves"),
    (lambda: fit_linear_decoder(np.ones((10, 4)), np.zeros(9)), r"one row per activity row \(10\).*9"),
    (lambda: fit_linear_decoder(np.ones((10, 4)), np.zeros(10), ridge=-1.0), r"ridge"),
    (lambda: maximum_likelihood(np.ones((2, 4)), tuning_curves(4, max_rate_hz=10.0), window_s=0.0), r"window_s"),
    (lambda: reconstruct_poisson(np.zeros((10, 63)), shape=(8, 8), max_rate_hz=10.0, dt=DT), r"63 columns.*64"),
    (lambda: reconstruct_population(np.zeros((10, 64)), shape=(8, 8), n_neurons=4, max_rate_hz=10.0, dt=DT),
     r"x 4 neurons per pixel"),
    (lambda: reconstruct_latency(np.zeros((10, 4)), shape=(2, 2), window_steps=11), r"window_steps.*at most"),
    (lambda: reconstruct_poisson(-np.ones((10, 4)), shape=(2, 2), max_rate_hz=10.0, dt=DT), r">= 0"),
    (lambda: image_to_unit(np.zeros(5)), r"image: expected shape \(height, width\)"),
    (lambda: image_to_unit([[0, 20]], value_range=(0, 16)), r"value_range \[0, 16\].*20"),
    (lambda: image_poisson(np.eye(2), max_rate_hz=-1.0, steps=5, dt=DT), r"max_rate_hz"),
])
def test_bad_arguments_raise_clear_neuroport_errors(call, match):
    with pytest.raises(ParameterError, match=match) as info:
        call()
    assert isinstance(info.value, NeuroportError) and isinstance(info.value, ValueError)


# --------------------------------------------------------------------------- command line
@pytest.fixture
def input_only_nir(tmp_path):
    import neuroport
    net = neuroport.Network()
    x = net.input(11, name="x")
    y = net.population(1, neuroport.LIF(tau=0.01, v_threshold=1.0), name="y")
    net.connect(x, y, weight=np.full((1, 11), 0.1))
    path = tmp_path / "net.nir"
    neuroport.write(path, net)
    return path


def test_cli_population_input_codes_the_value(input_only_nir, tmp_path):
    from neuroport.cli import main
    from neuroport.result import Result
    out = tmp_path / "r.npz"
    assert main(["run", str(input_only_nir), "--dt", "1e-3", "--steps", "2000", "--input",
                 "population:value=0.7,rate=200,width=0.1", "--out", str(out)]) == 0
    counts = Result.load_npz(out).spikes["x"].to_dense().sum(axis=0)
    pref = np.linspace(0, 1, 11)
    expect = 2000 * 0.2 * np.exp(-(0.7 - pref) ** 2 / (2 * 0.1 ** 2))
    assert np.all(np.abs(counts - expect) < 4.5 * np.sqrt(expect) + 1)
    assert int(np.argmax(counts)) == 7


@pytest.mark.parametrize("spec, match", [("population:value=1.5,rate=100", r"value_range"),
                                         ("population:value=0.5,rate=-3", r"max_rate_hz"),
                                         ("population:value=0.5", r"population:value=X,rate=HZ")])
def test_cli_population_input_refusals(input_only_nir, capsys, spec, match):
    import re
    from neuroport.cli import main
    assert main(["run", str(input_only_nir), "--dt", "1e-3", "--steps", "10", "--input", spec]) != 0
    err = capsys.readouterr().err
    assert re.search(match, err) and "Traceback" not in err
