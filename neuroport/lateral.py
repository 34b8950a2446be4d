r"""Winner-take-all and lateral-inhibition weights for :meth:`neuroport.Network.winner_take_all`.

Two kernels, each a small frozen object whose :meth:`~Uniform.matrix` gives the
recurrent weight matrix of a population of ``n`` neurons, shape ``(post, pre) = (n, n)``,
in the graph's weight unit (a spike through weight ``w`` raises a ``LIF``'s ``v`` by
``w * dt / tau`` with ``r = 1``, forward Euler):

``uniform(strength)``
    every neuron inhibits every other one: ``W[i, j] = -strength`` for ``i != j``;
    the diagonal is 0 unless ``self_inhibition=True``.

``mexican_hat(sigma_e, sigma_i, a_e, a_i, topology="ring" | (rows, cols))``
    a difference of Gaussians of the distance ``d[i, j]`` between the neurons' positions:

    .. math::
        W_{ij} = a_e \exp\!\left(-\frac{d_{ij}^2}{2\sigma_e^2}\right)
               - a_i \exp\!\left(-\frac{d_{ij}^2}{2\sigma_i^2}\right)

    with ``sigma_e < sigma_i``: near neighbours (within about ``sigma_e``) excite each other
    when ``a_e > a_i``, farther ones (out to about ``2 sigma_i``) inhibit. Distances are in
    neuron positions (the spacing of the ring or grid is 1, so ``sigma_e``, ``sigma_i`` and
    ``cutoff`` are counts of neurons, dimensionless); ``a_e``, ``a_i`` are in weight units.
    Positions: ``topology="ring"`` puts neuron ``i`` at angle ``2 pi i / n`` on a ring
    (``d = min(|i - j|, n - |i - j|)``); ``topology=(rows, cols)`` puts neuron
    ``i = r * cols + c`` (row-major) at ``(r, c)`` on a 2-D grid, with Euclidean distance,
    wrapped around the edges when ``periodic=True`` (a torus). ``cutoff`` (optional) zeroes
    the weights of pairs farther apart than it; the diagonal (``d = 0``) is 0 unless
    ``self_connection=True``.

Everything is whole-array numpy (``O(n^2)`` memory, fine for WTA layers of up to a few
thousand neurons).

>>> import numpy as np
>>> w = uniform(2.0).matrix(3)
>>> w.tolist()
[[0.0, -2.0, -2.0], [-2.0, 0.0, -2.0], [-2.0, -2.0, 0.0]]
>>> hat = mexican_hat(sigma_e=1.0, sigma_i=3.0, a_e=2.0, a_i=1.0).matrix(12)
>>> bool(hat[0, 1] > 0 > hat[0, 5])
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuroport.errors import ParameterError

__all__ = ["Uniform", "MexicanHat", "uniform", "mexican_hat", "ring_distances", "grid_distances"]


def _number(label: str, value, *, positive: bool = False, non_negative: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{label}: expected a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ParameterError(f"{label}: must be finite, got {value}")
    if positive and value <= 0:
        raise ParameterError(f"{label}: must be > 0, got {value}")
    if non_negative and value < 0:
        raise ParameterError(f"{label}: must be >= 0, got {value}")
    return value


def ring_distances(n: int) -> np.ndarray:
    """Distances (n, n) between neurons ``0..n-1`` on a ring of spacing 1: ``min(|i - j|, n - |i - j|)``."""
    idx = np.arange(n)
    diff = np.abs(idx[:, None] - idx[None, :])
    return np.minimum(diff, n - diff).astype(np.float64)


def grid_distances(shape, *, periodic: bool = True) -> np.ndarray:
    """Euclidean distances (n, n), ``n = rows * cols``, between grid positions (row-major neuron order).

    ``periodic`` wraps each axis (a torus): the distance along an axis of length ``L`` is
    ``min(|a - b|, L - |a - b|)``.
    """
    rows, cols = shape
    r, c = np.divmod(np.arange(rows * cols), cols)
    dr = np.abs(r[:, None] - r[None, :])
    dc = np.abs(c[:, None] - c[None, :])
    if periodic:
        dr = np.minimum(dr, rows - dr)
        dc = np.minimum(dc, cols - dc)
    return np.hypot(dr, dc)


@dataclass(frozen=True)
class Uniform:
    """Every neuron inhibits every other with weight ``-strength`` (graph weight unit, ``strength > 0``)."""

    strength: float
    self_inhibition: bool = False

    def __post_init__(self):
        _number("lateral.uniform strength", self.strength, positive=True)
        if not isinstance(self.self_inhibition, (bool, np.bool_)):
            raise ParameterError(f"lateral.uniform self_inhibition: expected True or False, got {self.self_inhibition!r}")

    def matrix(self, n: int) -> np.ndarray:
        """Recurrent weights, shape (n, n) = (post, pre)."""
        w = np.full((n, n), -float(self.strength))
        if not self.self_inhibition:
            np.fill_diagonal(w, 0.0)
        return w

    def describe(self) -> str:
        return f"uniform(strength={self.strength}, self_inhibition={bool(self.self_inhibition)})"


@dataclass(frozen=True)
class MexicanHat:
    """Difference-of-Gaussians weights over a ring or a 2-D grid (see the module docstring)."""

    sigma_e: float
    sigma_i: float
    a_e: float
    a_i: float
    topology: object = "ring"
    periodic: bool = True
    cutoff: float | None = None
    self_connection: bool = False

    def __post_init__(self):
        se = _number("lateral.mexican_hat sigma_e", self.sigma_e, positive=True)
        si = _number("lateral.mexican_hat sigma_i", self.sigma_i, positive=True)
        if not se < si:
            raise ParameterError(f"lateral.mexican_hat: needs sigma_e < sigma_i (excitation narrower than "
                                 f"inhibition), got sigma_e={se}, sigma_i={si}")
        _number("lateral.mexican_hat a_e", self.a_e, non_negative=True)
        _number("lateral.mexican_hat a_i", self.a_i, non_negative=True)
        if self.cutoff is not None:
            _number("lateral.mexican_hat cutoff", self.cutoff, positive=True)
        if isinstance(self.topology, str):
            if self.topology != "ring":
                raise ParameterError(f"lateral.mexican_hat topology: expected 'ring' or (rows, cols), "
                                     f"got {self.topology!r}")
        else:
            try:
                rows, cols = self.topology
                ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in (rows, cols))
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ParameterError(f"lateral.mexican_hat topology: expected 'ring' or (rows, cols) of positive "
                                     f"integers, got {self.topology!r}")

    def distances(self, n: int) -> np.ndarray:
        """Distances (n, n) between the neurons' positions, in neuron spacings."""
        if self.topology == "ring":
            return ring_distances(n)
        rows, cols = self.topology
        if rows * cols != n:
            raise ParameterError(f"lateral.mexican_hat topology {tuple(self.topology)} holds {rows * cols} "
                                 f"neurons, the population has {n}; give (rows, cols) with rows * cols = {n}")
        return grid_distances((rows, cols), periodic=self.periodic)

    def matrix(self, n: int) -> np.ndarray:
        """Recurrent weights, shape (n, n) = (post, pre), graph weight unit."""
        d2 = self.distances(n) ** 2
        w = (self.a_e * np.exp(-d2 / (2.0 * self.sigma_e ** 2))
             - self.a_i * np.exp(-d2 / (2.0 * self.sigma_i ** 2)))
        if self.cutoff is not None:
            w[d2 > self.cutoff ** 2] = 0.0
        if not self.self_connection:
            np.fill_diagonal(w, 0.0)
        return w

    def describe(self) -> str:
        return (f"mexican_hat(sigma_e={self.sigma_e}, sigma_i={self.sigma_i}, a_e={self.a_e}, a_i={self.a_i}, "
                f"topology={self.topology!r}, periodic={bool(self.periodic)}, cutoff={self.cutoff}, "
                f"self_connection={bool(self.self_connection)})")


def uniform(strength: float, *, self_inhibition: bool = False) -> Uniform:
    """Uniform lateral inhibition: ``W[i, j] = -strength`` (``i != j``; the diagonal too with ``self_inhibition``)."""
    return Uniform(strength, self_inhibition)


def mexican_hat(*, sigma_e: float, sigma_i: float, a_e: float, a_i: float, topology="ring",
                periodic: bool = True, cutoff: float | None = None, self_connection: bool = False) -> MexicanHat:
    """Distance-dependent excitation (``a_e``, width ``sigma_e``) minus inhibition (``a_i``, ``sigma_i``).

    Parameters
    ----------
    sigma_e, sigma_i : float, neuron spacings
        Widths of the excitatory and inhibitory Gaussians, ``0 < sigma_e < sigma_i``.
    a_e, a_i : float >= 0, weight units
        Their amplitudes.
    topology : "ring" or (rows, cols)
        Neuron positions: a ring of ``n`` or a row-major 2-D grid with ``rows * cols = n``.
    periodic : bool
        Grid only: wrap the edges (torus).
    cutoff : float, neuron spacings, optional
        Pairs farther apart get weight 0.
    self_connection : bool
        Keep the diagonal (``a_e - a_i``) instead of 0.
    """
    return MexicanHat(sigma_e, sigma_i, a_e, a_i, topology, periodic, cutoff, self_connection)
