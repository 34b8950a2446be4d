"""neuroport's extension node types for NIR graphs.

NIR 1.0 has no sparse weights, no conductance-based neuron, no adaptation,
no refractoriness and no plasticity, and no extension mechanism. neuroport
writes its own node types into the same ``.nir`` file under type names that
start with ``neuroport.``: neuroport reads back exactly what it wrote, and a
tool that does not know them fails loudly (``nir.read`` raises on the unknown
type) instead of silently running something else. A graph built only from
NIR primitives is written as plain NIR.

New extension nodes register with :func:`extension`; the reader
(:mod:`neuroport.io`) looks them up by type name.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Dict

import nir
import numpy as np
import scipy.sparse as sp

from neuroport.errors import GraphError, ParameterError
from neuroport.structure import Transform, register_population, register_transform

PREFIX = "neuroport."
EXTENSIONS: dict[str, type] = {}


def extension(cls):
    """Class decorator: register ``cls`` as extension node ``neuroport.<ClassName>``."""
    EXTENSIONS[PREFIX + cls.__name__] = cls
    return cls


class ExtensionNode(nir.NIRNode):
    """Base of neuroport's extension nodes: serialises as ``neuroport.<ClassName>``."""

    def to_dict(self) -> Dict[str, Any]:
        ret = {f.name: getattr(self, f.name) for f in fields(self)
               if f.name not in ("input_type", "output_type")}
        ret["type"] = PREFIX + type(self).__name__
        return ret

    @classmethod
    def from_dict(cls, kwargs: Dict[str, Any]) -> "ExtensionNode":
        kwargs = dict(kwargs)
        kwargs.pop("type", None)
        names = {f.name for f in fields(cls) if f.init}
        unknown = set(kwargs) - names
        if unknown:
            raise GraphError(f"{PREFIX}{cls.__name__}: unknown field(s) {sorted(unknown)}; expected {sorted(names)}")
        return cls(**kwargs)


@extension
@dataclass(eq=False)
class SparseLinear(ExtensionNode):
    r"""A sparse weight matrix, ``y = W x`` with ``W`` stored in CSR form.

    .. math::
        y_i = \sum_j W_{ij} x_j

    Used by :class:`neuroport.Network` for large sparse projections, where
    NIR's dense ``Linear`` would not fit in memory.

    Attributes
    ----------
    data : numpy.ndarray, shape (nnz,)
        Weight values (dimensionless gain, as in ``nir.Linear``).
    indices : numpy.ndarray of int, shape (nnz,)
        Column (pre-synaptic) index of each value.
    indptr : numpy.ndarray of int, shape (n_out + 1,)
        CSR row pointers.
    shape : numpy.ndarray of int, shape (2,)
        ``(n_out, n_in)``.
    """

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: np.ndarray

    def __post_init__(self):
        self.data = np.asarray(self.data, dtype=np.float64)
        self.indices = np.asarray(self.indices, dtype=np.int64)
        self.indptr = np.asarray(self.indptr, dtype=np.int64)
        self.shape = np.asarray(self.shape, dtype=np.int64).reshape(-1)
        if self.shape.size != 2 or self.indptr.size != self.shape[0] + 1 \
                or self.indices.size != self.data.size or (self.indptr.size and self.indptr[-1] != self.data.size):
            raise GraphError(
                f"SparseLinear: inconsistent CSR arrays (shape {self.shape.tolist()}, indptr {self.indptr.size}, "
                f"indices {self.indices.size}, data {self.data.size})"
            )
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= self.shape[1]):
            raise GraphError(f"SparseLinear: column index out of range [0, {self.shape[1]})")
        self.input_type = {"input": np.array([self.shape[1]])}
        self.output_type = {"output": np.array([self.shape[0]])}

    @classmethod
    def from_matrix(cls, matrix) -> "SparseLinear":
        m = sp.csr_matrix(matrix)
        m.sort_indices()
        return cls(m.data, m.indices, m.indptr, np.array(m.shape))

    def matrix(self) -> sp.csr_matrix:
        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=tuple(int(s) for s in self.shape))


def _register_structure():
    @register_transform(SparseLinear)
    def _sparse_linear(node, name):
        m = node.matrix()
        return Transform(m.shape[1], m.shape[0], m, None, None)

    @register_transform(Depression)
    def _depression(node, name):
        n = node.tau_rec.size
        if np.any(~np.isfinite(node.tau_rec)) or np.any(node.tau_rec <= 0):
            raise ParameterError(f"{name}.tau_rec: must be positive and finite (s), got min {node.tau_rec.min()}")
        if np.any(~(node.u_se > 0)) or np.any(node.u_se > 1):
            raise ParameterError(f"{name}.u_se: must be in (0, 1], got range [{node.u_se.min()}, {node.u_se.max()}]")
        return Transform(n, n, None, None, None, depression=node)

    @register_transform(PlasticLinear)
    def _plastic(node, name):
        # every existing synapse is stored, even at weight 0 (learning may grow it)
        rows, cols = np.nonzero(node.connectivity)
        m = sp.csr_matrix((node.weight[rows, cols], (rows, cols)), shape=node.weight.shape)
        return Transform(node.weight.shape[1], node.weight.shape[0], m, None, None, plasticity=(name, node))

    register_population(AdaptiveLIF, "alif")
    register_population(CondLIF, "condlif")



def per_neuron(node, names, n=None):
    """Make every field in ``names`` a float64 array of one common shape ``(n,)``, and set the node's
    ``input_type``/``output_type`` to that size (for extension neuron nodes' ``__post_init__``)."""
    from neuroport.discretize import real_array

    for name in names:
        value = real_array(getattr(node, name), f"{PREFIX}{type(node).__name__}.{name}")
        if (name != "v_threshold" and np.any(np.isinf(value))) or (name != "v_init" and np.any(np.isnan(value))):
            raise ParameterError(f"{PREFIX}{type(node).__name__}.{name}: must be finite, got "
                                 f"{value.reshape(-1)[~np.isfinite(value.reshape(-1))][0]}"
                                 + ("" if name != "v_init" else " (NaN means: start at v_reset)"))
        setattr(node, name, value)
    shapes = {np.shape(getattr(node, name)) for name in names}
    sizes = {int(np.prod(s)) for s in shapes if s != ()}
    if len(sizes) > 1:
        raise GraphError(f"{PREFIX}{type(node).__name__}: parameters have different sizes {sorted(sizes)}")
    size = sizes.pop() if sizes else 1
    for name in names:
        value = getattr(node, name)
        if value.shape == ():
            setattr(node, name, np.full(size, float(value)))
    node.input_type = {"input": np.array([size])}
    node.output_type = {"output": np.array([size])}


@extension
@dataclass(eq=False)
class AdaptiveLIF(ExtensionNode):
    r"""Current-based LIF with refractoriness, adaptive threshold and adaptation current.

    .. math::
        \tau_{syn} \dot I = -I + w_{in} S \quad (I = w_{in} S \text{ when } \tau_{syn} = 0)

        \tau_{mem} \dot v = (v_{leak} - v) + r (I - w)

        \tau_{adapt} \dot w = -w, \qquad \tau_\theta \dot \theta = -\theta

        v > v_{threshold} + \theta \Rightarrow v \leftarrow v_{reset},\;
        w \leftarrow w + b_{adapt},\; \theta \leftarrow \theta + \theta_{plus},
        \text{ and } v \text{ is held for } t_{ref}

    With ``tau_syn_inh > 0`` negative weights feed a second current with its own
    time constant (``I = I_exc - I_inh``; the CUBA benchmark's two synapse types).

    Attributes (arrays of shape ``(n,)``)
    -------------------------------------
    - tau_mem, tau_syn, tau_syn_inh : s (``tau_syn = 0``: no synaptic filter;
      ``tau_syn_inh = 0``: one current for both signs)
    - r, w_in : dimensionless gains
    - v_leak, v_threshold, v_reset, v_init : voltage unit (``v_init``: initial ``v``)
    - refractory : s (absolute refractory period, whole steps at compile)
    - tau_theta : s (0: theta never decays); theta_plus : voltage unit (0 and theta_init 0: no adaptive threshold)
    - theta_init : voltage unit, initial threshold adaptation (a trained network's thresholds)
    - tau_adapt : s (0: no adaptation current); b_adapt : current unit
    """

    tau_mem: np.ndarray
    v_threshold: np.ndarray
    tau_syn: np.ndarray = 0.0
    tau_syn_inh: np.ndarray = 0.0
    r: np.ndarray = 1.0
    w_in: np.ndarray = 1.0
    v_leak: np.ndarray = 0.0
    v_reset: np.ndarray = 0.0
    v_init: np.ndarray = np.nan
    refractory: np.ndarray = 0.0
    tau_theta: np.ndarray = 0.0
    theta_plus: np.ndarray = 0.0
    tau_adapt: np.ndarray = 0.0
    b_adapt: np.ndarray = 0.0
    theta_init: np.ndarray = 0.0

    def __post_init__(self):
        per_neuron(self, [f.name for f in fields(self) if f.init and f.name != "metadata"])


@extension
@dataclass(eq=False)
class CondLIF(ExtensionNode):
    r"""Conductance-based LIF (COBA) with refractoriness and adaptation.

    Conductances are relative to the leak conductance (``g / g_L``, dimensionless):

    .. math::
        \tau_{mem} \dot v = (E_L - v) + g_e (E_e - v) + g_i (E_i - v) + g_a (E_a - v)

        \tau_e \dot g_e = -g_e, \quad \tau_i \dot g_i = -g_i, \quad \tau_a \dot g_a = -g_a

    A spike through a positive weight ``w`` raises ``g_e`` by ``w``; through a
    negative weight raises ``g_i`` by ``|w|``. On an output spike ``v <- v_reset``,
    ``g_a += b_adapt``, ``theta += theta_plus`` (threshold ``v_threshold + theta``)
    and ``v`` is held for ``refractory`` s.

    Attributes (arrays of shape ``(n,)``)
    -------------------------------------
    tau_mem, tau_exc, tau_inh, tau_adapt, tau_theta, refractory : s (0 disables adaptation terms)
    e_leak, e_exc, e_inh, e_adapt, v_threshold, v_reset, v_init, theta_plus : voltage unit
    b_adapt : relative conductance increment per spike
    g_exc_init, g_inh_init : initial conductances (relative), default 0
    """

    tau_mem: np.ndarray
    e_leak: np.ndarray
    e_exc: np.ndarray
    e_inh: np.ndarray
    tau_exc: np.ndarray
    tau_inh: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray
    v_init: np.ndarray = np.nan
    refractory: np.ndarray = 0.0
    tau_theta: np.ndarray = 0.0
    theta_plus: np.ndarray = 0.0
    tau_adapt: np.ndarray = 0.0
    b_adapt: np.ndarray = 0.0
    e_adapt: np.ndarray = 0.0
    g_exc_init: np.ndarray = 0.0
    g_inh_init: np.ndarray = 0.0

    def __post_init__(self):
        per_neuron(self, [f.name for f in fields(self) if f.init and f.name != "metadata"])


@extension
@dataclass(eq=False)
class Depression(ExtensionNode):
    r"""Short-term depression (Tsodyks-Markram resources) on the spikes of a population.

    Placed right after a population on an edge; each channel ``j`` keeps a
    resource ``x_j`` in [0, 1]:

    .. math::
        \tau_{rec} \dot x = 1 - x, \qquad \text{on a spike: } y = U x, \; x \leftarrow x - U x

    so the spike is transmitted with strength ``U x`` (``x = 1`` at rest).

    Attributes (arrays of shape ``(n,)``)
    -------------------------------------
    tau_rec : s, recovery time constant
    u_se : utilisation of synaptic efficacy, in (0, 1]
    """

    tau_rec: np.ndarray
    u_se: np.ndarray

    def __post_init__(self):
        per_neuron(self, ["tau_rec", "u_se"])



RULES = ("pair", "diehl_cook")
BOUNDS = ("hard", "soft")


@extension
@dataclass(eq=False)
class PlasticLinear(ExtensionNode):
    r"""A weight matrix that learns with spike-timing-dependent plasticity.

    ``y = W x`` like ``nir.Linear``; ``W`` (shape ``(post, pre)``) changes
    with pre-synaptic traces ``x`` and post-synaptic traces ``y``:

    .. math::
        \tau_{pre} \dot x_j = -x_j + \sum_k \delta(t - t_j^k), \qquad
        \tau_{post} \dot y_i = -y_i + \sum_k \delta(t - t_i^k)

    ``rule="pair"`` (pair-based STDP):
        on a post spike ``dW_ij = +a_plus * x_j``; on a pre spike
        ``dW_ij = -a_minus * y_i`` (soft bounds multiply by ``w_max - W`` and
        ``W - w_min``; hard bounds clip to ``[w_min, w_max]``).
    ``rule="diehl_cook"`` (Diehl & Cook 2015):
        on a post spike ``dW_ij = eta * (x_j - x_tar) * (w_max - W_ij) ** mu``;
        on a pre spike ``dW_ij = -a_minus * y_i`` (``a_minus = 0`` for the
        post-only rule); clipped to ``[w_min, w_max]``.

    Attributes
    ----------
    weight : numpy.ndarray, shape (post, pre)
        Initial (or learned) weights, graph units as ``nir.Linear``.
    connectivity : numpy.ndarray of bool, shape (post, pre)
        Which synapses exist (learning never creates synapses).
    rule : str
        ``"pair"`` or ``"diehl_cook"``.
    tau_pre, tau_post : float, s
        Trace time constants.
    a_plus, a_minus : float
        Potentiation and depression amplitudes (weight units per unit trace).
    eta, x_tar, mu : float
        Diehl & Cook learning rate, pre-trace target (offset) and weight-dependence exponent.
    w_min, w_max : float
        Weight bounds.
    bounds : str
        ``"hard"`` or ``"soft"`` (pair rule).
    """

    weight: np.ndarray
    connectivity: np.ndarray = None
    rule: str = "pair"
    tau_pre: float = 0.02
    tau_post: float = 0.02
    a_plus: float = 0.01
    a_minus: float = 0.0105
    eta: float = 0.01
    x_tar: float = 0.0
    mu: float = 1.0
    w_min: float = 0.0
    w_max: float = 1.0
    bounds: str = "hard"

    def __post_init__(self):
        from neuroport.discretize import real_array

        self.weight = real_array(self.weight, "PlasticLinear.weight")
        if not np.all(np.isfinite(self.weight)):
            raise ParameterError("PlasticLinear.weight: must be finite, got "
                                 f"{self.weight[~np.isfinite(self.weight)][0]}")
        if self.weight.ndim != 2:
            raise GraphError(f"PlasticLinear.weight: expected a (post, pre) matrix, got shape {self.weight.shape}")
        if self.connectivity is None:
            self.connectivity = np.ones(self.weight.shape, dtype=bool)
        self.connectivity = np.asarray(self.connectivity).astype(bool)
        if self.connectivity.shape != self.weight.shape:
            raise GraphError(f"PlasticLinear.connectivity: shape {self.connectivity.shape} != weight "
                             f"shape {self.weight.shape}")
        self.rule = self.rule.decode() if isinstance(self.rule, bytes) else str(self.rule)
        self.bounds = self.bounds.decode() if isinstance(self.bounds, bytes) else str(self.bounds)
        if self.rule not in RULES:
            raise GraphError(f"PlasticLinear.rule: expected one of {RULES}, got {self.rule!r}")
        if self.bounds not in BOUNDS:
            raise GraphError(f"PlasticLinear.bounds: expected one of {BOUNDS}, got {self.bounds!r}")
        for name in ("tau_pre", "tau_post", "a_plus", "a_minus", "eta", "x_tar", "mu", "w_min", "w_max"):
            value = float(np.asarray(getattr(self, name)))
            if not np.isfinite(value):
                raise ParameterError(f"PlasticLinear.{name}: must be finite, got {value}")
            setattr(self, name, value)
        if not (self.tau_pre > 0 and self.tau_post > 0):
            raise ParameterError(f"PlasticLinear: trace time constants must be > 0 s, got "
                                 f"tau_pre={self.tau_pre}, tau_post={self.tau_post}")
        if not self.w_min < self.w_max:
            raise ParameterError(f"PlasticLinear: needs w_min < w_max, got {self.w_min} >= {self.w_max}")
        self.input_type = {"input": np.array([self.weight.shape[1]])}
        self.output_type = {"output": np.array([self.weight.shape[0]])}

    def rule_params(self) -> dict:
        """The learning rule's parameters as a plain dict."""
        return {k: getattr(self, k) for k in ("rule", "tau_pre", "tau_post", "a_plus", "a_minus", "eta",
                                              "x_tar", "mu", "w_min", "w_max", "bounds")}


# keep last: registers the node types above with the graph walker
_register_structure()
