"""Neuron model specifications for the builder API (continuous time, SI units).

Each spec holds the parameters of one neuron model with their units and
turns into the matching NIR node for ``n`` neurons. Scalars apply to every
neuron; arrays of shape ``(n,)`` give per-neuron values.

Any field may also be a :mod:`neuroport.dist` distribution (heterogeneous
populations): drawn per neuron when the population is added.

Units: time constants in seconds, voltages in the graph's voltage unit
(any unit, used consistently: thresholds, leak and reset share it), ``r``
converts input to that unit.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import nir
import numpy as np

from neuroport.dist import Distribution
from neuroport.errors import GraphError
from neuroport.nodes import AdaptiveLIF
from neuroport.nodes import CondLIF as CondLIFNode


def _vector(name: str, value, n: int, rng=None) -> np.ndarray:
    if isinstance(value, Distribution):  # heterogeneous: drawn per neuron (neuroport.dist)
        return value.draw(rng if rng is not None else np.random.default_rng(0), n, name)
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    arr = arr.reshape(-1)
    if arr.size != n:
        raise GraphError(f"{name}: expected a scalar or {n} values, got shape {np.shape(value)}")
    return arr


#: Options that NIR primitives cannot express; setting any makes the spec emit
#: the neuroport extension node ``neuroport.AdaptiveLIF``.
EXTENDED = ("refractory", "tau_theta", "theta_plus", "theta_init", "tau_adapt", "b_adapt", "v_init", "tau_syn_inh")


class Spec:
    """Base class: ``to_nir(n)`` makes the NIR node."""

    nir_type: type = None

    def arrays(self, n: int, rng=None) -> dict:
        """Every field as ``(n,)`` float64 values; :mod:`neuroport.dist` fields drawn from ``rng``, in field
        order."""
        return {f.name: _vector(f"{type(self).__name__}.{f.name}", getattr(self, f.name), n, rng)
                for f in fields(self)}

    def distributions(self) -> dict:
        """``{"neuroport.dist.<field>": description}`` of the fields drawn from a distribution."""
        return {f"neuroport.dist.{f.name}": getattr(self, f.name).describe() for f in fields(self)
                if isinstance(getattr(self, f.name), Distribution)}

    def _node(self, node):
        meta = self.distributions()
        if meta:
            node.metadata = {**(getattr(node, "metadata", None) or {}), **meta}
        return node

    def to_nir(self, n: int, rng=None):
        return self._node(self.nir_type(**self.arrays(n, rng)))


class _Extensible(Spec):
    """A NIR primitive unless an extended option (refractoriness, adaptation...) is set."""

    renames: dict = {}

    def uses_extension(self) -> bool:
        for name in EXTENDED:
            if isinstance(getattr(self, name, 0.0), Distribution):
                return True
            value = np.asarray(getattr(self, name, 0.0), dtype=np.float64)
            if name == "v_init":
                if not np.all(np.isnan(value)):
                    return True
            elif np.any(value != 0):
                return True
        return False

    def to_nir(self, n: int, rng=None):
        arrays = self.arrays(n, rng)
        if not self.uses_extension():
            return self._node(self.nir_type(**{k: v for k, v in arrays.items() if k not in EXTENDED}))
        return self._node(AdaptiveLIF(**{self.renames.get(k, k): v for k, v in arrays.items()}))


_EXTENDED_DOC = """
    refractory : float or array, s
        Absolute refractory period (v held at v_reset), default 0.
    tau_theta : float or array, s; theta_plus : voltage unit
        Adaptive threshold: jumps by ``theta_plus`` per spike, decays with ``tau_theta`` (0: never decays).
    theta_init : float or array, voltage unit
        Initial threshold adaptation (e.g. the thresholds a trained network learned).
    tau_adapt : float or array, s; b_adapt : current unit
        Adaptation current ``w`` (``r * w`` is subtracted from the drive): jumps by
        ``b_adapt`` per spike, decays with ``tau_adapt`` (0: off).
    v_init : float or array, voltage unit
        Initial membrane potential (default: ``v_reset``).

    Setting any of these writes the neuroport extension node ``neuroport.AdaptiveLIF``
    instead of the NIR primitive.

    Examples
    --------
    >>> import numpy as np, neuroport
    >>> type(neuroport.LIF(tau=0.02).to_nir(3)).__name__, type(neuroport.LIF(refractory=3e-3).to_nir(3)).__name__
    ('LIF', 'AdaptiveLIF')
    >>> def spike_steps(spec, steps=12):
    ...     net = neuroport.Network()
    ...     x = net.input(1, name="x")
    ...     y = net.population(1, spec, name="y")
    ...     _ = net.connect(x, y, weight=30.0)                  # 30 * dt / tau = 1.5 > threshold each step
    ...     return neuroport.run(net, dt=1e-3, steps=steps, inputs=np.ones((steps, 1)))["y"].steps.tolist()
    >>> spike_steps(neuroport.LIF(tau=0.02, v_threshold=1.0))
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    >>> spike_steps(neuroport.LIF(tau=0.02, v_threshold=1.0, refractory=3e-3))   # held 3 steps after each spike
    [1, 5, 9]
"""


@dataclass
class LIF(_Extensible):
    r"""Leaky integrate-and-fire neuron (NIR ``LIF``), optionally refractory and adaptive.

    .. math::
        \tau \dot v = (v_{leak} - v) + r I, \quad v > v_{threshold} \Rightarrow v \leftarrow v_{reset}

    Parameters
    ----------
    tau : float or array, s
    v_threshold : float or array, voltage unit
    v_leak, v_reset : float or array, voltage unit (default 0)
    r : float or array (default 1)
    """

    __doc__ += _EXTENDED_DOC
    tau: float = 0.02
    v_threshold: float = 1.0
    v_leak: float = 0.0
    v_reset: float = 0.0
    r: float = 1.0
    refractory: float = 0.0
    tau_theta: float = 0.0
    theta_plus: float = 0.0
    theta_init: float = 0.0
    tau_adapt: float = 0.0
    b_adapt: float = 0.0
    v_init: float = np.nan
    nir_type = nir.LIF
    renames = {"tau": "tau_mem"}


@dataclass
class CubaLIF(_Extensible):
    r"""Current-based LIF (NIR ``CubaLIF``): exponential synaptic current.

    .. math::
        \tau_{syn} \dot I = -I + w_{in} S, \quad \tau_{mem} \dot v = (v_{leak} - v) + r I

    Parameters
    ----------
    tau_syn, tau_mem : float or array, s
    v_threshold, v_leak, v_reset : voltage unit
    r, w_in : dimensionless gains
    tau_syn_inh : float or array, s
        If > 0, negative weights feed a second current with this time constant
        (the CUBA benchmark's separate inhibitory synapses).

    Examples
    --------
    >>> import numpy as np, neuroport
    >>> def drive(spec, value, steps=10):
    ...     # one neuron of ``spec`` fed ``value`` through weight 1 every step (1 ms); v probed
    ...     net = neuroport.Network()
    ...     x = net.input(1, name="x")
    ...     y = net.population(1, spec, name="y")
    ...     _ = net.connect(x, y, weight=1.0)
    ...     return neuroport.run(net, dt=1e-3, steps=steps, inputs=np.full((steps, 1), value), probes=["y.v"])

    >>> type(neuroport.CubaLIF(tau_syn=5e-3, tau_mem=0.02).to_nir(4)).__name__
    'CubaLIF'
    >>> v = drive(neuroport.CubaLIF(tau_syn=5e-3, tau_mem=0.02, v_threshold=1.0), 1.0, steps=4)["y.v"][:, 0]
    >>> v.round(4).tolist()        # u: 1, 1.8, 2.44 (decay 1 - dt/tau_syn); v += dt/tau_mem (u - v)
    [0.0, 0.01, 0.0275, 0.0505]
    """

    tau_syn: float = 0.005
    tau_mem: float = 0.02
    v_threshold: float = 1.0
    v_leak: float = 0.0
    v_reset: float = 0.0
    r: float = 1.0
    w_in: float = 1.0
    tau_syn_inh: float = 0.0
    refractory: float = 0.0
    tau_theta: float = 0.0
    theta_plus: float = 0.0
    theta_init: float = 0.0
    tau_adapt: float = 0.0
    b_adapt: float = 0.0
    v_init: float = np.nan
    nir_type = nir.CubaLIF


@dataclass
class IF(Spec):
    r"""Integrate-and-fire neuron (NIR ``IF``): :math:`\dot v = r I`.

    Examples
    --------
    >>> import numpy as np, neuroport
    >>> def drive(spec, value, steps=10):
    ...     # one neuron of ``spec`` fed ``value`` through weight 1 every step (1 ms); v probed
    ...     net = neuroport.Network()
    ...     x = net.input(1, name="x")
    ...     y = net.population(1, spec, name="y")
    ...     _ = net.connect(x, y, weight=1.0)
    ...     return neuroport.run(net, dt=1e-3, steps=steps, inputs=np.full((steps, 1), value), probes=["y.v"])

    >>> result = drive(neuroport.IF(v_threshold=1.0), 250.0)     # v grows by dt * r * I = 0.25 a step
    >>> result["y.v"][:6, 0].tolist(), result["y"].steps.tolist()
    ([0.0, 0.25, 0.5, 0.75, 1.0, 0.0], [5])
    """

    v_threshold: float = 1.0
    v_reset: float = 0.0
    r: float = 1.0
    nir_type = nir.IF


@dataclass
class LI(Spec):
    r"""Leaky integrator without spikes (NIR ``LI``): :math:`\tau \dot v = (v_{leak} - v) + r I`.

    Examples
    --------
    >>> import numpy as np, neuroport
    >>> def drive(spec, value, steps=10):
    ...     # one neuron of ``spec`` fed ``value`` through weight 1 every step (1 ms); v probed
    ...     net = neuroport.Network()
    ...     x = net.input(1, name="x")
    ...     y = net.population(1, spec, name="y")
    ...     _ = net.connect(x, y, weight=1.0)
    ...     return neuroport.run(net, dt=1e-3, steps=steps, inputs=np.full((steps, 1), value), probes=["y.v"])

    >>> result = drive(neuroport.LI(tau=0.01), 1.0, steps=5)     # v <- v + dt/tau (1 - v), never spikes
    >>> result["y.v"][:, 0].round(3).tolist(), result["y"].count
    ([0.0, 0.1, 0.19, 0.271, 0.344], 0)
    """

    tau: float = 0.02
    v_leak: float = 0.0
    r: float = 1.0
    nir_type = nir.LI


@dataclass
class Integrator(Spec):
    r"""Integrator without leak or spikes (NIR ``I``): :math:`\dot v = r I`.

    Examples
    --------
    >>> import numpy as np, neuroport
    >>> def drive(spec, value, steps=10):
    ...     # one neuron of ``spec`` fed ``value`` through weight 1 every step (1 ms); v probed
    ...     net = neuroport.Network()
    ...     x = net.input(1, name="x")
    ...     y = net.population(1, spec, name="y")
    ...     _ = net.connect(x, y, weight=1.0)
    ...     return neuroport.run(net, dt=1e-3, steps=steps, inputs=np.full((steps, 1), value), probes=["y.v"])

    >>> drive(neuroport.Integrator(r=2.0), 100.0, steps=4)["y.v"][:, 0].round(6).tolist()   # += dt * r * I
    [0.0, 0.2, 0.4, 0.6]
    """

    r: float = 1.0
    nir_type = nir.I


@dataclass
class Threshold(Spec):
    r"""Stateless threshold (NIR ``Threshold``): spike where the input exceeds ``threshold``.

    Examples
    --------
    >>> import numpy as np, neuroport
    >>> net = neuroport.Network()
    >>> x = net.input(3, name="x")
    >>> y = net.population(3, neuroport.Threshold(threshold=0.5), name="y")
    >>> _ = net.connect(x, y, weight=np.eye(3))
    >>> result = neuroport.run(net, dt=1e-3, steps=3, inputs=np.tile([0.2, 0.6, 0.9], (3, 1)))
    >>> result["y"].counts().tolist()        # neurons 1 and 2 exceed 0.5 (from step 1: one step of synapse)
    [0, 2, 2]
    """

    threshold: float = 0.0
    nir_type = nir.Threshold


@dataclass
class CondLIF(Spec):
    r"""Conductance-based LIF (COBA), written as the extension node ``neuroport.CondLIF``.

    .. math::
        \tau_{mem} \dot v = (E_L - v) + g_e (E_e - v) + g_i (E_i - v) + g_a (E_a - v)

    Conductances are relative to the leak conductance: a projection's positive
    weight ``w`` raises ``g_e`` by ``w`` per spike, a negative one raises ``g_i`` by
    ``|w|`` (e.g. 6 nS on g_L = 10 nS is ``w = 0.6``). Use :meth:`from_physical`
    for C (F) and g_L (S).

    Parameters
    ----------
    tau_mem, tau_exc, tau_inh : s
    e_leak, e_exc, e_inh, v_threshold, v_reset : voltage unit
    refractory, tau_theta, theta_plus, tau_adapt, b_adapt, e_adapt, v_init
        As for :class:`LIF`; ``b_adapt`` is a relative conductance, ``e_adapt``
        its reversal potential.
    g_exc_init, g_inh_init : float or array
        Initial conductances (relative to g_L), default 0 (may be negative as a
        perturbation, as in the COBA benchmark's published initial condition).

    Examples
    --------
    >>> import numpy as np, neuroport
    >>> def drive(spec, value, steps=10):
    ...     # one neuron of ``spec`` fed ``value`` through weight 1 every step (1 ms); v probed
    ...     net = neuroport.Network()
    ...     x = net.input(1, name="x")
    ...     y = net.population(1, spec, name="y")
    ...     _ = net.connect(x, y, weight=1.0)
    ...     return neuroport.run(net, dt=1e-3, steps=steps, inputs=np.full((steps, 1), value), probes=["y.v"])

    >>> type(neuroport.CondLIF().to_nir(2)).__name__                 # a neuroport extension node
    'CondLIF'
    >>> rest = drive(neuroport.CondLIF(e_leak=-60.0, v_reset=-60.0), 0.0, steps=3)
    >>> rest["y.v"][:, 0].tolist()                                   # no input: stays at e_leak (mV)
    [-60.0, -60.0, -60.0]
    >>> excited = drive(neuroport.CondLIF(e_leak=-60.0, v_reset=-60.0, e_exc=0.0), 0.5, steps=3)
    >>> bool(excited["y.v"][-1, 0] > -60.0)                         # g_exc pulls v towards e_exc = 0 mV
    True
    """

    tau_mem: float = 0.02
    e_leak: float = -60.0
    e_exc: float = 0.0
    e_inh: float = -80.0
    tau_exc: float = 0.005
    tau_inh: float = 0.01
    v_threshold: float = -50.0
    v_reset: float = -60.0
    refractory: float = 0.0
    tau_theta: float = 0.0
    theta_plus: float = 0.0
    tau_adapt: float = 0.0
    b_adapt: float = 0.0
    e_adapt: float = -80.0
    v_init: float = np.nan
    g_exc_init: float = 0.0
    g_inh_init: float = 0.0

    def to_nir(self, n: int, rng=None):
        return self._node(CondLIFNode(**self.arrays(n, rng)))

    @classmethod
    def from_physical(cls, *, capacitance: float, g_leak: float, **kwargs) -> "CondLIF":
        """From membrane capacitance (F) and leak conductance (S): ``tau_mem = C / g_L``."""
        if not (capacitance > 0 and g_leak > 0):
            raise GraphError(f"capacitance and g_leak must be > 0, got {capacitance}, {g_leak}")
        return cls(tau_mem=capacitance / g_leak, **kwargs)
