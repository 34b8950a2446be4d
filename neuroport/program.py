"""The compiled, backend-neutral, discrete-time Program.

A :class:`Program` is what :func:`neuroport.compile` makes out of a NIR graph
and what every discrete backend consumes. It holds

* populations: groups of neurons with one model and per-neuron parameter
  arrays (already discretised: decay fractions per step, thresholds shifted so
  that the reset value is 0, biases per step);
* projections: CSR weight matrices of shape ``(post.size, pre.size)`` with one
  integer delay (in steps) per stored synapse;
* inputs, outputs and default probes.

Two levels exist, each its own type (:class:`FloatProgram`, :class:`FixedProgram`;
``Program(..., level=...)`` makes the matching one):

``level="discrete"`` (float64, made by :func:`neuroport.compile`)
    Parameters per population (all arrays of shape ``(size,)``):

    ``du``
        Synaptic-current decay per step, in [0, 1]. ``1`` means the current
        holds only this step's input (plain LIF).
    ``dv``
        Membrane decay per step, in [0, 1]. ``0`` for IF / integrators.
    ``v_threshold``
        Threshold relative to the reset value (``v_threshold - v_reset``);
        ``inf`` for non-spiking models.
    ``bias``
        Added to ``v`` every step (leak level and constant input folded in).
    ``u_bias``
        Added to ``u`` every step (an Affine bias in front of a CubaLIF).
    ``refractory``
        Refractory period in whole steps (int).

    Projection weights are in "membrane units per step": the synaptic input
    ``a_in`` a population receives is ``sum_j W[i, j] * out_j``, every gain
    (``r``, ``w_in``, ``dt / tau``) already folded in.

``level="fixed"`` (int64, made by :func:`neuroport.quantize`)
    Parameters per population follow Lava's ``PyLifModelBitAcc``: ``du`` and
    ``dv`` in [0, 4095] (12-bit decay, Lava's +1 offset on ``du`` applied by
    the engine), ``vth`` (17-bit mantissa, compared as ``vth << 6``),
    ``bias_mant`` (13-bit signed), ``bias_exp`` (0..7), ``refractory``.
    ``scale`` (float, per population) converts: ``v_int = v_float * scale``.
    Projection ``weights`` hold the integer weight mantissas Lava is given,
    plus ``weight_exp``, ``num_weight_bits`` and ``sign_mode``.

Probed states are reported in the model's own units: ``v`` is the membrane
potential (``v_internal + v_offset``), ``u`` the synaptic variable as the
engine holds it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import scipy.sparse as sp

from neuroport import hardware as hw
from neuroport.errors import CompileError, GraphError

#: Compile options recorded in every Program and in files neuroport writes.
OPTION_NAMES = ("dt", "scheme", "reset", "timing")


@dataclass(frozen=True)
class Population:
    """A group of ``size`` neurons sharing one model.

    Parameters
    ----------
    name : str
        The NIR node name.
    size : int
        Number of neurons (the node's flattened shape).
    model : str
        Model key in :mod:`neuroport.models` (``"input"``, ``"lif"``,
        ``"cubalif"``, ``"if"``, ``"li"``, ``"integrator"``, ``"threshold"``).
    params : Mapping[str, numpy.ndarray]
        Per-neuron discrete parameters, each of shape ``(size,)``.
    emits : str
        ``"spikes"`` (0/1 per step) or ``"state"`` (the value of ``v``, for
        LI and integrators, and graded inputs).
    v_offset : numpy.ndarray
        Added to the internal ``v`` to report the model's membrane potential
        (the reset value ``v_reset``), shape ``(size,)``.
    shape : tuple of int
        The node's original (unflattened) shape.

    Examples
    --------
    >>> import neuroport
    >>> net = neuroport.Network()
    >>> x = net.input(2, name="x")
    >>> y = net.population(3, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
    >>> _ = net.connect(x, y, weight=0.37, delay=2e-3)
    >>> program = neuroport.compile(net, dt=1e-3)

    >>> pop = program.populations["y"]
    >>> pop.name, pop.size, pop.model, pop.is_input
    ('y', 3, 'lif', False)
    >>> pop.params["dv"], pop.params["v_threshold"]                     # dt / tau; threshold above the reset
    (array([0.05, 0.05, 0.05]), array([1., 1., 1.]))
    """

    name: str
    size: int
    model: str
    params: Mapping[str, np.ndarray] = field(default_factory=dict)
    emits: str = "spikes"
    v_offset: np.ndarray | None = None
    shape: tuple = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_input(self) -> bool:
        return self.model == "input"

    # -- typed views of ``extra`` (the one place each fact is derived) -------------------
    @property
    def reset(self) -> str:
        """``"zero"``, ``"subtract"``, ``"subtract_undecayed"`` or ``"zero_hold"``
        (:mod:`neuroport.semantics`)."""
        return str(self.extra.get("reset", "zero"))

    @property
    def subtract(self) -> bool:
        """Whether a spike subtracts the threshold instead of resetting ``v`` to 0."""
        return self.reset == "subtract"

    @property
    def deferred_reset(self) -> bool:
        """Whether the reset happens in the step after the spike (``subtract_undecayed``, ``zero_hold``)."""
        return self.reset in ("subtract_undecayed", "zero_hold", "subtract_no_delay")

    @property
    def threshold_ge(self) -> bool:
        """Whether a spike needs ``v >= threshold`` (else ``v > threshold``)."""
        return self.extra.get("threshold", "gt") == "ge"

    @property
    def multi_spike(self) -> bool:
        """Whether the population sends ``floor(v / threshold)`` spikes per step (a count)."""
        return self.extra.get("spikes", "single") == "multi"

    @property
    def conventions(self) -> list:
        """The non-default per-node conventions of this population, as text (reports, refusals)."""
        out = []
        if self.reset not in ("zero", "subtract"):
            out.append(f"reset={self.reset!r}")
        if self.threshold_ge:
            out.append("threshold '>='")
        if self.multi_spike:
            out.append("several spikes per step")
        return out

    @property
    def ports(self) -> tuple:
        """Input ports: ``("input",)``, or ``("exc", "inh")`` for two-port models."""
        return tuple(self.extra.get("ports", ("input",)))

    @property
    def two_port(self) -> bool:
        return self.ports == ("exc", "inh")

    @property
    def scale(self) -> float | None:
        """Integer ``v`` units per float unit (fixed Programs), else None."""
        s = self.extra.get("scale")
        return None if s is None else float(s)

    def param(self, key: str, default: float = 0.0) -> np.ndarray:
        """Parameter ``key`` as an array of shape ``(size,)`` (``default`` if absent)."""
        value = self.params.get(key)
        if value is None:
            return np.full(self.size, default)
        return np.broadcast_to(np.asarray(value), (self.size,))


@dataclass(frozen=True)
class Projection:
    """Synapses from population ``pre`` to population ``post``.

    Parameters
    ----------
    name : str
        Unique name (NIR edge path, e.g. ``"input->fc1->lif1"``).
    pre, post : str
        Population names.
    weights : scipy.sparse.csr_matrix
        Shape ``(post.size, pre.size)``. Stored entries are synapses (an
        explicit zero weight is still a synapse).
    delays : numpy.ndarray
        Integer delay in steps per stored synapse, aligned with
        ``weights.data`` (shape ``(nnz,)``). A spike emitted at step ``t``
        is delivered at ``t + delay``. ``>= 1`` everywhere with
        ``timing="hardware"``.
    extra : Mapping
        Level-specific fields (``weight_exp``, ``num_weight_bits``,
        ``sign_mode`` in fixed Programs; plasticity later).

    Examples
    --------
    >>> import neuroport
    >>> net = neuroport.Network()
    >>> x = net.input(2, name="x")
    >>> y = net.population(3, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
    >>> _ = net.connect(x, y, weight=0.37, delay=2e-3)
    >>> program = neuroport.compile(net, dt=1e-3)

    >>> proj = program.projections[0]
    >>> proj.pre, proj.post, proj.nnz
    ('x', 'y', 6)
    >>> proj.weights.toarray()[0].round(6)                     # 0.37 * dt / tau: membrane units per step
    array([0.0185, 0.0185])
    >>> proj.delays[:3].tolist()                               # 2 ms = 2 steps, + the step every projection adds
    [3, 3, 3]
    """

    name: str
    pre: str
    post: str
    weights: sp.csr_matrix
    delays: np.ndarray
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def nnz(self) -> int:
        return int(self.weights.nnz)

    # -- typed views of ``extra`` ---------------------------------------------------------
    @property
    def port(self) -> str:
        """The target's port this projection feeds (``"input"``, ``"exc"`` or ``"inh"``)."""
        return str(self.extra.get("port", "input"))

    @property
    def plasticity(self):
        """The learning rule dict, or None."""
        return self.extra.get("plasticity")

    @property
    def depression(self):
        """The short-term depression dict, or None."""
        return self.extra.get("depression")

    @property
    def weight_exp(self) -> int:
        """Fixed Programs: the shift of the summed integer weights (``<<`` if > 0, floor ``>>`` if < 0)."""
        return int(self.extra.get("weight_exp", 0))

    @property
    def max_delay(self) -> int:
        return int(self.delays.max()) if self.delays.size else 0

    def by_delay(self):
        """Split into ``[(delay, csr_matrix), ...]``, one matrix per distinct delay."""
        if self.delays.size == 0:
            return []
        w = self.weights
        lo, hi = int(self.delays.min()), int(self.delays.max())
        if lo == hi:  # one delay (the common case): no sort of every synapse's delay
            return [(lo, w)]
        uniq = np.unique(self.delays)
        rows = np.repeat(np.arange(w.shape[0]), np.diff(w.indptr))
        out = []
        for d in uniq:
            m = self.delays == d
            sub = sp.csr_matrix((w.data[m], (rows[m], w.indices[m])), shape=w.shape)
            out.append((int(d), sub))
        return out


@dataclass(frozen=True)
class Program:
    """A compiled network: populations in update order, projections, I/O.

    Parameters
    ----------
    populations : dict[str, Population]
        In update order (a topological order of the zero-delay edges).
    projections : tuple of Projection
    inputs : tuple of str
        Names of the input populations (values supplied per step by the caller).
    outputs : dict[str, str]
        NIR Output node name -> population name that feeds it.
    probes : tuple of (population, variable)
        States recorded by default (``"v"``, ``"u"``); spikes are always kept.
    options : dict
        ``dt`` (s), ``scheme``, ``reset``, ``timing`` and, for fixed Programs,
        the hardware name.
    level : str
        ``"discrete"`` (float64) or ``"fixed"`` (int64 per Lava's models).
    graph : nir.NIRGraph or None
        The source graph (continuous-time parameters, used by the Brian2
        backend, which must not reuse the discrete coefficients).

    Examples
    --------
    >>> import neuroport
    >>> net = neuroport.Network()
    >>> x = net.input(2, name="x")
    >>> y = net.population(3, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
    >>> _ = net.connect(x, y, weight=0.37, delay=2e-3)
    >>> program = neuroport.compile(net, dt=1e-3)

    >>> type(program).__name__, program.level, program.dt, program.timing
    ('FloatProgram', 'discrete', 0.001, 'hardware')
    >>> list(program.populations), program.inputs, len(program.projections)
    (['x', 'y'], ('x',), 1)
    """

    populations: Mapping[str, Population]
    projections: tuple
    inputs: tuple
    outputs: Mapping[str, str]
    probes: tuple = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    level: str = "discrete"
    graph: Any = None

    def __new__(cls, *args, **kwargs):
        if cls is Program:  # Program(..., level=L) makes the type of level L
            level = kwargs.get("level", args[6] if len(args) > 6 else "discrete")
            if level not in PROGRAM_TYPES:
                raise CompileError(f"Program level {level!r}: expected one of {sorted(PROGRAM_TYPES)}")
            cls = PROGRAM_TYPES[level]
        return object.__new__(cls)

    def __post_init__(self):
        expected = PROGRAM_TYPES.get(self.level)
        if expected is not None and not isinstance(self, expected):
            raise CompileError(f"{type(self).__name__} cannot hold level={self.level!r} "
                               f"(that is a {expected.__name__})")

    @property
    def dt(self) -> float:
        return float(self.options["dt"])

    @property
    def timing(self) -> str:
        return str(self.options.get("timing", "hardware"))

    def require_pipelined(self) -> None:
        """Raise :class:`~neuroport.errors.CompileError` for a projection with a 0-step delay: fixed point
        (and Lava's pipelined Dense) needs every delay >= 1 step (``timing="hardware"``)."""
        for proj in self.projections:
            if proj.nnz and int(proj.delays.min()) < 1:
                raise CompileError(
                    f"projection {proj.name!r}: delay 0 (timing={self.timing!r}); fixed point runs "
                    "pipelined Programs only (every projection >= 1 step): compile with timing='hardware', "
                    "or compensate an ideal-timing Program with neuroport.timing.compensate(program)")

    def population(self, name: str) -> Population:
        try:
            return self.populations[name]
        except KeyError:
            raise GraphError(
                f"no population named {name!r}; populations: {', '.join(self.populations)}"
            ) from None

    def incoming(self, name: str):
        return [p for p in self.projections if p.post == name]

    def outgoing(self, name: str):
        return [p for p in self.projections if p.pre == name]

    @property
    def n_neurons(self) -> int:
        return sum(p.size for p in self.populations.values() if not p.is_input)

    @property
    def n_synapses(self) -> int:
        return sum(p.nnz for p in self.projections)

    def replace(self, **changes) -> "Program":
        """A copy with ``changes`` applied (Programs are immutable)."""
        return dataclasses.replace(self, **changes)

    def summary(self) -> str:
        """A short human-readable description (one line per population / projection)."""
        lines = [f"Program level={self.level} " + " ".join(f"{k}={v}" for k, v in self.options.items())]
        for pop in self.populations.values():
            lines.append(f"  population {pop.name}: {pop.model} x{pop.size}")
        for proj in self.projections:
            lines.append(
                f"  projection {proj.name}: {proj.pre} -> {proj.post}, {proj.nnz} synapses, "
                f"delay {int(proj.delays.min()) if proj.nnz else 0}..{proj.max_delay}"
            )
        return "\n".join(lines)


class FloatProgram(Program):
    """A float64 Program (``level="discrete"``), made by :func:`neuroport.compile`.

    Weights are in membrane units per step, parameters are the discretised
    float coefficients described in the module docstring.

    Examples
    --------
    >>> import neuroport
    >>> net = neuroport.Network()
    >>> x = net.input(2, name="x")
    >>> y = net.population(3, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
    >>> _ = net.connect(x, y, weight=0.37, delay=2e-3)
    >>> program = neuroport.compile(net, dt=1e-3)

    >>> isinstance(program, neuroport.FloatProgram), program.projections[0].weights.dtype
    (True, dtype('float64'))
    """


class FixedProgram(Program):
    """An integer Program (``level="fixed"``), made by :func:`neuroport.quantize`.

    Parameters are Lava's bit-accurate integers; each population carries its
    :attr:`Population.scale` (integer ``v`` units per float unit) and each
    projection its ``weight_exp``, ``num_weight_bits`` and ``sign_mode``.

    Examples
    --------
    >>> import neuroport
    >>> net = neuroport.Network()
    >>> x = net.input(2, name="x")
    >>> y = net.population(3, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
    >>> _ = net.connect(x, y, weight=0.37, delay=2e-3)
    >>> program = neuroport.compile(net, dt=1e-3)

    >>> fixed, report = neuroport.quantize(program)
    >>> isinstance(fixed, neuroport.FixedProgram), fixed.level, fixed.projections[0].weights.dtype
    (True, 'fixed', dtype('int64'))
    >>> fixed.populations["y"].params["dv"], fixed.projections[0].weight_exp   # round(4096 dt / tau)
    (array([205, 205, 205]), 3)
    """

    @property
    def hardware(self):
        """The :class:`~neuroport.hardware.HardwareSpec` this Program was quantized for."""
        spec = self.options.get("hardware_spec")
        if spec is not None:
            return spec
        name = self.options.get("hardware", hw.LOIHI2.name)
        if name != hw.LOIHI2.name:
            raise CompileError(f"fixed Program for hardware {name!r}: its HardwareSpec is not in program.options "
                               "(quantize it again with neuroport.quantize(program, hardware=...))")
        return hw.LOIHI2

    @property
    def scales(self) -> dict:
        """``{population: scale}`` for every non-input population (integer ``v`` units per float unit)."""
        return {name: pop.scale for name, pop in self.populations.items() if not pop.is_input}


#: Program type of each level.
PROGRAM_TYPES = {"discrete": FloatProgram, "fixed": FixedProgram}
