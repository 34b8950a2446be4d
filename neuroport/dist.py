"""Per-neuron parameter distributions for the builder: heterogeneous populations.

Any parameter of a neuron spec may be a distribution instead of a number or an array::

    import neuroport
    from neuroport import dist

    net = neuroport.Network()
    exc = net.population(400, neuroport.LIF(tau=dist.normal(20e-3, 2e-3, low=5e-3),
                                            v_threshold=dist.uniform(0.9, 1.1)), seed=7)

The values are drawn once, when the population is added, from a
``numpy.random.Generator`` seeded by ``population(..., seed=)`` (default: a seed
derived from the population's name, so the same script builds the same
network), one field after the other in the spec's field order; a distribution
given its own ``seed=`` uses that instead. The drawn values are the node's
per-neuron arrays: every backend sees them, ``neuroport.write`` stores them
and a re-read graph runs identically. The node's metadata records what each
field was drawn from (``neuroport.dist.<field>``), for the reader.

Units are those of the parameter (seconds for time constants, the graph's
voltage unit for thresholds). Nothing is clipped silently: ``normal`` with
``low`` / ``high`` is truncated by redrawing the values outside the bounds.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from neuroport.errors import ParameterError

__all__ = ["Distribution", "normal", "uniform", "lognormal", "choice", "generator"]

#: at most this many redraws of a truncated normal before the bounds are called unreachable
_MAX_REDRAWS = 1000


class Distribution:
    """Base class: :meth:`sample` draws ``n`` values; :meth:`describe` says what from."""

    seed: int | None = None

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def draw(self, rng: np.random.Generator, n: int, label: str = "parameter") -> np.ndarray:
        """``n`` float64 values, from the distribution's own seed if it has one, else from ``rng``."""
        own = np.random.default_rng(self.seed) if self.seed is not None else rng
        values = np.asarray(self.sample(own, int(n)), dtype=np.float64).reshape(-1)
        if values.size != n or not np.all(np.isfinite(values)):
            raise ParameterError(f"{label}: {self.describe()} drew non-finite values")
        return values

    def describe(self) -> str:  # pragma: no cover - every subclass defines it
        raise NotImplementedError


def _finite(label: str, *values) -> None:
    for v in values:
        if v is not None and not np.isfinite(float(v)):
            raise ParameterError(f"{label}: parameters must be finite numbers, got {v!r}")


@dataclass(frozen=True)
class Normal(Distribution):
    """Gaussian with mean ``mean`` and standard deviation ``sd`` (the parameter's unit), truncated to
    ``[low, high]`` by redrawing when given."""

    mean: float
    sd: float
    low: float | None = None
    high: float | None = None
    seed: int | None = None

    def __post_init__(self):
        _finite("dist.normal", self.mean, self.sd, self.low, self.high)
        if self.sd < 0:
            raise ParameterError(f"dist.normal: sd must be >= 0, got {self.sd}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ParameterError(f"dist.normal: low must be < high, got low={self.low}, high={self.high}")

    def sample(self, rng, n):
        out = rng.normal(self.mean, self.sd, n)
        lo = -np.inf if self.low is None else self.low
        hi = np.inf if self.high is None else self.high
        for _ in range(_MAX_REDRAWS):
            bad = (out < lo) | (out > hi)
            if not bad.any():
                return out
            out[bad] = rng.normal(self.mean, self.sd, int(bad.sum()))
        raise ParameterError(f"{self.describe()}: fewer than 1 in {_MAX_REDRAWS} draws falls inside "
                             f"[{lo}, {hi}]; widen the bounds or move the mean")

    def describe(self):
        bounds = "" if self.low is None and self.high is None else f", low={self.low}, high={self.high}"
        return f"normal(mean={self.mean}, sd={self.sd}{bounds})"


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on ``[low, high)``."""

    low: float
    high: float
    seed: int | None = None

    def __post_init__(self):
        _finite("dist.uniform", self.low, self.high)
        if not self.low <= self.high:
            raise ParameterError(f"dist.uniform: low must be <= high, got {self.low} > {self.high}")

    def sample(self, rng, n):
        return rng.uniform(self.low, self.high, n)

    def describe(self):
        return f"uniform(low={self.low}, high={self.high})"


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Log-normal whose values have median ``median`` and whose logarithm has standard deviation
    ``sigma`` (positive values: time constants, conductances)."""

    median: float
    sigma: float
    seed: int | None = None

    def __post_init__(self):
        _finite("dist.lognormal", self.median, self.sigma)
        if self.median <= 0 or self.sigma < 0:
            raise ParameterError(f"dist.lognormal: needs median > 0 and sigma >= 0, got {self.median}, {self.sigma}")

    def sample(self, rng, n):
        return rng.lognormal(np.log(self.median), self.sigma, n)

    def describe(self):
        return f"lognormal(median={self.median}, sigma={self.sigma})"


@dataclass(frozen=True)
class Choice(Distribution):
    """One of ``values`` per neuron, with probabilities ``p`` (default: equal)."""

    values: tuple
    p: tuple | None = None
    seed: int | None = None

    def __post_init__(self):
        if not len(self.values):
            raise ParameterError("dist.choice: needs at least one value")
        _finite("dist.choice", *self.values)
        if self.p is not None:
            p = np.asarray(self.p, dtype=np.float64)
            if p.shape != (len(self.values),) or np.any(p < 0) or not np.isclose(p.sum(), 1.0):
                raise ParameterError(f"dist.choice: p needs {len(self.values)} non-negative values summing to 1, "
                                     f"got {self.p!r}")

    def sample(self, rng, n):
        return rng.choice(np.asarray(self.values, dtype=np.float64), size=n, p=self.p)

    def describe(self):
        return f"choice(values={list(self.values)}" + (f", p={list(self.p)})" if self.p is not None else ")")


def normal(mean: float, sd: float, *, low: float | None = None, high: float | None = None,
           seed: int | None = None) -> Normal:
    """Gaussian per-neuron values, optionally truncated to ``[low, high]`` (redrawn, not clipped).

    >>> import numpy as np
    >>> v = normal(20e-3, 2e-3, low=15e-3).draw(np.random.default_rng(0), 1000)
    >>> bool(v.min() >= 15e-3) and abs(v.mean() - 20e-3) < 1e-3
    True
    """
    return Normal(float(mean), float(sd), None if low is None else float(low),
                  None if high is None else float(high), seed)


def uniform(low: float, high: float, *, seed: int | None = None) -> Uniform:
    """Uniform per-neuron values on ``[low, high)``."""
    return Uniform(float(low), float(high), seed)


def lognormal(median: float, sigma: float, *, seed: int | None = None) -> LogNormal:
    """Log-normal per-neuron values (median ``median``, ``sigma`` of the logarithm)."""
    return LogNormal(float(median), float(sigma), seed)


def choice(values, p=None, *, seed: int | None = None) -> Choice:
    """Each neuron takes one of ``values`` (probabilities ``p``)."""
    return Choice(tuple(float(v) for v in values), None if p is None else tuple(float(x) for x in p), seed)


def generator(seed: int | None, name: str) -> np.random.Generator:
    """The generator a population's distributions draw from: ``seed``, or one derived from ``name``."""
    return np.random.default_rng(seed if seed is not None else zlib.crc32(name.encode("utf-8")))
