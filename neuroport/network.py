"""The builder API: ``neuroport.Network``.

A Network is a NIR graph under construction: every call adds NIR nodes and
edges, :meth:`Network.to_nir` returns the graph, :meth:`Network.from_nir`
wraps an existing one. Units are SI: time (``tau``, ``delay``) in seconds,
voltages in whatever unit the model specs use consistently.

Example
-------
>>> import neuroport
>>> net = neuroport.Network()
>>> x = net.input(100, name="x")
>>> exc = net.population(80, neuroport.LIF(tau=0.02, v_threshold=1.0), name="exc")
>>> _ = net.connect(x, exc, weight=0.2, p=0.1, seed=1)
>>> _ = net.connect(exc, exc, weight=0.05, p=0.1, delay=2e-3, seed=2)
>>> net.probe(exc, "v")
>>> graph = net.to_nir()
>>> sorted(graph.nodes)[:2]
['exc', 'exc->exc']
"""

from __future__ import annotations

import inspect
import json

import nir
import numpy as np
import scipy.sparse as sp

from neuroport.compile import _recorded_probes
from neuroport.compile import compile as compile_graph
from neuroport.errors import GraphError, NeuroportError, ParameterError
from neuroport.nodes import Depression, SparseLinear
from neuroport.structure import node_size, population_model

#: Projections with more entries than this, and sparse enough, are stored as
#: ``neuroport.SparseLinear`` instead of NIR's dense ``Linear``.
DENSE_LIMIT = 1 << 20
PROBES_KEY = "neuroport.probes"


class Network:
    """A spiking network built step by step, stored as NIR nodes and edges.

    Examples
    --------
    >>> import numpy as np, neuroport
    >>> net = neuroport.Network()
    >>> x = net.input(1, name="x")
    >>> y = net.population(1, neuroport.LIF(tau=0.01, v_threshold=0.5), name="y")
    >>> _ = net.connect(x, y, weight=20.0)                  # 20 * dt / tau = 2 > threshold: a spike a step
    >>> neuroport.run(net, dt=1e-3, steps=5, inputs=np.ones((5, 1)))["y"].steps.tolist()
    [1, 2, 3, 4]
    """

    def __init__(self, metadata: dict | None = None):
        self.nodes: dict = {}
        self.edges: list = []
        self.probes: list = []
        self.metadata: dict = dict(metadata or {})

    # ------------------------------------------------------------ building
    def _name(self, base: str) -> str:
        if base not in self.nodes:
            return base
        i = 2
        while f"{base}_{i}" in self.nodes:
            i += 1
        return f"{base}_{i}"

    def _require(self, name: str) -> None:
        if name not in self.nodes:
            raise GraphError(f"no node named {name!r}; nodes: {', '.join(self.nodes)}")

    def size(self, name: str) -> int:
        """Number of neurons (or input channels) of node ``name``.

        Examples
        --------
        >>> import neuroport
        >>> net = neuroport.Network()
        >>> x = net.input(3, name="x")
        >>> lif = net.population(5, neuroport.LIF(tau=0.02, v_threshold=1.0), name="lif")
        >>> net.size(x), net.size(lif)
        (3, 5)
        """
        self._require(name)
        return node_size(name, self.nodes[name])[0]

    def input(self, n: int, *, name: str | None = None) -> str:
        """Add an input of ``n`` channels (spikes 0/1 or graded values per step).

        Examples
        --------
        >>> import neuroport
        >>> net = neuroport.Network()
        >>> net.input(4, name="pixels"), net.input(2)
        ('pixels', 'input')
        >>> net.size("pixels")
        4
        """
        n = _positive_int("input size n", n)
        key = name or self._name("input")
        if key in self.nodes:
            raise GraphError(f"a node named {key!r} exists already")
        self.nodes[key] = nir.Input(input_type={"input": np.array([n])})
        return key

    def population(self, n: int, model, *, name: str | None = None, seed: int | None = None) -> str:
        """Add ``n`` neurons of ``model`` (a spec such as ``neuroport.LIF(...)``); returns the name.

        Parameters given as :mod:`neuroport.dist` distributions (heterogeneous populations) are drawn
        here, per neuron, from a generator seeded by ``seed`` (default: derived from the name, so the
        same script builds the same network); the node stores the drawn values.

        Examples
        --------
        >>> import neuroport
        >>> net = neuroport.Network()
        >>> net.population(10, neuroport.LIF(tau=0.02, v_threshold=1.0))     # named after the spec
        'lif'
        >>> net.population(10, neuroport.LIF(tau=0.02, v_threshold=1.0))     # the next one gets a suffix
        'lif_2'
        >>> net.population(3, neuroport.LIF(tau=neuroport.dist.uniform(0.01, 0.03), v_threshold=1.0), name="h", seed=1)
        'h'
        >>> tau = net.nodes["h"].tau                                           # drawn per neuron, in s
        >>> tau.shape, bool(((tau >= 0.01) & (tau <= 0.03)).all()), len(set(tau.tolist()))
        ((3,), True, 3)
        """
        from neuroport.dist import generator

        n = _positive_int("population size n", n)
        if not hasattr(model, "to_nir"):
            raise GraphError(f"model: expected a neuron spec such as neuroport.LIF(...), got {type(model).__name__}")
        key = name or self._name(type(model).__name__.lower())
        if key in self.nodes:
            raise GraphError(f"a node named {key!r} exists already")
        if "rng" in inspect.signature(model.to_nir).parameters:
            self.nodes[key] = model.to_nir(n, rng=generator(seed, key))
        else:  # a third-party spec whose to_nir takes n only (no distributions)
            self.nodes[key] = model.to_nir(n)
        return key

    def connect(self, pre: str, post: str, *, weight=1.0, p: float | None = None, delay=0.0,
                seed: int | None = None, allow_self: bool = True, depression=None,
                name: str | None = None) -> str:
        """Connect population (or input) ``pre`` to population ``post``.

        Parameters
        ----------
        weight : float, array (post, pre), scipy.sparse matrix or callable
            A scalar with ``p=None`` connects all to all; with ``p`` each
            synapse exists with probability ``p`` (seeded by ``seed``). A
            callable ``weight(rng, n)`` draws the ``n`` synapses' weights from a
            distribution (e.g. ``lambda rng, n: rng.normal(0.5, 0.1, n)``), in
            row-major order, with the same seeded ``numpy.random.Generator``
            that drew the connectivity.
        p : float in (0, 1], optional
            Connection probability for a scalar or callable weight. Rows are
            drawn in whole-array operations (``Binomial(n_pre, p)`` synapses
            per row, distinct uniform columns), so building stays O(synapses).
        delay : float or array (post,), s
            Transmission delay in seconds (whole multiples of dt at compile).
        allow_self : bool
            With ``pre == post`` and ``p``, whether a neuron may connect to itself.
        depression : (tau_rec, u_se), optional
            Short-term depression of ``pre``'s spikes on this projection
            (Tsodyks-Markram; ``tau_rec`` in s, ``u_se`` in (0, 1]); written as
            the extension node ``neuroport.Depression``.
        name : str, optional
            Name of the weight node (default ``"pre->post"``).

        Returns
        -------
        str
            The name of the weight node.

        Examples
        --------
        >>> import numpy as np, neuroport
        >>> net = neuroport.Network()
        >>> x = net.input(2, name="x")
        >>> y = net.population(3, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
        >>> net.connect(x, y, weight=0.5)                                    # all to all
        'x->y'
        >>> net.nodes["x->y"].weight
        array([[0.5, 0.5],
               [0.5, 0.5],
               [0.5, 0.5]])
        >>> net.connect(y, y, weight=0.1, p=0.5, delay=2e-3, seed=1, name="rec")
        'rec'
        >>> [edge for edge in net.edges if "rec" in edge[0] + edge[1]]       # weight -> delay -> target
        [('rec', 'rec.delay'), ('y', 'rec'), ('rec.delay', 'y')]
        >>> net.nodes["rec.delay"].delay                                     # s, one per target neuron
        array([0.002, 0.002, 0.002])
        """
        self._require(pre)
        self._require(post)
        if population_model(self.nodes[post]) in (None, "input"):
            raise GraphError(f"connect: target {post!r} must be a neuron population, "
                             f"it is a {type(self.nodes[post]).__name__}")
        n_pre, n_post = self.size(pre), self.size(post)
        matrix = _weight_matrix(weight, p, n_post, n_pre, seed, allow_self or pre != post)
        key = name or self._name(f"{pre}->{post}")
        if sp.issparse(matrix) and (matrix.shape[0] * matrix.shape[1] > DENSE_LIMIT
                                    and matrix.nnz < 0.25 * matrix.shape[0] * matrix.shape[1]):
            self.nodes[key] = SparseLinear.from_matrix(matrix)
        else:
            dense = matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix, dtype=np.float64)
            self.nodes[key] = nir.Linear(weight=dense)
        last = key
        d = np.asarray(delay, dtype=np.float64)
        if not np.all(np.isfinite(d)) or np.any(d < 0):
            raise ParameterError(f"connect {pre}->{post}: delay must be >= 0 s, got {delay!r}")
        if np.any(d > 0):
            dkey = self._name(f"{key}.delay")
            vec = np.full(n_post, float(d)) if d.ndim == 0 else d.reshape(-1)
            if vec.size != n_post:
                raise GraphError(f"connect {pre}->{post}: delay needs a scalar or {n_post} values, got {d.shape}")
            self.nodes[dkey] = nir.Delay(delay=vec)
            self.edges.append((key, dkey))
            last = dkey
        source = pre
        if depression is not None:
            try:
                tau_rec, u_se = depression
            except (TypeError, ValueError):
                raise GraphError(f"depression: expected (tau_rec in s, u_se), got {depression!r}") from None
            dep_key = self._name(f"{key}.depression")
            self.nodes[dep_key] = Depression(tau_rec=np.full(n_pre, float(tau_rec)) if np.ndim(tau_rec) == 0
                                             else np.asarray(tau_rec, dtype=np.float64),
                                             u_se=np.full(n_pre, float(u_se)) if np.ndim(u_se) == 0
                                             else np.asarray(u_se, dtype=np.float64))
            self.edges.append((pre, dep_key))
            source = dep_key
        self.edges.append((source, key))
        self.edges.append((last, post))
        return key

    def winner_take_all(self, pop: str, kernel, *, via: str = "direct", inhibitory=None,
                        relay_weight: float = 2.0, delay=0.0, seed: int | None = None) -> dict:
        """Lateral inhibition (winner-take-all) inside population ``pop``.

        Parameters
        ----------
        pop : str
            A neuron population of ``n`` neurons.
        kernel : neuroport.lateral.Uniform or neuroport.lateral.MexicanHat
            The recurrent weights, ``kernel.matrix(n)`` of shape (post, pre) = (n, n), in weight
            units (``neuroport.lateral.uniform(strength)``, ``neuroport.lateral.mexican_hat(...)``).
        via : {"direct", "population"}
            ``"direct"``: one recurrent projection ``pop -> pop`` with the kernel's weights.
            ``"population"`` (Diehl & Cook's circuit): an inhibitory population ``pop.inh`` of ``n``
            neurons, driven one to one (``pop[i] -> pop.inh[i]``, weight ``relay_weight``), carries
            the kernel's negative weights back (``pop.inh[j] -> pop[i]``: ``min(W[i, j], 0)``); the
            positive weights (a Mexican hat's excitation) stay a direct ``pop -> pop`` projection.
        inhibitory : neuron spec, optional
            The relay neurons (default ``neuroport.LIF(tau=2e-3, v_threshold=0.5)``).
        relay_weight : float, weight units
            With the default relay and ``dt = 1 ms`` one spike of ``pop[i]`` raises ``pop.inh[i]``'s
            ``v`` by ``2.0 * 1e-3 / 2e-3 = 1.0 > 0.5``: it spikes once, one step later (hardware
            timing). At another ``dt`` scale it by ``1 ms / dt``.
        delay : float, s
            Extra transmission delay of the inhibitory projection(s).
        seed : int, optional
            Seeds the relay population's parameter distributions, if any.

        Returns
        -------
        dict
            Names of what was added: ``"recurrent"`` (the ``pop -> pop`` weight node, None if the
            kernel has no weight for it), and with ``via="population"`` also ``"population"``,
            ``"relay"`` (``pop -> pop.inh``) and ``"inhibition"`` (``pop.inh -> pop``).

        Examples
        --------
        Three neurons driven at different strengths; without inhibition all three fire, with uniform
        lateral inhibition the most strongly driven one silences the others:

        >>> import numpy as np, neuroport
        >>> from neuroport import lateral
        >>> def build(wta):
        ...     net = neuroport.Network()
        ...     x = net.input(3, name="x")
        ...     out = net.population(3, neuroport.LIF(tau=0.02, v_threshold=0.5), name="out")
        ...     _ = net.connect(x, out, weight=np.diag([30.0, 20.0, 10.0]))
        ...     added = net.winner_take_all("out", lateral.uniform(50.0)) if wta else None
        ...     return net, added
        >>> drive = {"x": np.ones((50, 3))}
        >>> net, added = build(wta=True)
        >>> added
        {'recurrent': 'out.wta'}
        >>> [int(c > 0) for c in neuroport.run(build(wta=False)[0], dt=1e-3, steps=50, inputs=drive)
        ...  .spikes["out"].counts()]
        [1, 1, 1]
        >>> counts = neuroport.run(net, dt=1e-3, steps=50, inputs=drive).spikes["out"].counts()
        >>> int(counts.argmax()), bool(counts[0] > 10 * counts[1:].sum())
        (0, True)
        """
        from neuroport.lateral import MexicanHat, Uniform

        self._require(pop)
        if population_model(self.nodes[pop]) in (None, "input"):
            raise GraphError(f"winner_take_all: {pop!r} must be a neuron population, "
                             f"it is a {type(self.nodes[pop]).__name__}")
        if not isinstance(kernel, (Uniform, MexicanHat)):
            raise GraphError(f"winner_take_all: kernel must be neuroport.lateral.uniform(...) or "
                             f"neuroport.lateral.mexican_hat(...), got {type(kernel).__name__}")
        if via not in ("direct", "population"):
            raise GraphError(f"winner_take_all: via must be 'direct' or 'population', got {via!r}")
        n = self.size(pop)
        w = kernel.matrix(n)
        added = {"recurrent": None}
        if via == "direct":
            added["recurrent"] = self.connect(pop, pop, weight=w, delay=delay, name=self._name(f"{pop}.wta"))
        else:
            from neuroport.models.specs import LIF

            rw = float(relay_weight) if isinstance(relay_weight, (int, float)) and not isinstance(relay_weight, bool) \
                else None
            if rw is None or not np.isfinite(rw) or rw <= 0:
                raise ParameterError(f"winner_take_all: relay_weight must be a number > 0, got {relay_weight!r}")
            positive = np.maximum(w, 0.0)
            if np.any(positive != 0):
                added["recurrent"] = self.connect(pop, pop, weight=positive, name=self._name(f"{pop}.wta"))
            inh = self.population(n, inhibitory if inhibitory is not None else LIF(tau=2e-3, v_threshold=0.5),
                                  name=self._name(f"{pop}.inh"), seed=seed)
            added["population"] = inh
            added["relay"] = self.connect(pop, inh, weight=np.eye(n) * rw)
            added["inhibition"] = self.connect(inh, pop, weight=np.minimum(w, 0.0), delay=delay)
        key = added["inhibition"] if via == "population" else added["recurrent"]
        node = self.nodes[key]
        node.metadata = {**(getattr(node, "metadata", None) or {}), "neuroport.lateral": kernel.describe()}
        return added

    def output(self, pop: str, *, name: str | None = None) -> str:
        """Mark population ``pop`` as a network output (adds a NIR ``Output`` node).

        Examples
        --------
        >>> import neuroport
        >>> net = neuroport.Network()
        >>> y = net.population(3, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
        >>> net.output(y)
        'y.out'
        >>> type(net.nodes["y.out"]).__name__, net.edges
        ('Output', [('y', 'y.out')])
        """
        self._require(pop)
        key = name or self._name(f"{pop}.out")
        self.nodes[key] = nir.Output(output_type={"output": np.array([self.size(pop)])})
        self.edges.append((pop, key))
        return key

    def probe(self, pop: str, variable: str = "v") -> None:
        """Record ``variable`` (``"v"`` membrane, ``"u"`` synaptic) of ``pop`` on every run.

        Examples
        --------
        >>> import neuroport
        >>> net = neuroport.Network()
        >>> y = net.population(3, neuroport.CubaLIF(tau_mem=0.02, tau_syn=5e-3, v_threshold=1.0), name="y")
        >>> net.probe(y, "v"); net.probe(y, "u"); net.probe(y, "v")         # a repeated probe is kept once
        >>> net.probes
        [('y', 'v'), ('y', 'u')]
        """
        self._require(pop)
        if (pop, variable) not in self.probes:
            self.probes.append((pop, variable))

    # ------------------------------------------------------------ conversion
    def to_nir(self) -> nir.NIRGraph:
        """The NIR graph (nodes in insertion order); probes are kept in metadata.

        Examples
        --------
        >>> import neuroport
        >>> net = neuroport.Network()
        >>> x = net.input(2, name="x")
        >>> y = net.population(1, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
        >>> _ = net.connect(x, y, weight=1.0)
        >>> graph = net.to_nir()
        >>> list(graph.nodes), graph.edges
        (['x', 'y', 'x->y'], [('x', 'x->y'), ('x->y', 'y')])
        >>> type(graph.nodes["y"]).__name__                                   # a NIR primitive
        'LIF'
        """
        meta = dict(self.metadata)
        if self.probes:
            meta[PROBES_KEY] = json.dumps(self.probes)
        return nir.NIRGraph(nodes=dict(self.nodes), edges=list(self.edges), metadata=meta, type_check=False)

    @classmethod
    def from_nir(cls, graph) -> "Network":
        """Wrap a NIR graph (e.g. from :func:`neuroport.read`) to inspect or extend it.

        Examples
        --------
        >>> import neuroport
        >>> net = neuroport.Network()
        >>> x = net.input(2, name="x")
        >>> y = net.population(1, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
        >>> _ = net.connect(x, y, weight=1.0)
        >>> net.probe(y)
        >>> again = neuroport.Network.from_nir(net.to_nir())
        >>> again.populations(), again.probes
        (['x', 'y'], [('y', 'v')])
        >>> again.population(2, neuroport.LIF(tau=0.01, v_threshold=1.0), name="z")   # extend it
        'z'
        """
        if not isinstance(graph, nir.NIRGraph):
            raise GraphError(f"from_nir: expected a nir.NIRGraph, got {type(graph).__name__}")
        meta = dict(graph.metadata or {}) if isinstance(graph.metadata, dict) else {}
        probes = _recorded_probes(graph)  # validated: a list of (population, variable) pairs
        meta.pop(PROBES_KEY, None)
        net = cls(metadata=meta)
        net.nodes = dict(graph.nodes)
        net.edges = [tuple(e) for e in graph.edges]
        net.probes = list(probes)
        return net

    def populations(self) -> list:
        """Names of the neuron populations and inputs, in order.

        Examples
        --------
        >>> import neuroport
        >>> net = neuroport.Network()
        >>> x = net.input(2, name="x")
        >>> y = net.population(1, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
        >>> _ = net.connect(x, y, weight=1.0)
        >>> net.populations()                                                # not the weight node x->y
        ['x', 'y']
        """
        return [k for k, v in self.nodes.items() if population_model(v) is not None]

    def compile(self, **options):
        """Shortcut for ``neuroport.compile(self.to_nir(), probes=self.probes, **options)``.

        Examples
        --------
        >>> import neuroport
        >>> net = neuroport.Network()
        >>> x = net.input(2, name="x")
        >>> y = net.population(1, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
        >>> _ = net.connect(x, y, weight=1.0)
        >>> program = net.compile(dt=1e-3)
        >>> program.dt, program.level, list(program.populations)
        (0.001, 'discrete', ['x', 'y'])
        >>> round(float(program.populations["y"].params["dv"][0]), 6)          # dt / tau, the default Euler scheme
        0.05
        >>> round(float(net.compile(dt=1e-3, scheme="exact").populations["y"].params["dv"][0]), 4)  # 1 - exp(-dt / tau)
        0.0488
        """
        return compile_graph(self.to_nir(), probes=tuple(self.probes), **options)


def _positive_int(label: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ParameterError(f"{label}: expected a positive integer, got {value!r}")
    return int(value)


def _weight_matrix(weight, p, n_post, n_pre, seed, allow_self):
    if sp.issparse(weight):
        m = sp.csr_matrix(weight, dtype=np.float64)
        if m.shape != (n_post, n_pre):
            raise GraphError(f"weight: expected shape (post, pre) = ({n_post}, {n_pre}), got {m.shape}")
        if not np.all(np.isfinite(m.data)):
            raise ParameterError("weight: contains NaN or infinite values")
        return m
    if callable(weight):
        if p is None:
            rows = np.repeat(np.arange(n_post, dtype=np.int64), n_pre)
            cols = np.tile(np.arange(n_pre, dtype=np.int64), n_post)
            if not allow_self:
                keep = rows != cols
                rows, cols = rows[keep], cols[keep]
            rng = np.random.default_rng(seed)
        else:
            rng, rows, cols = _sample_synapses(p, n_post, n_pre, seed, allow_self)
        return _csr(rows, cols, _drawn_weights(weight, rng, rows.size), n_post, n_pre)
    w = np.asarray(weight, dtype=np.float64)
    if not np.all(np.isfinite(w)):
        raise ParameterError("weight: contains NaN or infinite values")
    if w.ndim == 2:
        if w.shape != (n_post, n_pre):
            raise GraphError(f"weight: expected shape (post, pre) = ({n_post}, {n_pre}), got {w.shape}")
        if p is not None:
            raise GraphError("weight: p applies to scalar weights only")
        return w
    if w.ndim != 0:
        raise GraphError(f"weight: expected a scalar, a (post, pre) matrix, a sparse matrix or a callable "
                         f"(rng, n) -> n weights, got shape {w.shape}")
    if p is None:
        full = np.full((n_post, n_pre), float(w))
        if not allow_self:
            np.fill_diagonal(full, 0.0)
        return full
    _, rows, cols = _sample_synapses(p, n_post, n_pre, seed, allow_self)
    return _csr(rows, cols, np.full(rows.size, float(w)), n_post, n_pre)


#: Rows at or above this connection probability are drawn as Bernoulli masks; below it, as
#: ``binomial`` counts and distinct uniform columns (memory O(nnz) for large sparse networks).
DENSE_P = 0.25
_CHUNK = 1 << 24  # Bernoulli draws per chunk of rows


def _sample_synapses(p, n_post, n_pre, seed, allow_self):
    """``(rng, rows, cols)`` of a random connectivity with probability ``p``, sorted by (row, col).

    Every (post, pre) pair is a synapse independently with probability ``p``
    (self-connections removed when ``allow_self`` is False): each row draws its
    count from ``Binomial(n_pre, p)`` and then that many distinct columns,
    uniformly, in whole-array operations (duplicates drawn again until none
    is left; the process treats every column alike, so the set is uniform).
    Dense rows (``p >= DENSE_P``) draw one uniform number per pair instead.
    Projections of at most ``DENSE_LIMIT`` pairs are drawn row by row as before
    (:func:`_sample_rows`: the same graph for the same seed as earlier versions);
    larger ones cannot keep that random stream in whole-array draws, so their
    graph for a given seed differs from earlier versions' (same statistics).
    Deterministic for a given ``seed``.
    """
    if not (0 < p <= 1):
        raise ParameterError(f"p: connection probability must be in (0, 1], got {p}")
    rng = np.random.default_rng(seed)
    if n_post * n_pre <= DENSE_LIMIT:
        rows, cols = _sample_rows(rng, p, n_post, n_pre)
    elif p >= DENSE_P:
        rows, cols = [], []
        step = max(1, _CHUNK // max(n_pre, 1))
        for lo in range(0, n_post, step):
            hi = min(n_post, lo + step)
            r, c = np.nonzero(rng.random((hi - lo, n_pre)) < p)
            rows.append(r + lo)
            cols.append(c)
        rows = np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, np.int64)
        cols = np.concatenate(cols).astype(np.int64) if cols else np.zeros(0, np.int64)
    else:
        counts = rng.binomial(n_pre, p, size=n_post)
        rows = np.repeat(np.arange(n_post, dtype=np.int64), counts)
        key = rows * n_pre + _sorted_uniform_columns(rng, counts, n_pre)
        dup = np.zeros(key.size, dtype=bool)
        dup[1:] = key[1:] == key[:-1]
        pending = key[dup] // n_pre  # rows that drew a column twice: draw again
        key = key[~dup]
        while pending.size:
            new = np.sort(pending * n_pre + rng.integers(0, n_pre, size=pending.size, dtype=np.int64))
            bad = np.zeros(new.size, dtype=bool)
            bad[1:] = new[1:] == new[:-1]
            pos = np.searchsorted(key, new)
            bad |= key[np.minimum(pos, key.size - 1)] == new if key.size else False
            key = np.insert(key, pos[~bad], new[~bad])
            pending = new[bad] // n_pre
        rows, cols = key // n_pre, key % n_pre
    if not allow_self:
        keep = rows != cols
        rows, cols = rows[keep], cols[keep]
    return rng, rows, cols


def _sample_rows(rng, p, n_post, n_pre):
    """Small projections (``n_post * n_pre <= DENSE_LIMIT``): row by row, as neuroport always drew
    them (so a seed gives the graph it gave before): ``Binomial(n_pre, p)`` synapses per row, then
    ``rng.choice`` of that many distinct columns."""
    counts = rng.binomial(n_pre, p, size=n_post)
    rows, cols = [], []
    for i, k in enumerate(counts):
        if k:
            rows.append(np.full(k, i, dtype=np.int64))
            cols.append(np.sort(rng.choice(n_pre, size=k, replace=False)))
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows), np.concatenate(cols).astype(np.int64)


def _sorted_uniform_columns(rng, counts, n_pre):
    """For each row ``r``, ``counts[r]`` independent uniform integers in ``[0, n_pre)``, sorted
    within the row, without a sort: the order statistics of ``k`` uniforms are the partial sums
    of ``k + 1`` exponentials over their total."""
    n_rows = counts.size
    e = rng.standard_exponential(int(counts.sum()) + n_rows)
    np.cumsum(e, out=e)
    ends = np.cumsum(counts + 1) - 1          # index of each row's total S_{k+1}
    starts = ends - counts                    # index of each row's first partial sum
    before = np.zeros(n_rows)
    before[1:] = e[ends[:-1]]
    total = e[ends] - before
    keep = np.ones(e.size, dtype=bool)
    keep[ends] = False
    row_of = np.repeat(np.arange(n_rows), counts)
    u = (e[keep] - before[row_of]) / total[row_of]
    del starts
    return np.minimum((u * n_pre).astype(np.int64), n_pre - 1)


def _drawn_weights(weight, rng, n):
    try:
        values = np.asarray(weight(rng, n), dtype=np.float64).reshape(-1)
    except NeuroportError:
        raise
    except Exception as exc:
        raise ParameterError(f"weight: the callable weight(rng, n) failed for n={n}: {exc}") from None
    if values.size == 1 and n != 1:
        values = np.full(n, float(values[0]))
    if values.size != n:
        raise GraphError(f"weight: the callable weight(rng, n) must return n = {n} values, got {values.size}")
    if not np.all(np.isfinite(values)):
        raise ParameterError("weight: the callable returned NaN or infinite values")
    return values


def _csr(rows, cols, data, n_post, n_pre):
    """CSR from (row, col)-sorted unique coordinates, without scipy's coo sort and duplicate pass."""
    indptr = np.zeros(n_post + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_post), out=indptr[1:])
    idx_dtype = np.int32 if max(n_pre, rows.size) < 2 ** 31 else np.int64
    m = sp.csr_matrix((data, cols.astype(idx_dtype), indptr.astype(idx_dtype)), shape=(n_post, n_pre))
    m.has_sorted_indices = True
    return m
