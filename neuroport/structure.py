"""Graph structure: which NIR nodes are neuron populations and how they connect.

This module knows nothing about time steps. It walks a NIR graph, classifies
every node as a *population* (Input and neuron nodes), a *transform* (Affine,
Linear, Scale, Flatten, Delay, Identity, Conv1d, Conv2d, SumPool2d, AvgPool2d:
:mod:`neuroport.conv` lowers the last four to sparse matrices) or an *output*, and composes each
path of transforms between two populations into one weight matrix, one bias
vector and one delay (in seconds). Both :func:`neuroport.compile` (discrete
time) and the Brian2 backend (continuous time) build on this, so they agree
on topology while discretising independently.

Lowering handlers are registered per node class and looked up along the
class's MRO (:func:`register_transform`, :func:`register_population`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import nir
import numpy as np
import scipy.sparse as sp
from nir.ir.graph import Identity

from neuroport import conv
from neuroport.errors import GraphError, ParameterError, UnsupportedNodeError

# ---------------------------------------------------------------- registries
_TRANSFORMS: dict[type, Callable] = {}
_POPULATIONS: dict[type, str] = {}


def register_transform(node_type: type):
    """Decorator: ``fn(node) -> Transform`` for a linear / routing node type."""

    def deco(fn):
        _TRANSFORMS[node_type] = fn
        return fn

    return deco


def register_population(node_type: type, model: str) -> None:
    """Declare ``node_type`` a neuron population handled by model key ``model``."""
    _POPULATIONS[node_type] = model


def _lookup(table: dict, node):
    for klass in type(node).__mro__:
        if klass in table:
            return table[klass]
    return None


def population_model(node) -> str | None:
    """The model key for a population node, ``None`` for anything else."""
    if isinstance(node, nir.Input):
        return "input"
    return _lookup(_POPULATIONS, node)


def supported_types() -> list:
    names = ["Input", "Output"] + [t.__name__ for t in _POPULATIONS] + [t.__name__ for t in _TRANSFORMS]
    return sorted(set(names))


# ---------------------------------------------------------------- transforms
@dataclass
class Transform:
    """A linear map ``y = matrix @ x + bias`` plus an element-wise delay.

    ``matrix`` is ``None`` for the identity; ``delay`` (seconds, shape of
    ``y``) is ``None`` when there is none.
    """

    in_size: int
    out_size: int
    matrix: sp.spmatrix | None = None
    bias: np.ndarray | None = None
    delay: np.ndarray | None = None
    depression: object = None  # a stateful per-channel node (neuroport.Depression)
    plasticity: object = None  # (node name, neuroport.PlasticLinear)


def _array(node_name: str, field_name: str, value) -> np.ndarray:
    from neuroport.discretize import real_array

    arr = real_array(value, f"{node_name}.{field_name}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{node_name}.{field_name}: must be finite, got {value!r}")
    return arr


@register_transform(nir.Affine)
def _affine(node, name):
    w = _array(name, "weight", node.weight)
    if w.ndim != 2:
        raise GraphError(f"{name}.weight: expected a 2-D matrix (out, in), got shape {w.shape}")
    b = _array(name, "bias", node.bias).reshape(-1)
    if b.size != w.shape[0]:
        raise GraphError(f"{name}.bias: expected shape ({w.shape[0]},) to match weight {w.shape}, got {b.shape}")
    return Transform(w.shape[1], w.shape[0], sp.csr_matrix(w), b, None)


@register_transform(nir.Linear)
def _linear(node, name):
    w = _array(name, "weight", node.weight)
    if w.ndim != 2:
        raise GraphError(f"{name}.weight: expected a 2-D matrix (out, in), got shape {w.shape}")
    return Transform(w.shape[1], w.shape[0], sp.csr_matrix(w), None, None)


@register_transform(nir.Scale)
def _scale(node, name):
    s = _array(name, "scale", node.scale).reshape(-1)
    return Transform(s.size, s.size, sp.diags(s).tocsr(), None, None)


@register_transform(nir.Flatten)
def _flatten(node, name):
    shape = node.input_type.get("input") if node.input_type else None
    size = int(np.prod(shape)) if shape is not None and np.size(shape) else -1
    return Transform(size, size)


@register_transform(Identity)
def _identity(node, name):
    shape = node.input_type.get("input") if isinstance(node.input_type, dict) else node.input_type
    size = int(np.prod(shape)) if shape is not None else -1
    return Transform(size, size)


@register_transform(nir.Conv1d)
@register_transform(nir.Conv2d)
def _conv(node, name):
    m, bias, in_shape, out_shape = conv.lower_conv(node, name)
    return Transform(m.shape[1], m.shape[0], m, bias if np.any(bias) else None, None)


@register_transform(nir.SumPool2d)
@register_transform(nir.AvgPool2d)
def _pool(node, name):
    m, in_shape, out_shape = conv.lower_pool(node, name)
    return Transform(m.shape[1], m.shape[0], m, None, None)


@register_transform(nir.Delay)
def _delay(node, name):
    d = _array(name, "delay", node.delay).reshape(-1)
    if np.any(d < 0):
        raise ParameterError(f"{name}.delay: must be >= 0 s, got min {d.min()}")
    return Transform(d.size, d.size, None, None, d)


# ---------------------------------------------------------------- structure
@dataclass
class PopulationNode:
    name: str
    node: object
    model: str
    size: int
    shape: tuple


@dataclass
class Path:
    """A composed path ``pre -> transforms... -> post``.

    ``matrix`` has shape ``(post_size, pre_size)``; ``bias`` shape
    ``(post_size,)`` (constant input); ``delay`` in seconds is a float, or an
    array over ``post`` (``delay_axis="post"``) or ``pre`` (``"pre"``).
    """

    name: str
    pre: str
    post: str
    matrix: sp.csr_matrix
    bias: np.ndarray
    delay: object = 0.0
    delay_axis: str = "scalar"
    through: list = field(default_factory=list)
    depression: object = None
    plasticity: object = None


@dataclass
class Structure:
    populations: dict  # name -> PopulationNode, in graph order
    paths: list
    outputs: dict  # output node name -> population name


def node_size(name: str, node) -> tuple[int, tuple]:
    """Flattened size and shape of a population node's output."""
    out = getattr(node, "output_type", None) or {}
    shape = out.get("output") if isinstance(out, dict) else None
    if shape is None:
        raise GraphError(f"node {name!r} ({type(node).__name__}) has no output shape")
    shape = tuple(int(s) for s in np.atleast_1d(shape))
    return int(np.prod(shape)) if shape else 1, shape


def inline_subgraphs(graph) -> tuple[dict, list]:
    """Nodes and edges with nested NIRGraphs inlined as ``outer.inner`` names (any depth).

    An edge to or from a subgraph itself goes to its one ``Input`` / from its one ``Output``
    node (one level down; a subgraph inside it resolves the same way).
    """
    nodes, edges, ports = _inline(graph)

    def resolve(end: str, role: str) -> str:
        seen = 0
        while end in ports and seen < 64:
            found = ports[end][role]
            if len(found) != 1:
                raise GraphError(
                    f"edge end {end!r} is a subgraph with {len(found)} {role} nodes; "
                    f"name one explicitly, e.g. {end}.<{role}>"
                )
            end, seen = found[0], seen + 1
        return end

    # inner Input/Output nodes of subgraphs become pass-through identities
    return nodes, [(resolve(a, "output"), resolve(b, "input")) for a, b in edges]


def _inline(graph) -> tuple[dict, list, dict]:
    nodes, edges, ports = {}, [], {}
    for name, node in graph.nodes.items():
        if isinstance(node, nir.NIRGraph):
            inner_nodes, inner_edges, inner_ports = _inline(node)
            # an exporter that already wrote the inner names as ``outer.inner`` (Spyx) keeps them
            prefixed = bool(node.nodes) and all(n.startswith(f"{name}.") for n in node.nodes)

            def full(n, name=name, prefixed=prefixed):
                return n if prefixed and n.startswith(f"{name}.") else f"{name}.{n}"

            nodes.update({full(n): v for n, v in inner_nodes.items()})
            edges.extend((full(a), full(b)) for a, b in inner_edges)
            ports.update({full(k): {r: [full(x) for x in v] for r, v in p.items()}
                          for k, p in inner_ports.items()})
            ports[name] = {role: [full(n) for n, v in node.nodes.items() if isinstance(v, kind)]
                           for role, kind in (("input", nir.Input), ("output", nir.Output))}
        else:
            nodes[name] = node
    edges.extend(graph.edges)
    return nodes, edges, ports


def analyse(graph) -> Structure:
    """Classify nodes and compose the paths between populations.

    Raises
    ------
    UnsupportedNodeError
        For a node type with no handler (the message lists the supported ones).
    GraphError
        For edges naming missing nodes, or shapes that do not chain.
    """
    nodes, edges = inline_subgraphs(graph)
    nodes = conv.with_input_shapes(nodes, edges)
    top_level_io = {n for n, v in graph.nodes.items() if isinstance(v, (nir.Input, nir.Output))}
    succ: dict[str, list] = {n: [] for n in nodes}
    for a, b in edges:
        for end in (a, b):
            if end not in nodes:
                raise GraphError(f"edge ({a!r}, {b!r}) names node {end!r}, which is not in the graph")
        succ[a].append(b)

    populations, transforms, outputs_nodes = {}, {}, set()
    for name, node in nodes.items():
        is_io = isinstance(node, (nir.Input, nir.Output))
        if is_io and name not in top_level_io:
            transforms[name] = None  # subgraph port: identity
            continue
        if isinstance(node, nir.Output):
            outputs_nodes.add(name)
            continue
        model = population_model(node)
        if model is not None:
            size, shape = node_size(name, node)
            if size == 1 and _scalar_parameters(node):
                size, shape = _size_from_inputs(name, nodes, succ) or (size, shape)
            populations[name] = PopulationNode(name, node, model, size, shape)
            continue
        handler = _lookup(_TRANSFORMS, node)
        if handler is None:
            raise UnsupportedNodeError(
                f"node {name!r} has type {type(node).__name__}, which neuroport cannot lower; "
                f"supported: {', '.join(supported_types())}"
            )
        transforms[name] = handler(node, name)

    order = _transform_order(transforms, succ)
    paths, names, outputs = [], set(), {}
    for src in populations.values():
        _compose_from(src, succ, populations, transforms, outputs_nodes, order, paths, names, outputs)
    return Structure(populations, paths, outputs)


def _scalar_parameters(node) -> bool:
    """Whether every parameter array of a neuron node holds one value (Rockpool's ``ExpSynTorch``: a 0-d
    ``tau`` for the whole layer), so that its size comes from the weights that feed it."""
    arrays = [v for k, v in vars(node).items() if k not in ("input_type", "output_type", "metadata")
              and isinstance(v, np.ndarray)]
    return bool(arrays) and all(a.size == 1 for a in arrays)


def _size_from_inputs(name: str, nodes: dict, succ: dict):
    """``(size, shape)`` of a node with 0-d parameters from the weight nodes that feed it (all must agree),
    or None."""
    sizes = set()
    for a, targets in succ.items():
        if name in targets and isinstance(nodes.get(a), (nir.Linear, nir.Affine)):
            sizes.add(int(np.shape(nodes[a].weight)[0]))
    if len(sizes) != 1:
        return None
    size = sizes.pop()
    return size, (size,)


def _transform_order(transforms: dict, succ: dict) -> dict:
    """Topological index of every transform over the edges between transforms (Kahn's algorithm).

    Raises :class:`GraphError` naming a cycle made of transforms only (a loop
    with no neuron population, whose signal would never settle).
    """
    indegree = {n: 0 for n in transforms}
    for a in transforms:
        for b in succ[a]:
            if b in transforms:
                indegree[b] += 1
    ready = [n for n in transforms if indegree[n] == 0]
    order = {}
    while ready:
        n = ready.pop()
        order[n] = len(order)
        for b in succ[n]:
            if b in transforms:
                indegree[b] -= 1
                if indegree[b] == 0:
                    ready.append(b)
    if len(order) < len(transforms):
        left = [n for n in transforms if n not in order]
        # every node left has a predecessor left: walking predecessors must repeat a node
        pred = {n: [a for a in left if n in succ[a]] for n in left}
        seen, at = {}, left[0]
        while at not in seen:
            seen[at] = len(seen)
            at = pred[at][0]
        walk = list(seen)[seen[at]:][::-1]
        cycle = " -> ".join(repr(n) for n in walk + [walk[0]])
        raise GraphError(
            f"a cycle of transforms without a neuron population: {cycle}; a loop must pass "
            "through a neuron node (its one-step delay is what makes the loop computable)")
    return order


@dataclass
class _Partial:
    """A composed route from a source population up to one transform (what ``_compose_from`` carries)."""

    matrix: object  # sparse (cur, src.size), or None for the identity
    bias: np.ndarray  # (cur,), or empty for none
    through: list
    rank: tuple = ()  # succ-list positions along the route: sorting by it gives depth-first order
    delay: object = 0.0
    delay_axis: str = "scalar"
    depression: object = None
    plasticity: object = None

    def key(self):
        """Routes with equal keys can be summed (same delays, nothing stateful on the way)."""
        if self.depression is not None or self.plasticity is not None:
            return None
        d = np.asarray(self.delay, dtype=np.float64)
        return self.delay_axis, d.shape, d.tobytes()


def _merge(node: str, arriving: list, src_size: int) -> list:
    """Sum the routes that reach ``node`` with equal delays (NIR sums a node's inputs), in arrival order."""
    if len(arriving) < 2:
        return arriving
    merged, slot = [], {}
    for part in sorted(arriving, key=lambda q: q.rank):
        key = part.key()
        if key is None or key not in slot:
            if key is not None:
                slot[key] = len(merged)
            merged.append(part)
            continue
        first = merged[slot[key]]
        m1 = sp.identity(src_size, format="csr") if first.matrix is None else first.matrix
        m2 = sp.identity(src_size, format="csr") if part.matrix is None else part.matrix
        if m1.shape != m2.shape:
            raise GraphError(
                f"shape mismatch at {node!r}: its inputs have {m1.shape[0]} and {m2.shape[0]} elements "
                f"(from {' -> '.join(first.through) or 'the population'} and "
                f"{' -> '.join(part.through) or 'the population'})")
        b1 = first.bias if first.bias.size else np.zeros(m1.shape[0])
        b2 = part.bias if part.bias.size else np.zeros(m2.shape[0])
        bias = b1 + b2 if (first.bias.size or part.bias.size) else np.zeros(0)
        merged[slot[key]] = _Partial(sp.csr_matrix(m1 + m2), bias, first.through, first.rank, first.delay,
                                     first.delay_axis)
    return merged


def _compose_from(src, succ, populations, transforms, outputs_nodes, order, paths, names, outputs) -> None:
    """Every path from population ``src``: transforms visited once each, in topological order.

    Routes that fork and rejoin with equal delays are summed where they meet,
    so the work is linear in the transforms and edges reachable from ``src``.
    """
    import heapq

    arriving: dict[str, list] = {}
    heap: list = []
    found = []  # (rank, post, route): named in depth-first order once all are known

    def send(part: _Partial, targets) -> None:
        for i, nxt in enumerate(targets):
            if nxt in populations:
                found.append((part.rank + (i,), nxt, part))
            elif nxt in outputs_nodes:
                if part.matrix is not None or part.through:
                    raise GraphError(
                        f"output {nxt!r} reads {src.name!r} through {part.through}; neuroport records "
                        "outputs directly from a population (put a neuron node, e.g. LI, before the output)"
                    )
                outputs[nxt] = src.name
            else:
                if nxt not in arriving:
                    arriving[nxt] = []
                    heapq.heappush(heap, (order[nxt], nxt))
                arriving[nxt].append(dataclasses.replace(part, rank=part.rank + (i,)))

    send(_Partial(None, np.zeros(0), []), succ[src.name])
    while heap:
        _, at = heapq.heappop(heap)
        for part in _merge(at, arriving.pop(at), src.size):
            send(_apply(src, at, transforms[at], part), succ[at])
    for _, nxt, part in sorted(found, key=lambda f: f[0]):
        _emit(src, nxt, part, populations, paths, names)


def _emit(src, nxt, part: _Partial, populations, paths, taken: set) -> None:
    post = populations[nxt]
    m = sp.identity(src.size, format="csr") if part.matrix is None else part.matrix
    if m.shape[0] != post.size:
        raise GraphError(
            f"shape mismatch on the way {' -> '.join([src.name, *part.through, nxt])}: "
            f"{nxt!r} has {post.size} neurons but receives a vector of {m.shape[0]}"
        )
    b = part.bias if part.bias.size else np.zeros(post.size)
    name = part.through[0] if part.through else f"{src.name}->{nxt}"
    if name in taken:
        name = "->".join([src.name, *part.through, nxt])
    base, k = name, 1
    while name in taken:
        k += 1
        name = f"{base}#{k}"
    taken.add(name)
    paths.append(Path(name, src.name, nxt, sp.csr_matrix(m), b, part.delay, part.delay_axis,
                      list(part.through), part.depression, part.plasticity))


def _apply(src, nxt, t, part: _Partial) -> _Partial:
    """The route ``part`` continued through transform ``t`` (node ``nxt``; ``None`` for a subgraph port)."""
    if t is None:
        return part
    m, b, d, axis = part.matrix, part.bias, part.delay, part.delay_axis
    dep, plastic = part.depression, part.plasticity
    through = part.through
    cur_size = src.size if m is None else m.shape[0]
    if t.plasticity is not None:
        if m is not None or plastic is not None:
            raise UnsupportedNodeError(
                f"{nxt!r}: a PlasticLinear node must be the only weight node on its path "
                f"(found after {' -> '.join([src.name, *through])}); fold the other linear layers "
                "into its initial weights"
            )
        plastic = t.plasticity
    if t.depression is not None:
        if m is not None or dep is not None:
            raise UnsupportedNodeError(
                f"{nxt!r}: a Depression node must come right after the population whose spikes "
                f"it depresses (found after {' -> '.join([src.name, *through])})"
            )
        if t.in_size != src.size:
            raise GraphError(f"shape mismatch at {nxt!r}: {t.in_size} channels for {src.size} neurons")
        dep = (nxt, t.depression)
    else:
        if t.in_size not in (-1, cur_size):
            raise GraphError(
                f"shape mismatch at {nxt!r}: expects {t.in_size} inputs, receives {cur_size} "
                f"(from {' -> '.join([src.name, *through])})"
            )
        if t.delay is not None:
            d, axis = _add_delay(nxt, t.delay, d, axis, m is None)
        if t.matrix is not None and m is not None and plastic is not None:
            raise UnsupportedNodeError(
                f"{nxt!r}: a linear layer after a PlasticLinear node cannot be lowered; "
                "a PlasticLinear must connect directly to its target population (a Delay may follow)"
            )
        if t.matrix is not None:
            if axis == "post" and not _uniform(d):
                raise UnsupportedNodeError(
                    f"{nxt!r}: a non-uniform Delay followed by a linear layer cannot be lowered "
                    "to per-synapse delays; put the Delay right before the target population"
                )
            if axis == "post":
                d, axis = float(np.asarray(d).reshape(-1)[0]), "scalar"
            m = t.matrix if m is None else sp.csr_matrix(t.matrix @ m)
            b = (t.matrix @ b if b.size else np.zeros(t.out_size))
        if t.bias is not None:
            b = b + t.bias if b.size else t.bias.copy()
    return _Partial(m, b, through + [nxt], part.rank, d, axis, dep, plastic)


def _uniform(d) -> bool:
    arr = np.asarray(d).reshape(-1)
    return arr.size == 0 or bool(np.all(arr == arr[0]))


def _add_delay(name, vec, current, axis, at_source):
    vec = np.asarray(vec, dtype=np.float64).reshape(-1)
    if _uniform(vec):
        extra = float(vec[0]) if vec.size else 0.0
        if axis == "scalar":
            return current + extra, "scalar"
        return np.asarray(current) + extra, axis
    if axis != "scalar" and not _uniform(current):
        raise UnsupportedNodeError(f"{name!r}: two non-uniform Delay nodes on one path are not supported")
    base = float(np.asarray(current).reshape(-1)[0]) if axis != "scalar" else float(current)
    return base + vec, ("pre" if at_source else "post")
