"""Run lengths given as a duration (seconds, or text with a unit) instead of a number of steps.

:func:`neuroport.run`, :meth:`neuroport.Simulator.run` and the commands that
run take either ``steps`` or ``duration``; :func:`steps_for` turns a duration
into steps of ``dt`` and refuses one that is not a whole number of steps
(it says the two nearest durations that are).

Examples
--------
>>> parse_duration("100ms"), parse_duration("0.1s"), parse_duration("0.25")
(0.1, 0.1, 0.25)
>>> steps_for(steps=None, duration=0.1, dt=1e-3)
100
"""

from __future__ import annotations

import math
import re

from neuroport.errors import InputError

__all__ = ["UNITS", "parse_duration", "steps_for", "format_seconds"]

#: Seconds per unit accepted by :func:`parse_duration`.
UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "min": 60.0}

_NUMBER_UNIT = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zµ]*)\s*")

#: Relative tolerance when checking that ``duration / dt`` is a whole number (float rounding of e.g. 0.1 / 1e-3).
_WHOLE_TOL = 1e-9


def parse_duration(text) -> float:
    """A duration in seconds from a number (seconds) or text ``"100ms"``, ``"0.1s"``, ``"250 us"``, ``"2min"``.

    A bare number is seconds. Raises :class:`~neuroport.errors.InputError`
    for anything else, naming the accepted units.
    """
    if isinstance(text, bool):
        raise InputError(f"duration: expected seconds or text like '100ms', got {text!r}")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        m = _NUMBER_UNIT.fullmatch(str(text))
        unit = m.group(2) if m else None
        if not m or (unit and unit not in UNITS):
            raise InputError(f"duration {text!r}: expected a number with an optional unit "
                             f"({', '.join(u for u in UNITS if u != 'µs')}; no unit: seconds), e.g. 100ms or 0.1s")
        value = float(m.group(1)) * UNITS[unit or "s"]
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"duration: expected a positive finite number of seconds, got {text!r}")
    return value


def format_seconds(seconds: float) -> str:
    """``"100 ms"``, ``"2.5 s"``, ``"50 us"``: a duration in the unit that reads best."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(seconds) >= scale or unit == "us":
            return f"{seconds / scale:.6g} {unit}"
    return f"{seconds:g} s"  # pragma: no cover


def steps_for(*, steps=None, duration=None, dt: float, required: bool = True, steps_name: str = "steps",
              duration_name: str = "duration"):
    """The number of steps of ``dt`` (s) a run takes, from ``steps`` or ``duration`` (one of them).

    Parameters
    ----------
    steps : int, optional
        Number of steps; returned as given (validated by the caller's ``check_steps``).
    duration : float or str, optional
        Seconds, or text with a unit (:func:`parse_duration`); must be a whole number of steps of ``dt``.
    dt : float
        Time step in seconds.
    required : bool
        When neither is given: raise (True) or return ``None``.
    steps_name, duration_name : str
        How the two are called in messages (``"--steps"`` on the command line).

    Raises
    ------
    InputError
        Both given, neither given (when ``required``), or a duration that is not a multiple of ``dt``
        (the message gives the rounded step count and the durations it would be).
    """
    if steps is not None and duration is not None:
        raise InputError(f"give {steps_name} or {duration_name}, not both "
                         f"({steps_name}={steps!r}, {duration_name}={duration!r})")
    if duration is None:
        if steps is None and required:
            raise InputError(f"give the run length: {steps_name} (a number of steps of dt) or "
                             f"{duration_name} (seconds, e.g. 0.1 or '100ms')")
        return steps
    seconds = parse_duration(duration)
    exact = seconds / dt
    whole = round(exact)
    if whole < 1 or abs(exact - whole) > _WHOLE_TOL * max(1.0, abs(exact)):
        down, up = math.floor(exact), math.ceil(exact)
        options = [f"{n} step{'s' if n != 1 else ''} = {format_seconds(n * dt)}" for n in (down, up) if n >= 1]
        raise InputError(
            f"{duration_name} {format_seconds(seconds)} is not a whole number of steps of dt = "
            f"{format_seconds(dt)} ({exact:.6g} steps); rounding would give "
            + " or ".join(options) + f"; give {steps_name} or a multiple of dt")
    return int(whole)
