"""Spike encoders: turn rates or analogue values into spike arrays.

Every encoder returns a :class:`numpy.ndarray` of dtype ``uint8`` (0 or 1) and
shape ``(steps, n)``: one row per time step, one column per input neuron. That
is the layout :func:`neuroport.run` takes for an input population. Random
encoders draw from ``numpy.random.default_rng(seed)``, so the same seed gives
the same spikes on every machine.

Units: rates in Hz, ``dt`` in s, times and durations in steps.

=================  ============================================================
:func:`poisson`    independent Bernoulli spikes, probability ``rate * dt`` a step
:func:`regular`    deterministic, evenly spaced spikes at the given rate
:func:`latency`    time-to-first-spike: larger value -> earlier single spike
:func:`population` Gaussian tuning curves over a value range, Poisson spikes
=================  ============================================================
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from neuroport.errors import ParameterError

__all__ = ["poisson", "regular", "latency", "population", "population_rates", "preferred_values"]

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
    rates = max_rate * np.exp(-((v[:, None] - mu[None, :]) ** 2) / (2.0 * sigma ** 2))
    return rates.reshape(-1)


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
