"""Names a user types: probes as ``"population.variable"`` strings, and "did you mean" suggestions.

A probe is a population and one of its state variables. Every entry point
(:func:`neuroport.run`, :class:`neuroport.Simulator`, :func:`neuroport.compile`,
the backends, ``neuroport run --probe``) accepts it either as a string
``"exc.v"`` or as a pair ``("exc", "v")``; :func:`probe_list` turns any mix
into pairs. The population part may itself contain dots (a node of a nested
NIR graph); the variable is what follows the last dot.

Examples
--------
>>> probe_list(["exc.v", ("inh", "u")])
[('exc', 'v'), ('inh', 'u')]
>>> did_you_mean("exct", ["exc", "inh"])
" (did you mean 'exc'?)"
"""

from __future__ import annotations

import difflib
from typing import Iterable

from neuroport.errors import InputError, UnknownNameError

__all__ = ["parse_probe", "probe_list", "probe_name", "did_you_mean", "KeyedByName"]


def did_you_mean(name: str, choices: Iterable[str], *, count: int = 3) -> str:
    """``" (did you mean 'x'?)"`` for the choices closest to ``name`` (:func:`difflib.get_close_matches`), else ``""``.

    Parameters
    ----------
    name : str
        What was typed.
    choices : iterable of str
        The valid names.
    count : int
        At most this many suggestions.
    """
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=count, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"


def parse_probe(spec) -> tuple:
    """``(population, variable)`` from ``"population.variable"`` or a 2-sequence.

    Raises
    ------
    InputError
        For a string without a dot, an empty part, or anything else.
    """
    if isinstance(spec, str):
        pop, dot, var = spec.rpartition(".")
        if not dot or not pop or not var:
            raise InputError(f"probe {spec!r}: expected 'POPULATION.VARIABLE', e.g. 'exc.v'")
        return pop, var
    try:
        pop, var = spec
    except (TypeError, ValueError):
        raise InputError(f"probe {spec!r}: expected 'POPULATION.VARIABLE' (e.g. 'exc.v') "
                         "or a pair ('exc', 'v')") from None
    if not isinstance(pop, str) or not isinstance(var, str) or not pop or not var:
        raise InputError(f"probe {spec!r}: population and variable must be non-empty strings")
    return pop, var


def probe_list(probes) -> list:
    """Probes as a list of ``(population, variable)`` pairs; a single string ``"exc.v"`` is one probe."""
    if probes is None:
        return []
    if isinstance(probes, str):
        probes = [probes]
    return [parse_probe(p) for p in probes]


def probe_name(population: str, variable: str) -> str:
    """The string form ``"population.variable"``."""
    return f"{population}.{variable}"


class KeyedByName(dict):
    """A ``dict`` whose missing keys raise :class:`~neuroport.errors.UnknownNameError` (a ``KeyError``)
    naming the keys it has and the closest ones.

    ``kind`` names what the keys are in the message (``"population"``).
    """

    def __init__(self, *args, kind: str = "name", **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind

    def __missing__(self, key):
        raise UnknownNameError(f"no {self.kind} {key!r}{did_you_mean(key, self)}; "
                       f"{self.kind}s: {', '.join(map(str, self)) or 'none'}")

    def __reduce__(self):  # pickle / copy as a KeyedByName with its kind
        return (_rebuild, (self.kind, dict(self)))


def _rebuild(kind, items):
    return KeyedByName(items, kind=kind)
