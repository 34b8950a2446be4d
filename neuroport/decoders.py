"""Decoders: stimulus estimates and picture reconstructions from spike trains.

The inverse of :mod:`neuroport.encoders`. Spike arrays have shape
``(steps, n)`` (one row per time step, one column per neuron), as the
encoders and :meth:`neuroport.result.Result` trains give them. Units: rates in
Hz, ``dt`` and windows in s where named ``*_s``, else in steps; stimuli in the
units of the population's ``value_range``.

==============================  ===============================================
:func:`bin_counts`              spike counts per bin of ``bin_steps`` steps
:func:`sliding_rates`           rate per step in Hz from a centred boxcar window
:func:`rate_weighted`           population vector: centre of mass of preferred
                                values (Gaussian), circular mean (cosine)
:func:`maximum_likelihood`      Poisson maximum-likelihood stimulus on a grid
:func:`fit_linear_decoder`      optimal linear (least-squares / ridge) decoder
                                fitted on training stimuli -> :class:`LinearDecoder`
:func:`circular_difference`     signed difference of two angles, wrapped
:func:`angle_between`           angle between direction vectors, radians
:func:`reconstruct_poisson`     picture from a rate code (spike counts)
:func:`reconstruct_latency`     picture from a latency code (first-spike times)
:func:`reconstruct_population`  picture from a population code of intensities
==============================  ===============================================
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from neuroport.encoders import TuningCurves, _directions, tuning_curves
from neuroport.errors import ParameterError

__all__ = ["bin_counts", "sliding_rates", "rate_weighted", "maximum_likelihood", "LinearDecoder",
           "fit_linear_decoder", "circular_difference", "angle_between", "reconstruct_poisson", "reconstruct_latency",
           "reconstruct_population"]

#: floor of a tuning curve's rate in the log-likelihood, Hz (a zero rate would make any spike impossible)
_MIN_RATE_HZ = 1e-9
#: most candidate stimuli :func:`maximum_likelihood` evaluates at once
_MAX_GRID = 1_000_000


# --------------------------------------------------------------------------- checks
def _int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ParameterError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _positive(name: str, value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if not (math.isfinite(x) and x > 0):
        raise ParameterError(f"{name}: expected a finite number > 0, got {value!r}")
    return x


def _matrix(values, name: str, *, columns: int | None = None, what: str = "neurons") -> np.ndarray:
    """``values`` as a finite float array of shape (rows, columns)."""
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"{name}: expected a numeric array, got {type(values).__name__}") from None
    if x.ndim == 1 and columns is not None and x.shape[0] == columns:
        x = x[None, :]
    if x.ndim != 2:
        raise ParameterError(f"{name}: expected shape (steps, {columns if columns else 'n'}), got {x.shape}")
    if columns is not None and x.shape[1] != columns:
        raise ParameterError(f"{name}: expected {columns} columns (one per {what}), got shape {x.shape}")
    if x.size and not np.all(np.isfinite(x)):
        raise ParameterError(f"{name}: expected finite numbers, got NaN or infinite values")
    return x


def _spikes(spikes, name: str = "spikes") -> np.ndarray:
    x = _matrix(spikes, name)
    if x.size and x.min() < 0:
        raise ParameterError(f"{name}: expected spike counts >= 0, got minimum {x.min():g}")
    return x


def _window(window_steps, steps: int) -> int:
    if window_steps is None:
        return steps
    w = _int("window_steps", window_steps, 1)
    if w > steps:
        raise ParameterError(f"window_steps: expected at most the {steps} steps recorded, got {w}")
    return w


def _code(code) -> TuningCurves:
    if not isinstance(code, TuningCurves):
        raise ParameterError("code: expected the TuningCurves that encoded the spikes "
                             f"(neuroport.encoders.tuning_curves), got {type(code).__name__}")
    return code


def _angle(s: np.ndarray, code: TuningCurves) -> np.ndarray:
    """Stimulus in radians on the unit circle, for a circular code."""
    return 2.0 * np.pi * (s - code.value_range[0, 0]) / code.period


def _from_angle(theta: np.ndarray, code: TuningCurves) -> np.ndarray:
    return code.value_range[0, 0] + np.mod(theta, 2.0 * np.pi) * code.period / (2.0 * np.pi)


def _centre(code: TuningCurves) -> np.ndarray:
    """The estimate for no activity: the middle of the range (a zero vector for a direction code)."""
    return code.value_range.mean(axis=1)


# --------------------------------------------------------------------------- spikes -> activity
def bin_counts(spikes, *, bin_steps: int) -> np.ndarray:
    """Spike counts in consecutive bins of ``bin_steps`` steps, shape ``(steps // bin_steps, n)``.

    A last, partial bin is dropped.

    Examples
    --------
    >>> bin_counts(np.ones((7, 2)), bin_steps=3).tolist()
    [[3.0, 3.0], [3.0, 3.0]]
    """
    x = _spikes(spikes)
    b = _int("bin_steps", bin_steps, 1)
    n_bins = x.shape[0] // b
    return x[:n_bins * b].reshape(n_bins, b, x.shape[1]).sum(axis=1)


def sliding_rates(spikes, *, dt: float, window_steps: int) -> np.ndarray:
    """Firing rate of each neuron at each step in Hz, from a centred boxcar window.

    Row ``t`` is the spike count over steps ``t - window_steps // 2`` to
    ``t - window_steps // 2 + window_steps - 1`` divided by the window's
    duration in s; near the ends the window is cut to the recorded steps and
    the divisor is the duration it covers.

    Parameters
    ----------
    spikes : array_like, shape (steps, n)
    dt : float
        Time step in s.
    window_steps : int
        Window length in steps (>= 1).

    Returns
    -------
    numpy.ndarray of float64, shape (steps, n), Hz

    Examples
    --------
    >>> sliding_rates([[1], [0], [1], [0]], dt=0.5, window_steps=2)[:, 0].tolist()   # step 0: 1 spike in 0.5 s
    [2.0, 1.0, 1.0, 1.0]
    """
    x = _spikes(spikes)
    dt = _positive("dt", dt)
    w = _int("window_steps", window_steps, 1)
    steps = x.shape[0]
    c = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    start = np.clip(np.arange(steps) - w // 2, 0, steps)
    stop = np.clip(np.arange(steps) - w // 2 + w, 0, steps)
    return (c[stop] - c[start]) / ((stop - start)[:, None] * dt)


# --------------------------------------------------------------------------- stimulus decoders
def rate_weighted(activity, code, *, baseline=0.0) -> np.ndarray:
    """Population-vector estimate: the preferred values weighted by each neuron's activity.

    Gaussian code: the centre of mass ``sum_j a_j p_j / sum_j a_j`` per axis.
    Cosine code of an angle: the circular mean, the angle of
    ``sum_j a_j exp(i theta_j)`` with ``theta_j`` the preferred angle (so the
    estimate wraps correctly across the period's ends). Cosine code of a
    direction: the population vector ``sum_j a_j p_j`` normalised to unit
    length. ``a_j = max(activity_j - baseline, 0)``. A row with no activity
    above the baseline gets the centre of ``value_range`` (a zero vector for
    a direction).
    Near the ends of a Gaussian code's range the centre of mass is biased
    towards the middle (the curves beyond the end are missing); use
    :func:`maximum_likelihood` or :func:`fit_linear_decoder` there.

    Parameters
    ----------
    activity : array_like, shape (m, n_neurons) or (n_neurons,)
        Rates (Hz) or spike counts, one row per estimate.
    code : TuningCurves
        The population that produced them.
    baseline : float
        Activity to subtract first, in the units of ``activity`` (e.g. the
        baseline rate in Hz, or baseline rate x window for counts).

    Returns
    -------
    numpy.ndarray of float64, shape (m, dims), stimulus units

    Examples
    --------
    >>> code = tuning_curves(3, tuning="cosine", value_range=(0, 360), max_rate_hz=10.0)
    >>> rate_weighted([[1.0, 0.0, 1.0]], code).round(6).tolist()   # 0 and 240 degrees: mean at 300
    [[300.0]]
    """
    code = _code(code)
    a = _matrix(activity, "activity", columns=code.n_neurons)
    try:
        base = float(baseline)
    except (TypeError, ValueError):
        base = math.nan
    if not math.isfinite(base):
        raise ParameterError(f"baseline: expected a finite number, got {baseline!r}")
    a = np.maximum(a - base, 0.0)
    total = a.sum(axis=1)
    empty = total <= 0
    out = np.empty((a.shape[0], code.dims))
    if code.circular:
        theta = _angle(code.preferred[:, 0], code)
        z = a @ np.exp(1j * theta)
        out[:, 0] = _from_angle(np.angle(z), code)
        empty |= np.abs(z) <= 1e-12 * np.maximum(total, 1e-300)
    elif code.directional:
        z = a @ code.preferred
        length = np.linalg.norm(z, axis=1)
        empty |= length <= 1e-12 * np.maximum(total, 1e-300)
        out[:] = z / np.where(empty, 1.0, length)[:, None]
    else:
        out[:] = (a @ code.preferred) / np.where(empty, 1.0, total)[:, None]
    out[empty] = _centre(code)
    return out


def _grid(code: TuningCurves, grid_points: int) -> np.ndarray:
    """Candidate stimuli, shape (g, dims)."""
    if code.circular:
        low = code.value_range[0, 0]
        return (low + code.period * np.arange(grid_points) / grid_points)[:, None]
    if code.directional:
        if code.dims > 3:
            raise ParameterError(f"code: maximum_likelihood searches 2-D and 3-D directions, got dims={code.dims}")
        return _directions(grid_points, code.dims)
    if grid_points ** code.dims > _MAX_GRID:
        raise ParameterError(f"grid_points: {grid_points}**{code.dims} candidate stimuli exceed {_MAX_GRID}; "
                             "use fewer grid points")
    axes = [np.linspace(lo, hi, grid_points) for lo, hi in code.value_range]
    return np.stack([g.reshape(-1) for g in np.meshgrid(*axes, indexing="ij")], axis=1)


def maximum_likelihood(counts, code, *, window_s: float, grid_points: int = 201) -> np.ndarray:
    """Poisson maximum-likelihood stimulus per row, searched on a grid.

    For counts ``k_j`` in a window of ``T`` s, the estimate maximises
    ``sum_j k_j log r_j(s) - T sum_j r_j(s)`` over ``grid_points`` candidate
    stimuli per axis (cosine of an angle: around the circle; of a 2-D or 3-D
    direction: ``grid_points`` unit vectors in all, on the circle or a
    Fibonacci lattice of the sphere) with the code's own tuning curves
    ``r_j`` (floored at 1e-9 Hz). The grid spacing bounds the resolution:
    ``(high - low) / (grid_points - 1)``.

    Parameters
    ----------
    counts : array_like, shape (m, n_neurons) or (n_neurons,)
        Spike counts per neuron in each window (e.g. :func:`bin_counts`).
    code : TuningCurves
    window_s : float
        Window duration in s.
    grid_points : int
        Candidates per stimulus axis (>= 2; at most 1e6 candidates in all).

    Returns
    -------
    numpy.ndarray of float64, shape (m, dims), stimulus units

    Examples
    --------
    >>> code = tuning_curves(11, max_rate_hz=100.0, width=0.1)
    >>> maximum_likelihood(code.rates(0.3) * 0.5, code, window_s=0.5).round(3).tolist()
    [[0.3]]
    """
    code = _code(code)
    k = _matrix(counts, "counts", columns=code.n_neurons)
    window = _positive("window_s", window_s)
    g = _int("grid_points", grid_points, 2)
    candidates = _grid(code, g)
    r = np.maximum(code.rates(candidates), _MIN_RATE_HZ)            # (g, n)
    loglik = k @ np.log(r).T - window * r.sum(axis=1)[None, :]       # (m, g)
    return candidates[np.argmax(loglik, axis=1)]


@dataclass(frozen=True, eq=False)
class LinearDecoder:
    """An optimal linear read-out ``s = activity @ weights + intercept`` (from :func:`fit_linear_decoder`).

    Attributes
    ----------
    weights : numpy.ndarray, shape (n_neurons, k)
        Read-out weights, stimulus units per unit of activity; ``k = dims``,
        or 2 (cosine and sine of the angle) for a circular stimulus.
    intercept : numpy.ndarray, shape (k,)
    circular : bool
        The targets were ``cos``/``sin`` of the angle; :meth:`predict`
        returns the angle of the decoded vector in the stimulus' units.
    unit : bool
        The targets were unit direction vectors; :meth:`predict` normalises.
    low, period : float
        The circular stimulus' origin and period (``nan`` when not circular).
    """

    weights: np.ndarray
    intercept: np.ndarray
    circular: bool
    unit: bool = False
    low: float = math.nan
    period: float = math.nan

    def predict(self, activity) -> np.ndarray:
        """Decoded stimulus, shape ``(m, dims)``, for activity shaped ``(m, n_neurons)``
        in the units the decoder was fitted on (Hz or counts in the same window)."""
        a = _matrix(activity, "activity", columns=self.weights.shape[0])
        y = a @ self.weights + self.intercept
        if self.unit:
            return y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-300)
        if not self.circular:
            return y
        theta = np.arctan2(y[:, 1], y[:, 0])
        return (self.low + np.mod(theta, 2.0 * np.pi) * self.period / (2.0 * np.pi))[:, None]


def fit_linear_decoder(activity, stimulus, code=None, *, ridge: float = 1e-6) -> LinearDecoder:
    """Fit the least-squares (ridge) linear map from population activity to the stimulus.

    Minimises ``|Y - A W - c|^2 + lam |W|^2`` over training samples, with
    ``lam = ridge * trace(A_c^T A_c) / n_neurons`` (``A_c`` the centred
    activity), so ``ridge`` is relative to the mean activity power and has no
    units; the intercept ``c`` is not penalised. Solved with
    ``scipy.linalg.solve`` (``ridge > 0``) or ``scipy.linalg.lstsq`` (0).
    For a circular code (``code.circular``) the targets are
    ``(cos theta, sin theta)`` and :meth:`LinearDecoder.predict` returns the
    decoded angle; for a direction code they are the stimulus' unit vectors.

    Parameters
    ----------
    activity : array_like, shape (m, n_neurons)
        Training activity: rates in Hz or counts in a fixed window.
    stimulus : array_like, shape (m,) or (m, dims)
        The stimulus of each training row, stimulus units.
    code : TuningCurves, optional
        The population; checks the stimulus against it and sets circularity.
    ridge : float
        Relative ridge penalty (>= 0).

    Returns
    -------
    LinearDecoder

    Raises
    ------
    ParameterError
        Row counts differ, fewer than 2 samples, NaN, negative ``ridge``.

    Examples
    --------
    >>> code = tuning_curves(8, max_rate_hz=50.0, width=0.2)
    >>> train = np.linspace(0, 1, 50)
    >>> dec = fit_linear_decoder(code.rates(train), train, code)
    >>> float(np.abs(dec.predict(code.rates(train))[:, 0] - train).max()) < 0.02
    True
    """
    a = _matrix(activity, "activity")
    if code is not None:
        code = _code(code)
        if a.shape[1] != code.n_neurons:
            raise ParameterError(f"activity: expected {code.n_neurons} columns (one per neuron of code), "
                                 f"got shape {a.shape}")
        s = code.stimulus_array(stimulus)
    else:
        s = np.asarray(stimulus, dtype=np.float64)
        s = s[:, None] if s.ndim == 1 else s
        if s.ndim != 2 or not np.all(np.isfinite(s)):
            raise ParameterError(f"stimulus: expected finite numbers, shape (m,) or (m, dims), got {s.shape}")
    if s.shape[0] != a.shape[0]:
        raise ParameterError(f"stimulus: expected one row per activity row ({a.shape[0]}), got {s.shape[0]} "
                             f"(activity shape {a.shape}, stimulus shape {s.shape})")
    if a.shape[0] < 2:
        raise ParameterError(f"activity: expected at least 2 training samples, got {a.shape[0]}")
    try:
        lam_rel = float(ridge)
    except (TypeError, ValueError):
        lam_rel = math.nan
    if not (math.isfinite(lam_rel) and lam_rel >= 0):
        raise ParameterError(f"ridge: expected a finite number >= 0, got {ridge!r}")
    circular = bool(code is not None and code.circular)
    unit = bool(code is not None and code.directional)
    if circular:
        y = np.column_stack([np.cos(_angle(s[:, 0], code)), np.sin(_angle(s[:, 0], code))])
    elif unit:
        y = s / np.linalg.norm(s, axis=1, keepdims=True)
    else:
        y = s
    a_mean, y_mean = a.mean(axis=0), y.mean(axis=0)
    ac, yc = a - a_mean, y - y_mean
    if lam_rel > 0:
        gram = ac.T @ ac
        lam = lam_rel * max(np.trace(gram) / a.shape[1], 1e-300)
        w = scipy.linalg.solve(gram + lam * np.eye(a.shape[1]), ac.T @ yc, assume_a="pos")
    else:
        w = scipy.linalg.lstsq(ac, yc)[0]
    low = float(code.value_range[0, 0]) if circular else math.nan
    period = float(code.period) if circular else math.nan
    return LinearDecoder(weights=w, intercept=y_mean - a_mean @ w, circular=circular, unit=unit, low=low,
                         period=period)


def circular_difference(a, b, period: float) -> np.ndarray:
    """Signed difference ``a - b`` of angles wrapped into ``[-period/2, period/2)``.

    Examples
    --------
    >>> circular_difference(350.0, 10.0, 360.0).tolist()
    -20.0
    """
    p = _positive("period", period)
    return np.mod(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64) + p / 2.0, p) - p / 2.0


def angle_between(a, b) -> np.ndarray:
    """Angle in radians, in [0, pi], between the rows of two arrays of vectors shaped ``(m, dims)``.

    Examples
    --------
    >>> angle_between([[1.0, 0.0]], [[0.0, 2.0]]).round(6).tolist()
    [1.570796]
    """
    x = _matrix(a, "a")
    y = _matrix(b, "b", columns=x.shape[1], what="axis of a")
    if x.shape != y.shape:
        raise ParameterError(f"b: expected the shape of a {x.shape}, got {y.shape}")
    nx, ny = np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1)
    if np.any(nx == 0) or np.any(ny == 0):
        raise ParameterError("a, b: expected non-zero vectors, got a zero row")
    return np.arccos(np.clip(np.sum(x * y, axis=1) / (nx * ny), -1.0, 1.0))


# --------------------------------------------------------------------------- pictures
def _shape(shape, columns: int, per_pixel: int = 1) -> tuple:
    try:
        shp = tuple(int(v) for v in shape)
    except (TypeError, ValueError):
        raise ParameterError(f"shape: expected (height, width), got {shape!r}") from None
    if len(shp) != 2 or min(shp) < 1:
        raise ParameterError(f"shape: expected (height, width) with both >= 1, got {shape!r}")
    if shp[0] * shp[1] * per_pixel != columns:
        extra = f" x {per_pixel} neurons per pixel" if per_pixel > 1 else ""
        raise ParameterError(f"spikes: {columns} columns do not match shape {shp}{extra} "
                             f"(= {shp[0] * shp[1] * per_pixel} columns)")
    return shp


def reconstruct_poisson(spikes, *, shape, max_rate_hz: float, dt: float, window_steps: int | None = None):
    """Picture from a rate code: counts in the first ``window_steps`` steps over the expected maximum.

    ``x_i = min(1, count_i / (max_rate_hz * window_steps * dt))``, the
    maximum-likelihood intensity of :func:`neuroport.encoders.image_poisson`.
    Its standard error is ``sqrt(x (1 - x dt r) / (r T))`` with ``r`` the
    maximum rate and ``T`` the window in s: it falls as ``1/sqrt(T)``.

    Parameters
    ----------
    spikes : array_like, shape (steps, height * width)
    shape : (int, int)
        ``(height, width)`` of the picture.
    max_rate_hz : float
        Rate of a white pixel in Hz, as encoded.
    dt : float
        Time step in s.
    window_steps : int, optional
        Steps from the start to count (default all).

    Returns
    -------
    numpy.ndarray of float64, shape (height, width), intensities in [0, 1]

    Examples
    --------
    >>> reconstruct_poisson(np.ones((10, 4)) * [1, 0, 1, 0], shape=(2, 2), max_rate_hz=500, dt=1e-3).tolist()
    [[1.0, 0.0], [1.0, 0.0]]
    """
    x = _spikes(spikes)
    shp = _shape(shape, x.shape[1])
    rate = _positive("max_rate_hz", max_rate_hz)
    dt = _positive("dt", dt)
    w = _window(window_steps, x.shape[0])
    return np.minimum(x[:w].sum(axis=0) / (rate * w * dt), 1.0).reshape(shp)


def reconstruct_latency(spikes, *, shape, t_max_steps: int | None = None, window_steps: int | None = None):
    """Picture from a latency code, reading only the first ``window_steps`` steps.

    A pixel whose first spike is at step ``t < window_steps`` decodes to
    ``1 - t / (t_max_steps - 1)`` (the inverse of
    :func:`neuroport.encoders.image_latency`, exact to half a step). A pixel
    with no spike yet is known to be darker than
    ``u = 1 - (window_steps - 0.5) / (t_max_steps - 1)`` and decodes to
    ``max(u, 0) / 2``, the middle of what it can still be; at
    ``window_steps = t_max_steps`` that is 0 (black pixels never spike).

    Parameters
    ----------
    spikes : array_like, shape (steps, height * width)
    shape : (int, int)
    t_max_steps : int, optional
        The coding window used to encode (default ``steps``).
    window_steps : int, optional
        Steps read from the start (default all).

    Returns
    -------
    numpy.ndarray of float64, shape (height, width), intensities in [0, 1]

    Examples
    --------
    >>> s = np.zeros((5, 3)); s[0, 0] = 1; s[2, 1] = 1
    >>> reconstruct_latency(s, shape=(1, 3)).tolist()
    [[1.0, 0.5, 0.0]]
    """
    x = _spikes(spikes)
    shp = _shape(shape, x.shape[1])
    t_max = x.shape[0] if t_max_steps is None else _int("t_max_steps", t_max_steps, 1)
    w = _window(window_steps, x.shape[0])
    seen = x[:w] > 0
    fired = seen.any(axis=0)
    first = np.argmax(seen, axis=0)
    span = max(t_max - 1, 1)
    upper = max(1.0 - (w - 0.5) / span, 0.0)
    out = np.where(fired, 1.0 - first / span, upper / 2.0)
    return np.clip(out, 0.0, 1.0).reshape(shp)


def reconstruct_population(spikes, *, shape, n_neurons: int, max_rate_hz: float, dt: float,
                           sigma: float | None = None, window_steps: int | None = None,
                           method: str = "likelihood", grid_points: int = 101):
    """Picture from a population code of intensities (:func:`neuroport.encoders.image_population`).

    The counts of each pixel's ``n_neurons`` neurons in the first
    ``window_steps`` steps are decoded with the same Gaussian curves the
    encoder used (preferred intensities ``linspace(0, 1, n_neurons)``, width
    ``sigma``, default their spacing), by :func:`maximum_likelihood`
    (``method="likelihood"``, on ``grid_points`` intensities) or
    :func:`rate_weighted` (``"rate_weighted"``, biased towards 0.5 near black
    and white).

    Returns
    -------
    numpy.ndarray of float64, shape (height, width), intensities in [0, 1]

    Examples
    --------
    >>> from neuroport.encoders import image_population
    >>> s = image_population([[0.0, 1.0]], n_neurons=7, max_rate_hz=500.0, steps=200, dt=1e-3, seed=1)
    >>> reconstruct_population(s, shape=(1, 2), n_neurons=7, max_rate_hz=500.0, dt=1e-3).round(1).tolist()
    [[0.0, 1.0]]
    """
    x = _spikes(spikes)
    n = _int("n_neurons", n_neurons, 1)
    shp = _shape(shape, x.shape[1], per_pixel=n)
    dt = _positive("dt", dt)
    w = _window(window_steps, x.shape[0])
    if method not in ("likelihood", "rate_weighted"):
        raise ParameterError(f"method: expected 'likelihood' or 'rate_weighted', got {method!r}")
    code = tuning_curves(n, max_rate_hz=max_rate_hz, width=sigma)
    counts = x[:w].sum(axis=0).reshape(shp[0] * shp[1], n)
    if method == "likelihood":
        est = maximum_likelihood(counts, code, window_s=w * dt, grid_points=grid_points)
    else:
        est = rate_weighted(counts, code)
    return est[:, 0].reshape(shp)
