"""Continuous time -> one time step: the rules every model's ``discretize`` uses.

These are the only formulas that turn time constants (s) into per-step
factors (docs/semantics.md); :func:`neuroport.compile` and the model files in
``neuroport.models`` call them and never re-derive a decay.
"""

from __future__ import annotations

import numpy as np

from neuroport.errors import GraphError, ParameterError


def decay_fraction(node_name: str, field: str, tau, dt: float, scheme: str) -> np.ndarray:
    """Fraction of the state lost per step for time constant ``tau`` (s).

    Euler: ``dt / tau`` (refused when > 1); exact: ``1 - exp(-dt / tau)``.

    Examples
    --------
    >>> float(decay_fraction("lif", "tau", 0.01, 1e-3, "euler")[0])
    0.1
    """
    tau = np.asarray(tau, dtype=np.float64).reshape(-1)
    if np.any(~np.isfinite(tau)) or np.any(tau <= 0):
        bad = tau[~np.isfinite(tau) | (tau <= 0)][0]
        raise ParameterError(f"{node_name}.{field}: time constants must be positive and finite (s), got {bad}")
    if scheme == "exact":
        return -np.expm1(-dt / tau)
    frac = dt / tau
    if np.any(frac > 1.0):
        raise ParameterError(
            f"{node_name}.{field}: forward Euler needs dt <= tau, got dt = {dt} s and tau = {tau.min()} s "
            f"(dt/tau = {frac.max():.3g}); use a smaller dt or scheme='exact'"
        )
    return frac


def node_param(name: str, node, field: str, size: int, default=None, *, finite: bool = True) -> np.ndarray:
    """Field ``field`` of NIR node ``name`` as a finite float64 array of shape ``(size,)``.

    ``finite=False`` skips the finiteness check (``v_init``: NaN means "the reset value").

    Raises
    ------
    ParameterError
        Missing without a default, or not finite.
    GraphError
        Neither a scalar nor ``size`` values.
    """
    value = getattr(node, field, None)
    if value is None:
        if default is None:
            raise ParameterError(f"{name}.{field}: missing")
        value = default
    arr = real_array(value, f"{name}.{field}").reshape(-1)
    if arr.size == 1 and size != 1:
        arr = np.full(size, arr[0])
    if arr.size != size:
        raise GraphError(f"{name}.{field}: expected {size} values (one per neuron), got shape {np.shape(value)}")
    if finite and not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name}.{field}: must be finite, got {arr[~np.isfinite(arr)][0]}")
    return arr


def real_array(value, label: str) -> np.ndarray:
    """``value`` as float64, refusing strings, bytes, records and complex numbers (never dropping a part).

    Examples
    --------
    >>> real_array([1, 2], "lif.tau").tolist()
    [1.0, 2.0]
    >>> real_array([1j], "lif.tau")
    Traceback (most recent call last):
    ...
    neuroport.errors.ParameterError: lif.tau: expected real numbers, got complex128 values (e.g. 1j)
    """
    raw = np.asarray(value)
    if raw.dtype.kind not in "biuf":
        example = raw.reshape(-1)[0] if raw.size else None
        raise ParameterError(f"{label}: expected real numbers, got {raw.dtype} values (e.g. {example!r})")
    return raw.astype(np.float64, copy=False)


def node_field(pn, name: str) -> np.ndarray:
    """Field ``name`` of a population's node, flattened to float64 (types checked; extension nodes check values)."""
    return real_array(getattr(pn.node, name), f"{pn.name}.{name}").reshape(-1)


def optional_decay(pn, field: str, opts) -> np.ndarray:
    """Decay fraction per step for a time constant where 0 means 'feature off' (0 there)."""
    tau = node_field(pn, field)
    out = np.zeros(pn.size)
    on = tau > 0
    if np.any(~np.isfinite(tau)) or np.any(tau < 0):
        raise ParameterError(f"{pn.name}.{field}: must be >= 0 s (0 disables it), got {tau[~(tau >= 0)][0]}")
    if on.any():
        out[on] = decay_fraction(pn.name, field, tau[on], opts["dt"], opts["scheme"])
    return out


def refractory_steps(pn, opts) -> np.ndarray:
    """The node's ``refractory`` period (s) in whole steps (int64); refuses fractions of a step."""
    ref = node_field(pn, "refractory")
    if np.any(~np.isfinite(ref)) or np.any(ref < 0):
        raise ParameterError(f"{pn.name}.refractory: must be >= 0 s, got {ref.min()}")
    steps = ref / opts["dt"]
    rounded = np.rint(steps)
    if np.any(np.abs(steps - rounded) > 1e-6 * np.maximum(1.0, rounded)):
        raise ParameterError(
            f"{pn.name}.refractory: {ref.max()} s is not a whole number of steps of dt = {opts['dt']} s"
        )
    return rounded.astype(np.int64)


def initial_v(pn, v_offset) -> np.ndarray:
    """The node's ``v_init`` shifted by ``v_offset`` (NaN, the default, means the reset value: 0)."""
    v0 = node_field(pn, "v_init")
    return np.where(np.isnan(v0), 0.0, v0 - v_offset)
