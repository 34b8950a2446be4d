"""Spike encoders: turn rates or analogue values into spike arrays.

Every encoder returns a :class:`numpy.ndarray` of dtype ``uint8`` (0 or 1) and
shape ``(steps, n)``: one row per time step, one column per input neuron. That
is the layout :func:`neuroport.run` takes for an input population. Random
encoders draw from ``numpy.random.default_rng(seed)``, so the same seed gives
the same spikes on every machine.

Units: rates in Hz, ``dt`` in s, times and durations in steps.

========================  ============================================================
:func:`poisson`           independent Bernoulli spikes, probability ``rate * dt`` a step
:func:`regular`           deterministic, evenly spaced spikes at the given rate
:func:`latency`           time-to-first-spike: larger value -> earlier single spike
:func:`population`        Gaussian tuning curves over a value range, Poisson spikes
:func:`tuning_curves`     a population's Gaussian or cosine tuning curves over a
                          scalar or vector stimulus (:class:`TuningCurves`), whose
                          ``encode`` turns a stimulus time series into spikes
:func:`image_poisson`     a picture (2-D, or 3-D colour averaged to grey) as spikes,
:func:`image_latency`     one pixel per column (``n_neurons`` columns per pixel
:func:`image_population`  for the population code)
========================  ============================================================

Decoders and image reconstructions are in :mod:`neuroport.decoders`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from neuroport.errors import ParameterError

__all__ = ["poisson", "regular", "latency", "population", "population_rates", "preferred_values",
           "TuningCurves", "tuning_curves", "image_to_unit", "image_poisson", "image_latency",
           "image_population"]

#: slack when comparing an accumulated phase with an integer, so that
#: ``10 * 0.1`` summed step by step still counts as one full period
_PHASE_EPS = 1e-9


# --------------------------------------------------------------------------- checks
def _int_arg(name: str, value, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ParameterError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)


def _float_arg(name: str, value, *, low: float, high: float = math.inf,
               low_open: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    bracket = "(" if low_open else "["
    ok = math.isfinite(x) and (x > low if low_open else x >= low) and x <= high
    if not ok:
        raise ParameterError(f"{name}: expected a finite number in {bracket}{low}, {high}], got {value!r}")
    return x


def _rates_array(rates_hz, steps: int) -> np.ndarray:
    """Rates as a float array broadcast to ``(steps, n)``; validated finite and >= 0."""
    try:
        rates = np.asarray(rates_hz, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"rates_hz: expected numbers (Hz), got {type(rates_hz).__name__}") from None
    if rates.ndim == 0:
        rates = rates.reshape(1)
    if rates.ndim == 1:
        rates = np.broadcast_to(rates, (steps, rates.shape[0]))
    elif rates.ndim == 2:
        if rates.shape[0] != steps:
            raise ParameterError(
                f"rates_hz: a 2-D array must have shape (steps={steps}, n), got {rates.shape}")
    else:
        raise ParameterError(f"rates_hz: expected a scalar, shape (n,) or (steps, n), got shape {rates.shape}")
    if rates.size and not np.all(np.isfinite(rates)):
        raise ParameterError("rates_hz: expected finite rates >= 0 Hz, got NaN or infinite values")
    if rates.size and rates.min() < 0:
        raise ParameterError(f"rates_hz: expected rates >= 0 Hz, got minimum {rates.min():g} Hz")
    return rates


def _spike_probability(rates: np.ndarray, dt: float) -> np.ndarray:
    p = rates * dt
    if p.size and p.max() > 1.0:
        raise ParameterError(
            f"rates_hz * dt: expected at most 1 spike per step (rate <= 1/dt = {1.0 / dt:g} Hz), "
            f"got rate {rates.max():g} Hz with dt {dt:g} s (rate*dt = {p.max():g})")
    return p


def _unit_values(values, name: str = "values") -> np.ndarray:
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"{name}: expected numbers in [0, 1], got {type(values).__name__}") from None
    if x.ndim == 0:
        x = x.reshape(1)
    if x.ndim != 1:
        raise ParameterError(f"{name}: expected a scalar or shape (n,), got shape {x.shape}")
    if x.size and not np.all(np.isfinite(x)):
        raise ParameterError(f"{name}: expected finite numbers in [0, 1], got NaN or infinite values")
    if x.size and (x.min() < 0.0 or x.max() > 1.0):
        raise ParameterError(
            f"{name}: expected numbers in [0, 1] (normalize first, e.g. x / x.max()), "
            f"got range [{x.min():g}, {x.max():g}]")
    return x


# --------------------------------------------------------------------------- encoders
def poisson(rates_hz, *, steps: int, dt: float, seed: int = 0) -> np.ndarray:
    """Poisson (Bernoulli per step) spike trains.

    In each step each neuron spikes independently with probability
    ``rate * dt``.

    Parameters
    ----------
    rates_hz : float or array_like, shape (n,) or (steps, n)
        Firing rate in Hz, >= 0. A scalar gives one neuron; shape ``(n,)``
        a constant rate per neuron; shape ``(steps, n)`` a rate per step.
    steps : int
        Number of time steps (>= 0).
    dt : float
        Time step in s (> 0).
    seed : int
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    numpy.ndarray of uint8, shape (steps, n)

    Raises
    ------
    ParameterError
        Negative, NaN or infinite rates; ``rate * dt > 1`` (more than one
        spike per step would be needed); bad ``steps`` or ``dt``.

    Examples
    --------
    >>> s = poisson([10.0, 100.0], steps=1000, dt=1e-3, seed=1)
    >>> s.shape, s.dtype.name
    ((1000, 2), 'uint8')
    >>> bool(s[:, 0].sum() < s[:, 1].sum())
    True
    """
    steps = _int_arg("steps", steps, minimum=0)
    dt = _float_arg("dt", dt, low=0.0, low_open=True)
    p = _spike_probability(_rates_array(rates_hz, steps), dt)
    rng = np.random.default_rng(seed)
    return (rng.random(p.shape) < p).astype(np.uint8)


def regular(rates_hz, *, steps: int, dt: float, phase: float = 0.0) -> np.ndarray:
    """Deterministic, evenly spaced spike trains.

    Each neuron accumulates a phase of ``rate * dt`` per step, starting at
    ``phase``; it spikes in the step where the phase crosses an integer.
    With a constant rate the number of spikes in the first ``k`` steps is
    exactly ``floor(phase + k * rate * dt)`` (up to 1e-9 of rounding slack).

    Parameters
    ----------
    rates_hz : float or array_like, shape (n,) or (steps, n)
        Firing rate in Hz, ``0 <= rate <= 1/dt``.
    steps : int
        Number of time steps (>= 0).
    dt : float
        Time step in s (> 0).
    phase : float
        Initial phase in [0, 1): a phase close to 1 makes the first spike
        come early, 0 makes it come after one full period.

    Returns
    -------
    numpy.ndarray of uint8, shape (steps, n)

    Raises
    ------
    ParameterError
        As :func:`poisson`, and ``phase`` outside [0, 1).

    Examples
    --------
    >>> s = regular(250.0, steps=12, dt=1e-3)
    >>> s[:, 0].tolist()
    [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]
    """
    steps = _int_arg("steps", steps, minimum=0)
    dt = _float_arg("dt", dt, low=0.0, low_open=True)
    phase = _float_arg("phase", phase, low=0.0, high=1.0)
    if phase >= 1.0:
        raise ParameterError(f"phase: expected a number in [0, 1), got {phase!r}")
    p = _spike_probability(_rates_array(rates_hz, steps), dt)
    acc = phase + np.cumsum(p, axis=0)
    count = np.floor(acc + _PHASE_EPS)
    before = np.vstack([np.full((1, p.shape[1]), math.floor(phase + _PHASE_EPS)), count[:-1]])
    return (count > before).astype(np.uint8)


def latency(values, *, steps: int, t_max_steps: int | None = None,
            tau: float | None = None, threshold: float = 0.0) -> np.ndarray:
    """Time-to-first-spike code: at most one spike per neuron, larger values earlier.

    A value ``x`` in [0, 1] spikes once at step ``t(x)``; values
    ``x <= threshold`` never spike. Two mappings:

    * linear (``tau=None``, the default):
      ``t = floor((1 - x) * (t_max_steps - 1) + 0.5)``, so ``x = 1`` spikes at
      step 0 and ``x -> 0`` at step ``t_max_steps - 1``;
    * RC charging (``tau`` given, in steps): the time a unit-gain RC circuit
      driven by ``x`` needs to reach ``threshold``,
      ``t = floor(tau * ln(x / (x - threshold)) + 0.5)`` (needs
      ``threshold > 0``); spikes later than ``t_max_steps - 1`` are dropped.

    Parameters
    ----------
    values : float or array_like, shape (n,)
        Intensities in [0, 1]; anything outside is refused (normalize first,
        e.g. ``x / x.max()``).
    steps : int
        Number of time steps of the output (>= 1).
    t_max_steps : int, optional
        Length of the coding window in steps, ``1 <= t_max_steps <= steps``;
        default ``steps``.
    tau : float, optional
        RC time constant in steps (> 0) to use the logarithmic mapping.
    threshold : float
        Values ``<= threshold`` emit no spike; in [0, 1).

    Returns
    -------
    numpy.ndarray of uint8, shape (steps, n)

    Raises
    ------
    ParameterError
        Values outside [0, 1] or NaN, bad window, ``tau <= 0``, threshold
        outside [0, 1) or ``threshold == 0`` with ``tau``.

    Examples
    --------
    >>> s = latency([1.0, 0.5, 0.0], steps=11)
    >>> [int(i) for i in s.argmax(axis=0)], s.sum(axis=0).tolist()
    ([0, 5, 0], [1, 1, 0])
    """
    steps = _int_arg("steps", steps, minimum=1)
    t_max = steps if t_max_steps is None else _int_arg("t_max_steps", t_max_steps, minimum=1)
    if t_max > steps:
        raise ParameterError(f"t_max_steps: expected an integer in [1, steps={steps}], got {t_max}")
    threshold = _float_arg("threshold", threshold, low=0.0, high=1.0)
    if threshold >= 1.0:
        raise ParameterError(f"threshold: expected a number in [0, 1), got {threshold!r}")
    x = _unit_values(values)
    fires = x > threshold
    if tau is None:
        t = np.floor((1.0 - x) * (t_max - 1) + 0.5)
    else:
        tau = _float_arg("tau", tau, low=0.0, low_open=True)
        if threshold <= 0.0:
            raise ParameterError("threshold: expected a number in (0, 1) with tau (RC mapping), got 0.0")
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.floor(tau * np.log(x / (x - threshold)) + 0.5)
        fires &= t <= t_max - 1
    out = np.zeros((steps, x.size), dtype=np.uint8)
    idx = np.flatnonzero(fires)
    out[t[idx].astype(np.int64), idx] = 1
    return out


# --------------------------------------------------------------------------- population code
def preferred_values(n_neurons: int, value_range=(0.0, 1.0)) -> np.ndarray:
    """Evenly spaced preferred values of a population, shape ``(n_neurons,)``.

    ``numpy.linspace(low, high, n_neurons)``; a single neuron prefers the
    middle of the range.

    Examples
    --------
    >>> preferred_values(5).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    n = _int_arg("n_neurons", n_neurons, minimum=1)
    low, high = _value_range(value_range)
    if n == 1:
        return np.array([(low + high) / 2.0])
    return np.linspace(low, high, n)


def _value_range(value_range) -> tuple:
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ParameterError(f"value_range: expected (low, high) with low < high, got {value_range!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ParameterError(f"value_range: expected (low, high) finite with low < high, got {value_range!r}")
    return low, high


def population_rates(values, *, n_neurons: int, value_range=(0.0, 1.0),
                     sigma: float | None = None, max_rate_hz: float) -> np.ndarray:
    """Firing rates of a Gaussian population code, shape ``(k * n_neurons,)`` in Hz.

    Neuron ``j`` of the population for value ``i`` (column ``i * n_neurons + j``)
    fires at ``max_rate_hz * exp(-(v_i - mu_j)**2 / (2 * sigma**2))``, with
    ``mu = preferred_values(n_neurons, value_range)``.

    Parameters
    ----------
    values : float or array_like, shape (k,)
        Values to encode, each inside ``value_range``.
    n_neurons : int
        Neurons per value (>= 1).
    value_range : (float, float)
        ``(low, high)`` covered by the preferred values.
    sigma : float, optional
        Tuning width in the values' units (> 0); default the spacing of the
        preferred values, ``(high - low) / (n_neurons - 1)`` (or
        ``high - low`` for one neuron).
    max_rate_hz : float
        Rate at the preferred value in Hz (>= 0).

    Returns
    -------
    numpy.ndarray of float64, shape (k * n_neurons,)

    Raises
    ------
    ParameterError
        Values outside ``value_range`` or NaN; bad ``n_neurons``,
        ``value_range``, ``sigma`` or ``max_rate_hz``.

    Examples
    --------
    >>> r = population_rates(0.5, n_neurons=5, max_rate_hz=100.0)
    >>> int(r.argmax()), float(r.max())
    (2, 100.0)
    """
    mu = preferred_values(n_neurons, value_range)
    low, high = _value_range(value_range)
    max_rate = _float_arg("max_rate_hz", max_rate_hz, low=0.0)
    if sigma is None:
        sigma = (high - low) / (mu.size - 1) if mu.size > 1 else high - low
    sigma = _float_arg("sigma", sigma, low=0.0, low_open=True)
    try:
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"values: expected numbers in [{low:g}, {high:g}], "
                             f"got {type(values).__name__}") from None
    if v.ndim == 0:
        v = v.reshape(1)
    if v.ndim != 1:
        raise ParameterError(f"values: expected a scalar or shape (k,), got shape {v.shape}")
    if v.size and (not np.all(np.isfinite(v)) or v.min() < low or v.max() > high):
        raise ParameterError(
            f"values: expected finite numbers in value_range [{low:g}, {high:g}], "
            f"got range [{np.nanmin(v) if np.any(np.isfinite(v)) else math.nan:g}, "
            f"{np.nanmax(v) if np.any(np.isfinite(v)) else math.nan:g}]"
            + (" with NaN/inf" if not np.all(np.isfinite(v)) else ""))
    code = tuning_curves(mu.size, value_range=(low, high), width=sigma, max_rate_hz=max_rate)
    return code.rates(v).reshape(-1)


def population(values, *, n_neurons: int, value_range=(0.0, 1.0), sigma: float | None = None,
               max_rate_hz: float, steps: int, dt: float, seed: int = 0) -> np.ndarray:
    """Population code: Poisson spikes at the rates of :func:`population_rates`.

    Parameters
    ----------
    values : float or array_like, shape (k,)
        Values to encode, each inside ``value_range``.
    n_neurons : int
        Neurons per value (>= 1); column ``i * n_neurons + j`` is neuron
        ``j`` of value ``i``.
    value_range : (float, float)
        ``(low, high)`` covered by the evenly spaced preferred values.
    sigma : float, optional
        Tuning width in the values' units; default the preferred-value spacing.
    max_rate_hz : float
        Peak rate in Hz; ``max_rate_hz * dt`` must be <= 1.
    steps : int
        Number of time steps.
    dt : float
        Time step in s.
    seed : int
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    numpy.ndarray of uint8, shape (steps, k * n_neurons)

    Raises
    ------
    ParameterError
        As :func:`population_rates` and :func:`poisson`.

    Examples
    --------
    >>> s = population([0.0, 1.0], n_neurons=4, max_rate_hz=200.0, steps=500, dt=1e-3)
    >>> s.shape, s.dtype.name
    ((500, 8), 'uint8')
    """
    rates = population_rates(values, n_neurons=n_neurons, value_range=value_range,
                             sigma=sigma, max_rate_hz=max_rate_hz)
    return poisson(rates, steps=steps, dt=dt, seed=seed)


# --------------------------------------------------------------------------- tuning curves
TUNINGS = ("gaussian", "cosine")


@dataclass(frozen=True, eq=False)
class TuningCurves:
    """A population's tuning curves: the firing rate of each neuron for a stimulus.

    Build one with :func:`tuning_curves`. Two shapes of curve:

    * ``"gaussian"`` over a scalar or vector stimulus ``s`` (shape ``(dims,)``):
      ``r_j(s) = b + (r_max - b) * exp(-sum_k (s_k - p_jk)**2 / (2 * w_k**2))``;
    * ``"cosine"`` over one circular variable (an angle; ``value_range`` is
      one period ``P = high - low``): with ``d`` the signed circular distance
      ``s - p_j`` wrapped into ``[-P/2, P/2)``,
      ``r_j(s) = b + (r_max - b) * cos(pi/2 * d / w)`` for ``|d| < w``, else
      ``b``. With ``w = P/4`` (the default) this is the classic rectified
      cosine ``b + (r_max - b) * max(0, cos(2*pi*d/P))``;
    * ``"cosine"`` over a direction (``dims`` >= 2, Georgopoulos' motor
      cortex code): ``d`` is the angle in radians between the stimulus
      vector and the neuron's preferred unit vector ``p_j`` (the stimulus'
      length is not coded), the same formula, default ``w = pi/2``
      (``b + (r_max - b) * max(0, s.p_j / |s|)``).

    Attributes
    ----------
    tuning : str
        ``"gaussian"`` or ``"cosine"``.
    preferred : numpy.ndarray of float64, shape (n_neurons, dims)
        Preferred stimulus of each neuron, in the stimulus' units.
    width : numpy.ndarray of float64, shape (dims,)
        Gaussian: the standard deviation ``w_k`` per stimulus axis; cosine:
        the half-width ``w`` at which the rate falls to the baseline (one
        value), in the stimulus' units (radians for a direction).
    max_rate_hz : float
        Rate at the preferred stimulus, Hz.
    baseline_rate_hz : float
        Rate far from the preferred stimulus, Hz (``0 <= b <= r_max``).
    value_range : numpy.ndarray of float64, shape (dims, 2)
        ``(low, high)`` per axis: the range the preferred values tile (and
        that a Gaussian code's stimulus must stay in); for cosine tuning of
        one angle, its period; for a direction, ``(-1, 1)`` per axis (unused).
    """

    tuning: str
    preferred: np.ndarray
    width: np.ndarray
    max_rate_hz: float
    baseline_rate_hz: float
    value_range: np.ndarray

    @property
    def n_neurons(self) -> int:
        """Number of neurons (columns of :meth:`rates` and :meth:`encode`)."""
        return int(self.preferred.shape[0])

    @property
    def dims(self) -> int:
        """Number of stimulus dimensions."""
        return int(self.preferred.shape[1])

    @property
    def circular(self) -> bool:
        """True for cosine tuning of one angle, which wraps every :attr:`period`."""
        return self.tuning == "cosine" and self.dims == 1

    @property
    def directional(self) -> bool:
        """True for cosine tuning of a direction (``dims`` >= 2; preferred values are unit vectors)."""
        return self.tuning == "cosine" and self.dims > 1

    @property
    def period(self) -> float | None:
        """Period of the circular stimulus (cosine tuning) in its units; ``None`` for Gaussian."""
        if not self.circular:
            return None
        return float(self.value_range[0, 1] - self.value_range[0, 0])

    def stimulus_array(self, stimulus, name: str = "stimulus") -> np.ndarray:
        """``stimulus`` validated and shaped ``(steps, dims)``.

        A scalar is one step; shape ``(steps,)`` is a scalar stimulus over
        time (``dims == 1`` only); shape ``(steps, dims)`` a vector one.

        Raises
        ------
        ParameterError
            Wrong shape for :attr:`dims`, NaN/inf, or (Gaussian) a value
            outside :attr:`value_range`.
        """
        try:
            s = np.asarray(stimulus, dtype=np.float64)
        except (TypeError, ValueError):
            raise ParameterError(f"{name}: expected numbers, got {type(stimulus).__name__}") from None
        want = "(steps,) or (steps, 1)" if self.dims == 1 else f"(steps, {self.dims})"
        if s.ndim == 0 and self.dims == 1:
            s = s.reshape(1, 1)
        elif s.ndim == 1 and self.dims == 1:
            s = s[:, None]
        elif s.ndim != 2 or s.shape[1] != self.dims:
            hint = " (one stimulus vector: x[None, :])" if s.ndim == 1 and s.size == self.dims else ""
            raise ParameterError(f"{name}: the population codes a {self.dims}-D stimulus, expected shape "
                                 f"{want}, got shape {s.shape}{hint}")
        if s.size and not np.all(np.isfinite(s)):
            raise ParameterError(f"{name}: expected finite numbers, got NaN or infinite values")
        if self.directional and s.size and np.any(np.linalg.norm(s, axis=1) == 0):
            raise ParameterError(f"{name}: a direction code needs non-zero stimulus vectors, got a zero row "
                                 f"(row {int(np.flatnonzero(np.linalg.norm(s, axis=1) == 0)[0])})")
        if self.tuning == "gaussian" and s.size:
            low, high = self.value_range[:, 0], self.value_range[:, 1]
            bad = (s < low) | (s > high)
            if bad.any():
                axis = int(np.flatnonzero(bad.any(axis=0))[0])
                raise ParameterError(
                    f"{name}: axis {axis} must stay in value_range [{low[axis]:g}, {high[axis]:g}], "
                    f"got range [{s[:, axis].min():g}, {s[:, axis].max():g}] (widen value_range or clip)")
        return s

    def _profile(self, s: np.ndarray) -> np.ndarray:
        """Tuning profile in [0, 1], shape ``(steps, n_neurons)``, for ``s`` shaped ``(steps, dims)``."""
        if self.circular:
            period = self.period
            d = np.mod(s[:, :1] - self.preferred[None, :, 0] + period / 2.0, period) - period / 2.0
            w = float(self.width[0])
            return np.where(np.abs(d) < w, np.cos(0.5 * np.pi * d / w), 0.0)
        if self.directional:
            unit = s / np.linalg.norm(s, axis=1, keepdims=True)
            d = np.arccos(np.clip(unit @ self.preferred.T, -1.0, 1.0))
            w = float(self.width[0])
            return np.where(d < w, np.cos(0.5 * np.pi * d / w), 0.0)
        z = (s[:, None, :] - self.preferred[None, :, :]) / self.width[None, None, :]
        return np.exp(-0.5 * np.sum(z * z, axis=2))

    def rates(self, stimulus) -> np.ndarray:
        """Firing rates in Hz for each stimulus row, shape ``(steps, n_neurons)``.

        Parameters
        ----------
        stimulus : float or array_like, shape (steps,) or (steps, dims)
            Stimulus per time step, in the units of :attr:`value_range`.

        Examples
        --------
        >>> code = tuning_curves(5, max_rate_hz=100.0, width=0.25)
        >>> [round(float(r), 1) for r in code.rates(0.5)[0]]
        [13.5, 60.7, 100.0, 60.7, 13.5]
        """
        s = self.stimulus_array(stimulus)
        b = self.baseline_rate_hz
        return b + (self.max_rate_hz - b) * self._profile(s)

    def encode(self, stimulus, *, dt: float, seed: int = 0) -> np.ndarray:
        """Poisson spike trains at :meth:`rates`: one row per stimulus step.

        Parameters
        ----------
        stimulus : float or array_like, shape (steps,) or (steps, dims)
            Stimulus per time step (hold a value for ``k`` steps with
            ``numpy.repeat``).
        dt : float
            Time step in s; ``max_rate_hz * dt`` must be <= 1.
        seed : int
            Seed for ``numpy.random.default_rng``.

        Returns
        -------
        numpy.ndarray of uint8, shape (steps, n_neurons)

        Examples
        --------
        >>> code = tuning_curves(16, tuning="cosine", value_range=(0, 360), max_rate_hz=50.0)
        >>> code.encode(np.linspace(0, 360, 200), dt=1e-3, seed=1).shape
        (200, 16)
        """
        rates = self.rates(stimulus)
        return poisson(rates, steps=rates.shape[0], dt=dt, seed=seed)


def _ranges(value_range, dims: int) -> np.ndarray:
    try:
        r = np.asarray(value_range, dtype=np.float64)
    except (TypeError, ValueError):
        r = np.full(1, np.nan)
    if r.shape == (2,):
        r = np.tile(r, (dims, 1))
    if r.shape != (dims, 2) or not np.all(np.isfinite(r)) or np.any(r[:, 0] >= r[:, 1]):
        raise ParameterError(f"value_range: expected (low, high) with low < high, or {dims} such pairs "
                             f"(one per stimulus axis), got {value_range!r}")
    return r


def _directions(n: int, dims: int) -> np.ndarray:
    """``n`` unit vectors spread evenly: a circle (2-D) or a Fibonacci lattice on the sphere (3-D)."""
    k = np.arange(n)
    if dims == 2:
        phi = 2.0 * np.pi * k / n
        return np.column_stack([np.cos(phi), np.sin(phi)])
    z = 1.0 - (2.0 * k + 1.0) / n
    rho = np.sqrt(np.maximum(0.0, 1.0 - z * z))
    phi = np.pi * (3.0 - math.sqrt(5.0)) * k
    return np.column_stack([rho * np.cos(phi), rho * np.sin(phi), z])


def _preferred_arg(preferred, n: int, dims: int) -> np.ndarray:
    try:
        p = np.asarray(preferred, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"preferred: expected numbers, shape (n_neurons,) or (n_neurons, dims), "
                             f"got {type(preferred).__name__}") from None
    if p.ndim == 1 and dims == 1:
        p = p[:, None]
    if p.shape != (n, dims) or not np.all(np.isfinite(p)):
        raise ParameterError(f"preferred: expected finite numbers of shape ({n}, {dims}) "
                             f"(n_neurons, dims), got shape {p.shape}")
    return p


def tuning_curves(n_neurons: int, *, tuning: str = "gaussian", value_range=(0.0, 1.0), dims: int = 1,
                  width=None, max_rate_hz: float, baseline_rate_hz: float = 0.0,
                  preferred=None) -> TuningCurves:
    """A population of neurons with Gaussian or cosine tuning curves tiling a stimulus range.

    Preferred values (unless ``preferred`` is given): Gaussian, 1-D:
    ``numpy.linspace(low, high, n_neurons)`` (as :func:`preferred_values`);
    ``dims`` > 1: a grid of ``m`` values per axis with
    ``m**dims == n_neurons``, row-major (the last axis varies fastest).
    Cosine, ``dims`` = 1 (a circular stimulus of period ``high - low``):
    ``low + k * (high - low) / n_neurons`` for ``k = 0 .. n_neurons - 1``,
    evenly around the circle; ``dims`` = 2: unit vectors at those angles of
    a full turn; ``dims`` = 3: a Fibonacci lattice on the unit sphere;
    ``dims`` > 3: give ``preferred``.

    Parameters
    ----------
    n_neurons : int
        Neurons in the population (>= 1; a perfect ``dims``-th power for a
        Gaussian grid).
    tuning : {"gaussian", "cosine"}
        Curve shape (formulas in :class:`TuningCurves`).
    value_range : (float, float) or sequence of dims such pairs
        Stimulus range per axis, in the stimulus' units (cosine of one angle:
        one period, e.g. ``(0, 2*pi)`` rad or ``(0, 360)`` degrees; ignored for
        a direction).
    dims : int
        Stimulus dimensions.
    width : float or array_like shape (dims,), optional
        Gaussian: standard deviation per axis, default the preferred-value
        spacing; cosine of an angle: half-width to baseline in
        ``(0, period/2]``, default ``period / 4``; cosine of a direction:
        half-width in radians in ``(0, pi]``, default ``pi / 2``. Stimulus
        units.
    max_rate_hz : float
        Peak rate in Hz (>= ``baseline_rate_hz``).
    baseline_rate_hz : float
        Rate away from the preferred value in Hz (>= 0).
    preferred : array_like, shape (n_neurons,) or (n_neurons, dims), optional
        Preferred values instead of the tiling (a direction code normalises
        them to unit vectors).

    Returns
    -------
    TuningCurves

    Raises
    ------
    ParameterError
        Unknown ``tuning``, bad ``n_neurons`` / ``dims`` / ``value_range`` /
        ``width`` / ``preferred``, negative rates or
        ``max_rate_hz < baseline_rate_hz``.

    Examples
    --------
    >>> code = tuning_curves(9, dims=2, max_rate_hz=80.0)
    >>> code.preferred.shape, code.preferred[1].tolist(), code.width.tolist()
    ((9, 2), [0.0, 0.5], [0.5, 0.5])
    >>> tuning_curves(4, tuning="cosine", value_range=(0, 360), max_rate_hz=20.0).preferred[:, 0].tolist()
    [0.0, 90.0, 180.0, 270.0]
    >>> arm = tuning_curves(8, tuning="cosine", dims=2, max_rate_hz=30.0)   # reach directions
    >>> arm.preferred[2].round(6).tolist(), round(float(arm.rates([[0.0, 5.0]])[0, 2]), 6)
    ([0.0, 1.0], 30.0)
    """
    if tuning not in TUNINGS:
        raise ParameterError(f"tuning: expected one of {list(TUNINGS)}, got {tuning!r}")
    n = _int_arg("n_neurons", n_neurons, minimum=1)
    dims = _int_arg("dims", dims, minimum=1)
    max_rate = _float_arg("max_rate_hz", max_rate_hz, low=0.0)
    baseline = _float_arg("baseline_rate_hz", baseline_rate_hz, low=0.0)
    if baseline > max_rate:
        raise ParameterError(f"baseline_rate_hz: expected at most max_rate_hz={max_rate:g} Hz, got {baseline:g} Hz")
    given = None if preferred is None else _preferred_arg(preferred, n, dims)
    if tuning == "cosine" and dims > 1:
        ranges = np.tile([-1.0, 1.0], (dims, 1))
        if given is None:
            if dims > 3:
                raise ParameterError(f"preferred: a {dims}-D direction code has no built-in tiling (2-D and 3-D "
                                     "have); give preferred=, e.g. random unit vectors")
            given = _directions(n, dims)
        norms = np.linalg.norm(given, axis=1, keepdims=True)
        if np.any(norms == 0):
            raise ParameterError("preferred: a direction code needs non-zero preferred vectors, got a zero row")
        preferred = given / norms
        w = math.pi / 2.0 if width is None else _float_arg("width", width, low=0.0, high=math.pi, low_open=True)
        widths = np.array([w])
    elif tuning == "cosine":
        ranges = _ranges(value_range, dims)
        span = ranges[:, 1] - ranges[:, 0]
        preferred = (ranges[0, 0] + span[0] * np.arange(n) / n)[:, None] if given is None else given
        w = span[0] / 4.0 if width is None else _float_arg("width", width, low=0.0, high=span[0] / 2.0,
                                                              low_open=True)
        widths = np.array([w])
    else:
        ranges = _ranges(value_range, dims)
        span = ranges[:, 1] - ranges[:, 0]
        m = int(round(n ** (1.0 / dims)))
        if given is not None:
            preferred = given
            spacing = span / max(n - 1, 1) if dims == 1 else span / max(m - 1, 1)
        else:
            if m ** dims != n:
                raise ParameterError(f"n_neurons: a {dims}-D Gaussian grid needs m**{dims} neurons "
                                     f"(e.g. {max(m, 1) ** dims} or {(m + 1) ** dims}), got {n}; "
                                     "or give preferred=")
            axes = [preferred_values(m, tuple(ranges[k])) for k in range(dims)]
            preferred = np.stack([g.reshape(-1) for g in np.meshgrid(*axes, indexing="ij")], axis=1)
            spacing = span / (m - 1) if m > 1 else span.copy()
        if width is None:
            widths = spacing
        else:
            try:
                widths = np.broadcast_to(np.asarray(width, dtype=np.float64), (dims,)).copy()
            except (TypeError, ValueError):
                raise ParameterError(f"width: expected a number > 0 or {dims} of them, got {width!r}") from None
            if not np.all(np.isfinite(widths)) or np.any(widths <= 0):
                raise ParameterError(f"width: expected finite numbers > 0 (stimulus units), got {width!r}")
    return TuningCurves(tuning=tuning, preferred=np.array(preferred, dtype=np.float64), width=widths,
                        max_rate_hz=max_rate, baseline_rate_hz=baseline, value_range=ranges)


# --------------------------------------------------------------------------- images
def image_to_unit(image, *, value_range=None) -> np.ndarray:
    """A picture as pixel intensities in [0, 1], flattened row-major, shape ``(height * width,)``.

    Parameters
    ----------
    image : array_like, shape (height, width) or (height, width, channels)
        Grey or colour picture (colour is averaged over its first three
        channels, an alpha channel ignored).
    value_range : (float, float), optional
        ``(black, white)`` in the image's units (``(0, 16)`` for scikit-learn's
        digits, ``(0, 255)`` for 8-bit pictures). Default ``(0, max)`` for a
        non-negative image, else ``(min, max)``; a constant image maps to 0.

    Returns
    -------
    numpy.ndarray of float64, shape (height * width,)

    Raises
    ------
    ParameterError
        Not 2-D/3-D, NaN/inf, or pixels outside ``value_range``.

    Examples
    --------
    >>> image_to_unit([[0, 8], [16, 4]], value_range=(0, 16)).tolist()
    [0.0, 0.5, 1.0, 0.25]
    """
    try:
        x = np.asarray(image, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"image: expected a numeric array (height, width[, channels]), "
                             f"got {type(image).__name__}") from None
    if x.ndim == 3:
        x = x[..., :3].mean(axis=2)
    if x.ndim != 2 or x.size == 0:
        raise ParameterError(f"image: expected shape (height, width) or (height, width, channels), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ParameterError("image: expected finite pixel values, got NaN or infinite values")
    if value_range is None:
        low = 0.0 if x.min() >= 0 else float(x.min())
        high = float(x.max())
        if high <= low:
            return np.zeros(x.size)
    else:
        low, high = _value_range(value_range)
        if x.min() < low or x.max() > high:
            raise ParameterError(f"image: pixels must lie in value_range [{low:g}, {high:g}], "
                                 f"got range [{x.min():g}, {x.max():g}]")
    return ((x - low) / (high - low)).reshape(-1)


def image_poisson(image, *, max_rate_hz: float, steps: int, dt: float, value_range=None,
                  seed: int = 0) -> np.ndarray:
    """Rate code: pixel ``i`` spikes as Poisson at ``intensity_i * max_rate_hz`` (Hz).

    Intensities from :func:`image_to_unit`. Returns uint8 spikes, shape
    ``(steps, height * width)``; reconstruct with
    :func:`neuroport.decoders.reconstruct_poisson`.

    Examples
    --------
    >>> image_poisson(np.eye(3), max_rate_hz=200.0, steps=50, dt=1e-3).shape
    (50, 9)
    """
    rate = _float_arg("max_rate_hz", max_rate_hz, low=0.0)
    return poisson(image_to_unit(image, value_range=value_range) * rate, steps=steps, dt=dt, seed=seed)


def image_latency(image, *, steps: int, t_max_steps: int | None = None, value_range=None) -> np.ndarray:
    """Latency code: each pixel spikes once, brighter earlier (linear mapping of :func:`latency`).

    A pixel of intensity ``x`` spikes at step ``round((1 - x) * (t_max_steps - 1))``;
    black pixels (``x = 0``) never spike. Returns uint8 spikes, shape
    ``(steps, height * width)``; reconstruct with
    :func:`neuroport.decoders.reconstruct_latency`.

    Examples
    --------
    >>> s = image_latency([[0, 16], [8, 4]], steps=17, value_range=(0, 16))
    >>> s.argmax(axis=0).tolist(), s.sum(axis=0).tolist()
    ([0, 0, 8, 12], [0, 1, 1, 1])
    """
    return latency(image_to_unit(image, value_range=value_range), steps=steps, t_max_steps=t_max_steps)


def image_population(image, *, n_neurons: int, max_rate_hz: float, steps: int, dt: float,
                     sigma: float | None = None, value_range=None, seed: int = 0) -> np.ndarray:
    """Population code of pixel intensities: ``n_neurons`` Gaussian-tuned neurons per pixel.

    Column ``i * n_neurons + j`` is neuron ``j`` (preferred intensity
    ``j / (n_neurons - 1)``) of pixel ``i``, as :func:`population` over the
    intensities of :func:`image_to_unit`. Returns uint8 spikes, shape
    ``(steps, height * width * n_neurons)``; reconstruct with
    :func:`neuroport.decoders.reconstruct_population`.

    Examples
    --------
    >>> image_population(np.eye(2), n_neurons=5, max_rate_hz=100.0, steps=20, dt=1e-3).shape
    (20, 20)
    """
    return population(image_to_unit(image, value_range=value_range), n_neurons=n_neurons, sigma=sigma,
                      max_rate_hz=max_rate_hz, steps=steps, dt=dt, seed=seed)
