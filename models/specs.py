"""Neuron model specifications for the builder API (continuous time, SI units).

Each spec holds the parameters of one neuron model with their units and
turns into the matching NIR node for ``n`` neurons. Scalars apply to every
neuron; arrays of shape ``(n,)`` give per-neuron values.

Units: time constants in seconds, voltages in the graph's voltage unit
(any unit, used consistently: thresholds, leak and reset share it), ``r``
converts input to that unit.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import nir
import numpy as np

from neuroport.errors import GraphError


def _vector(name: str, value, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    arr = arr.reshape(-1)
    if arr.size != n:
        raise GraphError(f"{name}: expected a scalar or {n} values, got shape {np.shape(value)}")
    return arr


class Spec:
    """Base class: ``to_nir(n)`` makes the NIR node."""

    nir_type: type = None

    def arrays(self, n: int) -> dict:
        return {f.name: _vector(f"{type(self).__name__}.{f.name}", getattr(self, f.name), n)
                for f in fields(self)}

    def to_nir(self, n: int):
        return self.nir_type(**self.arrays(n))


@dataclass
class LIF(Spec):
    r"""Leaky integrate-and-fire neuron (NIR ``LIF``).

    .. math::
        \tau \dot v = (v_{leak} - v) + r I, \quad v > v_{threshold} \Rightarrow v \leftarrow v_{reset}

    Parameters
    ----------
    tau : float or array, s
    v_threshold : float or array, voltage unit
    v_leak, v_reset : float or array, voltage unit (default 0)
    r : float or array (default 1)
    """

    tau: float = 0.02
    v_threshold: float = 1.0
    v_leak: float = 0.0
    v_reset: float = 0.0
    r: float = 1.0
    nir_type = nir.LIF


@dataclass
class CubaLIF(Spec):
    r"""Current-based LIF (NIR ``CubaLIF``): exponential synaptic current.

    .. math::
        \tau_{syn} \dot I = -I + w_{in} S, \quad \tau_{mem} \dot v = (v_{leak} - v) + r I

    Parameters
    ----------
    tau_syn, tau_mem : float or array, s
    v_threshold, v_leak, v_reset : voltage unit
    r, w_in : dimensionless gains
    """

    tau_syn: float = 0.005
    tau_mem: float = 0.02
    v_threshold: float = 1.0
    v_leak: float = 0.0
    v_reset: float = 0.0
    r: float = 1.0
    w_in: float = 1.0
    nir_type = nir.CubaLIF


@dataclass
class IF(Spec):
    r"""Integrate-and-fire neuron (NIR ``IF``): :math:`\dot v = r I`."""

    v_threshold: float = 1.0
    v_reset: float = 0.0
    r: float = 1.0
    nir_type = nir.IF


@dataclass
class LI(Spec):
    r"""Leaky integrator without spikes (NIR ``LI``): :math:`\tau \dot v = (v_{leak} - v) + r I`."""

    tau: float = 0.02
    v_leak: float = 0.0
    r: float = 1.0
    nir_type = nir.LI


@dataclass
class Integrator(Spec):
    r"""Integrator without leak or spikes (NIR ``I``): :math:`\dot v = r I`."""

    r: float = 1.0
    nir_type = nir.I


@dataclass
class Threshold(Spec):
    r"""Stateless threshold (NIR ``Threshold``): spike where the input exceeds ``threshold``."""

    threshold: float = 0.0
    nir_type = nir.Threshold
