"""Reading and writing ``.nir`` files, with guards around nir 1.0.8's defects.

:func:`read` and :func:`write` wrap the ``nir`` package (HDF5 via h5py):

* a truncated or non-HDF5 file, an unknown node type, or a node whose fields
  do not fit its type raises :class:`~neuroport.errors.NIRFileError` naming
  the file and the node, never a bare ``AssertionError``/``KeyError`` from
  inside nir or h5py;
* node order is restored (nir returns nodes alphabetically): neuroport
  records its order in the graph metadata, and for other files orders nodes
  from the inputs along the edges;
* graphs are built with ``type_check=False`` at every nesting level (nir's
  own flag does not reach nested graphs, and its shape inference is wrong
  for non-square ``Conv2d`` kernels); neuroport checks shapes itself when it
  compiles;
* ``Identity`` nodes (which nir cannot write) are stored as ``Scale`` by
  ones, marked in metadata and restored on read;
* ``None`` in metadata (which nir cannot write) is refused with the key;
* writes are atomic: the file is written beside the target and renamed, so
  a failed write leaves the old file intact;
* before anything is read, the file must be a regular file (a FIFO or a
  device is refused, not waited on), hold no external or soft links, no
  compound or nested-array datasets, and declare no more data than the
  limits of :mod:`neuroport.limits` (:func:`set_limits`): a small
  compressed file cannot make ``read`` allocate gigabytes;
* node names are checked at write time (no ``/``, not ``.`` or ``..``, not
  empty), so ``write`` never produces a file ``read`` refuses; dotted names
  such as ``lif1.lif`` are legal and round-trip.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import stat
import threading
from collections import deque
from contextlib import contextmanager

import h5py
import nir
import numpy as np
from nir.ir.graph import Identity
from nir.serialization import hdf2dict

from neuroport import __version__
from neuroport.errors import GraphError, NIRFileError, NeuroportError
from neuroport import limits
from neuroport.fileutil import atomic_target
from neuroport.limits import set_limits  # noqa: F401  (public: neuroport.io.set_limits)
from neuroport.nodes import EXTENSIONS, PREFIX

ORDER_KEY = "neuroport.node_order"
WAS_KEY = "neuroport.was"
MAX_DEPTH = 64  # HDF5 group nesting (a graph nested 20 deep is 40 groups deep)


# ------------------------------------------------------------------ reading
def read(path) -> nir.NIRGraph:
    """Read a ``.nir`` file (plain NIR or with neuroport extension nodes).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    nir.NIRGraph
        Nodes in the order they were written (or in input-to-output order).

    Raises
    ------
    NIRFileError
        Missing, truncated or malformed file; unknown node type.

    Examples
    --------
    >>> import numpy as np, neuroport
    >>> net = neuroport.Network()
    >>> x = net.input(2, name="x")
    >>> y = net.population(3, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
    >>> _ = net.connect(x, y, weight=0.37)

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "net.nir")
    >>> neuroport.write(path, net, options={"dt": 1e-3})
    >>> graph = neuroport.read(path)
    >>> list(graph.nodes), graph.metadata["neuroport.dt"]
    (['x', 'y', 'x->y'], 0.001)
    >>> neuroport.read(os.path.join(os.path.dirname(path), "missing.nir"))
    Traceback (most recent call last):
    ...
    neuroport.errors.NIRFileError: ...missing.nir: no such file
    """
    path = os.fspath(path)
    _check_regular_file(path)
    try:
        with h5py.File(path, "r") as f:
            if "node" not in f:
                raise NIRFileError(f"{path}: not a NIR file (no 'node' group; keys: {list(f.keys())})")
            _check_datasets(f, path)
            data = hdf2dict(f["node"])
    except NeuroportError:
        raise
    except (OSError, KeyError, ValueError, RuntimeError) as exc:
        raise NIRFileError(f"{path}: cannot be read as a NIR (HDF5) file, it may be truncated or "
                           f"corrupt ({type(exc).__name__}: {exc})") from exc
    try:
        graph = _node_from_dict(data, path, "")
    except NeuroportError:
        raise
    except Exception as exc:  # nir raises AssertionError/TypeError/KeyError on malformed nodes
        raise NIRFileError(f"{path}: malformed graph ({type(exc).__name__}: {exc})") from exc
    try:
        limits.check_graph(graph)
    except NeuroportError as exc:
        raise NIRFileError(f"{path}: {exc}") from exc
    return graph


def _check_regular_file(path: str) -> None:
    """Refuse a missing path, a directory, a FIFO or a device before h5py opens (and blocks on) it."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise NIRFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise NIRFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(st.st_mode):
        kind = ("a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "a device" if
                (stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)) else "not a regular file")
        raise NIRFileError(f"{path}: is {kind}; a .nir file must be a regular file")


def _object_key(obj):
    info = h5py.h5o.get_info(obj.id)
    return getattr(info, "token", None) or getattr(info, "addr", None)


def _check_datasets(f, path: str) -> None:
    """Walk every link before reading: refuse external/soft links, cycles, odd dtypes, oversized data."""
    total = 0
    seen = set()
    stack = [("", f)]
    while stack:
        where, group = stack.pop()
        key = _object_key(group)
        if key in seen:
            raise NIRFileError(f"{path}: group {where or '/'} is reached twice (a hard-link cycle or shared "
                               "group); NIR files are trees")
        seen.add(key)
        for name in group:
            label = f"{where}/{name}"
            link = group.get(name, getlink=True)
            if isinstance(link, (h5py.ExternalLink, h5py.SoftLink)):
                target = f"{link.filename}:{link.path}" if isinstance(link, h5py.ExternalLink) else link.path
                raise NIRFileError(f"{path}: {label} is a {type(link).__name__} to {target!r}; links are "
                                   "refused (a NIR file holds its own data)")
            obj = group.get(name)
            if isinstance(obj, h5py.Group):
                if label.count("/") > MAX_DEPTH:
                    raise NIRFileError(f"{path}: groups nested deeper than {MAX_DEPTH} levels at {label[:200]}...")
                stack.append((label, obj))
                continue
            if not isinstance(obj, h5py.Dataset):
                raise NIRFileError(f"{path}: {label} is neither a group nor a dataset")
            dtype = obj.dtype
            if dtype.names is not None or dtype.subdtype is not None or dtype.kind not in "biufcSUO":
                raise NIRFileError(f"{path}: dataset {label} has dtype {dtype}; NIR fields are numeric "
                                   "arrays or strings")
            if obj.shape is None:  # an empty (null) dataspace
                continue
            count = limits.shape_elements(obj.shape, label)
            try:
                limits.check_elements(count, f"dataset {label}")
                total += count * max(dtype.itemsize, 1)
                limits.check_bytes(total, f"the datasets up to {label}")
            except NeuroportError as exc:
                raise NIRFileError(f"{path}: {exc}") from exc


def _node_from_dict(d: dict, path: str, where: str):
    kind = d.get("type")
    kind = kind.decode() if isinstance(kind, bytes) else kind
    label = where or "<root>"
    if kind is None:
        raise NIRFileError(f"{path}: node {label} has no 'type'")
    if kind == "NIRGraph":
        if "nodes" not in d or "edges" not in d:
            raise NIRFileError(f"{path}: graph {label} lacks 'nodes' or 'edges'")
        nodes = {str(k): _node_from_dict(v, path, f"{where}.{k}".lstrip(".")) for k, v in d["nodes"].items()}
        edges = [(_str(a), _str(b)) for a, b in np.asarray(d["edges"]).reshape(-1, 2)] if len(d["edges"]) else []
        metadata = _clean_metadata(d.get("metadata", {}))
        if isinstance(d["edges"], np.ndarray) and d["edges"].ndim == 2 and d["edges"].shape[1] != 2:
            raise NIRFileError(f"{path}: graph {label} has edges of shape {list(d['edges'].shape)}; "
                               "expected (n, 2) pairs (source, target)")
        nodes = _restore_order(nodes, edges, metadata)
        for a, b in edges:
            for end in (a, b):
                if not edge_end_known(end, nodes):
                    raise NIRFileError(f"{path}: graph {label} has an edge to unknown node {end!r}")
        _normalise_graph(nodes, edges)
        return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=False)
    try:
        if kind.startswith(PREFIX):
            cls = EXTENSIONS.get(kind)
            if cls is None:
                raise NIRFileError(
                    f"{path}: node {label} has type {kind!r}, an extension this neuroport version does not "
                    f"know; known extensions: {', '.join(sorted(EXTENSIONS)) or 'none'}"
                )
            node = cls.from_dict(_node_fields(d))
        else:
            cls = getattr(nir, kind, None)
            if not (isinstance(cls, type) and issubclass(cls, nir.NIRNode)):
                raise NIRFileError(
                    f"{path}: node {label} has unknown type {kind!r}; NIR types and neuroport extensions "
                    f"({', '.join(sorted(EXTENSIONS))}) are supported"
                )
            node = nir.dict2NIRNode(_broadcast_scalars(_node_fields(d)))
    except NeuroportError:
        raise
    except Exception as exc:
        raise NIRFileError(f"{path}: node {label} ({kind}) is malformed: {type(exc).__name__}: {exc}") from exc
    meta = getattr(node, "metadata", None) or {}
    if meta.get(WAS_KEY) == "Identity" and isinstance(node, nir.Scale):
        meta = {k: v for k, v in meta.items() if k != WAS_KEY}
        node = Identity(input_type={"input": np.array(np.shape(node.scale))}, metadata=meta)
    return node


def _node_fields(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if k == "metadata":
            out[k] = _clean_metadata(v)
        else:
            out[k] = v.decode() if isinstance(v, bytes) else v
    return out


def _clean_metadata(meta) -> dict:
    out = {}
    for k, v in (meta or {}).items():
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, dict):
            v = _clean_metadata(v)
        out[k] = v
    return out


#: NIR neuron types whose parameters nir requires to share one shape.
_NEURON_TYPES = ("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I")


def _broadcast_scalars(fields: dict) -> dict:
    """0-d (or size-1) parameters of a neuron node broadcast to the shape of its array ones.

    nir 1.0.8 refuses a node whose parameters differ in shape (``AssertionError: All parameters
    must have the same shape``), which exporters that write one scalar for a whole layer produce.
    """
    if fields.get("type") not in _NEURON_TYPES:
        return fields
    arrays = {k: np.asarray(v) for k, v in fields.items()
              if k not in ("type", "metadata", "input_type", "output_type") and isinstance(v, (np.ndarray, float, int))}
    shapes = [a.shape for a in arrays.values() if a.size > 1]
    if not shapes:
        return fields
    shape = max(shapes, key=lambda sh: int(np.prod(sh)))
    out = dict(fields)
    for k, a in arrays.items():
        if a.size == 1 and a.shape != shape:
            out[k] = np.full(shape, a.reshape(-1)[0], dtype=a.dtype if a.dtype.kind == "f" else np.float64)
    return out


def edge_end_known(end: str, nodes: dict) -> bool:
    """Whether edge end ``end`` names a node of ``nodes``: a plain name (which may contain dots,
    as snnTorch's flattened subgraphs ``lif1.lif`` do) or ``graph.inner`` into a nested
    ``NIRGraph`` node (any depth).

    Examples
    --------
    >>> import numpy as np, nir
    >>> from neuroport.io import edge_end_known
    >>> inner = nir.NIRGraph(nodes={"lif": nir.LIF(tau=np.ones(1), r=np.ones(1), v_leak=np.zeros(1),
    ...                                             v_threshold=np.ones(1))}, edges=[], type_check=False)
    >>> nodes = {"lif1.lif": inner.nodes["lif"], "block": inner}
    >>> edge_end_known("lif1.lif", nodes), edge_end_known("block.lif", nodes), edge_end_known("block.x", nodes)
    (True, True, False)
    """
    return owner(end, nodes) is not None


def owner(end: str, nodes: dict):
    """The name in ``nodes`` that edge end ``end`` belongs to (itself, or the nested graph that holds
    it), or ``None``.

    Examples
    --------
    >>> import numpy as np, nir
    >>> from neuroport.io import owner
    >>> inner = nir.NIRGraph(nodes={"lif": nir.LIF(tau=np.ones(1), r=np.ones(1), v_leak=np.zeros(1),
    ...                                             v_threshold=np.ones(1))}, edges=[], type_check=False)
    >>> nodes = {"lif1.lif": inner.nodes["lif"], "block": inner}
    >>> owner("lif1.lif", nodes), owner("block.lif", nodes), owner("nothing", nodes)
    ('lif1.lif', 'block', None)
    """
    if end in nodes:
        return end
    parts = end.split(".")
    for i in range(len(parts) - 1, 0, -1):
        head, rest = ".".join(parts[:i]), ".".join(parts[i:])
        sub = nodes.get(head)
        if isinstance(sub, nir.NIRGraph) and edge_end_known(rest, sub.nodes):
            return head
    return None


def _normalise_graph(nodes: dict, edges: list) -> None:
    """Exporters' shape conventions made explicit, in place (see :func:`read`).

    * an ``Input`` with a leading batch axis (``(1, 784)``, ``(1, 2, 34, 34)`` or the sample's batch
      size) loses it when its consumers expect the shape without it;
    * a neuron node whose parameters are all scalars takes its size from the ``Affine``/``Linear``
      that feeds it.
    """
    succ, pred = {}, {}
    for a, b in edges:
        ka, kb = owner(a, nodes), owner(b, nodes)
        succ.setdefault(ka, []).append(nodes.get(b))
        pred.setdefault(kb, []).append(nodes.get(a))
    for name, node in list(nodes.items()):
        if isinstance(node, nir.Input):
            shape = tuple(int(s) for s in np.atleast_1d(node.input_type.get("input", ())))
            if len(shape) >= 2 and any(_expects(c, shape[1:]) and (shape[0] == 1 or not _expects(c, shape))
                                       for c in succ.get(name, []) if c is not None):
                meta = dict(node.metadata or {})
                meta["neuroport.batch_axis"] = shape[0]
                nodes[name] = nir.Input(input_type={"input": np.array(shape[1:])}, metadata=meta)
        elif type(node).__name__ in _NEURON_TYPES:
            out = node.output_type.get("output") if isinstance(node.output_type, dict) else None
            if out is not None and np.size(out) == 0:
                rows = [np.shape(p.weight)[0] for p in pred.get(name, [])
                        if isinstance(p, (nir.Affine, nir.Linear)) and np.ndim(p.weight) == 2]
                if rows:
                    fields = {k: v for k, v in node.to_dict().items()}
                    fields = {k: (np.full(rows[0], float(np.asarray(v))) if k not in
                                  ("type", "metadata", "input_type", "output_type") and np.ndim(v) == 0
                                  and isinstance(v, (np.ndarray, float, int)) else v)
                              for k, v in fields.items()}
                    nodes[name] = nir.dict2NIRNode(fields)


def _expects(consumer, shape: tuple) -> bool:
    """Whether ``consumer`` (a NIR node) takes an input of ``shape``."""
    size = int(np.prod(shape))
    if isinstance(consumer, (nir.Affine, nir.Linear)):
        return np.ndim(consumer.weight) == 2 and np.shape(consumer.weight)[1] == size
    if isinstance(consumer, (nir.Conv2d, nir.Conv1d)):
        w = np.shape(consumer.weight)
        return len(shape) == len(w) - 1 and shape[0] == w[1] * int(getattr(consumer, "groups", 1) or 1)
    it = getattr(consumer, "input_type", None)
    if isinstance(it, dict) and it.get("input") is not None and np.size(it["input"]):
        return int(np.prod(it["input"])) == size
    return False


def _str(x) -> str:
    return x.decode() if isinstance(x, bytes) else str(x)


def _restore_order(nodes: dict, edges: list, metadata: dict) -> dict:
    recorded = metadata.get(ORDER_KEY)
    if isinstance(recorded, str):
        try:
            order = json.loads(recorded)
        except ValueError:
            order = None
        if isinstance(order, list) and sorted(order) == sorted(nodes):
            del metadata[ORDER_KEY]
            return {k: nodes[k] for k in order}
    # not written by neuroport: breadth-first from the inputs, then the rest
    succ = {k: [] for k in nodes}
    for a, b in edges:
        a0, b0 = owner(a, nodes), owner(b, nodes)
        if a0 in succ and b0 is not None:
            succ[a0].append(b0)
    seen, order = set(), []
    queue = deque(k for k, v in nodes.items() if isinstance(v, nir.Input))
    while queue:
        k = queue.popleft()
        if k in seen or k not in nodes:
            continue
        seen.add(k)
        order.append(k)
        queue.extend(succ[k])
    order += [k for k in nodes if k not in seen]
    return {k: nodes[k] for k in order}


# ------------------------------------------------------------------ writing
def write(path, graph, *, options: dict | None = None) -> None:
    """Write ``graph`` to ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
    graph : nir.NIRGraph or neuroport.Network
    options : dict, optional
        Compile options to record in the file's metadata (``dt`` in s,
        ``scheme``, ``reset``, ``timing``); stored as ``neuroport.dt`` etc.

    Raises
    ------
    NIRFileError
        When the graph cannot be written; the old file (if any) is untouched.

    Examples
    --------
    >>> import numpy as np, neuroport
    >>> net = neuroport.Network()
    >>> x = net.input(2, name="x")
    >>> y = net.population(3, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
    >>> _ = net.connect(x, y, weight=0.37)

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "net.nir")
    >>> neuroport.write(path, net, options={"dt": 1e-3})
    >>> again = neuroport.read(path)
    >>> again.nodes["x->y"].weight.tolist() == net.nodes["x->y"].weight.tolist(), again.metadata["neuroport.dt"]
    (True, 0.001)
    >>> sorted(os.listdir(os.path.dirname(path)))                 # atomic: no temporary file left
    ['net.nir']
    """
    if hasattr(graph, "to_nir"):
        graph = graph.to_nir()
    if not isinstance(graph, nir.NIRGraph):
        raise GraphError(f"write: expected a nir.NIRGraph or neuroport.Network, got {type(graph).__name__}")
    prepared = prepare_for_write(graph, options=options)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise NIRFileError(f"{path}: directory {directory} does not exist")
    try:
        with atomic_target(path, suffix=".nir.tmp") as tmp, _deferred_sigint() as interrupted:
            nir.write(tmp, prepared)
            if interrupted:  # h5py loses a KeyboardInterrupt raised inside it: re-raise it here
                raise KeyboardInterrupt
    except NeuroportError:
        raise
    except Exception as exc:
        raise NIRFileError(f"{path}: could not write the graph ({type(exc).__name__}: {exc}); "
                           "any existing file was left unchanged") from exc


@contextmanager
def _deferred_sigint():
    """Record SIGINT during the block (h5py swallows a KeyboardInterrupt raised inside its calls).

    Yields a list that is non-empty once SIGINT arrived; the caller raises
    ``KeyboardInterrupt`` after the h5py call returns. Outside the main thread
    (no signal handlers there) it does nothing.
    """
    received: list = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.default_int_handler:  # someone else handles SIGINT: leave it alone
        yield received
        return
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous)


def prepare_for_write(graph, *, options: dict | None = None, where: str = ""):
    """A copy of ``graph`` that nir 1.0.8 can write (see module docstring).

    Examples
    --------
    >>> import numpy as np, neuroport
    >>> net = neuroport.Network()
    >>> x = net.input(2, name="x")
    >>> y = net.population(3, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
    >>> _ = net.connect(x, y, weight=0.37)

    >>> from neuroport.io import prepare_for_write
    >>> prepared = prepare_for_write(net.to_nir(), options={"dt": 1e-3})
    >>> prepared.metadata["neuroport.dt"], list(prepared.nodes) == list(net.nodes)
    (0.001, True)
    """
    nodes = {}
    for name, node in graph.nodes.items():
        _check_name(name, where, "node name")
        label = f"{where}.{name}".lstrip(".")
        _check_metadata(getattr(node, "metadata", None) or {}, label)
        if isinstance(node, nir.NIRGraph):
            node = prepare_for_write(node, where=label)
        elif isinstance(node, Identity):
            shape = node.input_type.get("input") if isinstance(node.input_type, dict) else node.input_type
            meta = dict(node.metadata or {})
            meta[WAS_KEY] = "Identity"
            node = nir.Scale(scale=np.ones(tuple(int(s) for s in np.atleast_1d(shape))), metadata=meta)
        else:
            node = _one_d_scalars(node)
        nodes[name] = node
    for edge in graph.edges:
        if not (isinstance(edge, (tuple, list)) and len(edge) == 2 and all(isinstance(e, str) for e in edge)):
            raise GraphError(f"{where or 'graph'}: edge {edge!r} is not a (source, target) pair of names")
        for end in edge:
            if owner(end, graph.nodes) is None:
                raise GraphError(f"{where or 'graph'}: edge {tuple(edge)!r} names unknown node {end!r}; "
                                 f"nodes: {', '.join(map(repr, list(graph.nodes)[:20]))}")
    metadata = dict(graph.metadata or {}) if isinstance(graph.metadata, dict) else {}
    _check_metadata(metadata, where or "graph")
    metadata[ORDER_KEY] = json.dumps(list(graph.nodes))
    if options:
        for key in ("dt", "scheme", "reset", "timing"):
            if options.get(key) is not None:
                metadata[f"neuroport.{key}"] = options[key]
    metadata.setdefault("neuroport.version", __version__)
    return nir.NIRGraph(nodes=nodes, edges=list(graph.edges), metadata=metadata, type_check=False)


def _one_d_scalars(node):
    """``node`` with its 0-d parameter arrays as shape ``(1,)`` (HDF5 cannot compress a scalar dataset,
    and nir.write compresses every one); the reader broadcasts size-1 parameters over the layer.
    Neuron nodes only (``Flatten.start_dim`` and friends are integers nir writes as they are)."""
    if type(node).__name__ not in _NEURON_TYPES:
        return node
    fields = {k: v for k, v in vars(node).items() if k not in ("input_type", "output_type", "metadata")
              and isinstance(v, (np.ndarray, np.generic)) and np.ndim(v) == 0}
    if not fields:
        return node
    node = copy.copy(node)
    for k, v in fields.items():
        setattr(node, k, np.asarray(v).reshape(1))
    return node


def _check_name(name, where: str, what: str) -> None:
    """Refuse a name HDF5 would split, resolve or reject (so ``write`` never makes a file ``read`` refuses)."""
    label = where or "graph"
    if not isinstance(name, str):
        raise GraphError(f"{label}: {what} {name!r} is a {type(name).__name__}; names must be strings")
    if name in ("", ".", ".."):
        raise GraphError(f"{label}: {what} {name!r} is not allowed (HDF5 paths cannot store it); "
                         "use a name such as 'lif1'")
    bad = [c for c in ("/", "\x00") if c in name]
    if bad:
        raise GraphError(f"{label}: {what} {name!r} contains {bad[0]!r}, which HDF5 treats as a path "
                         "separator or terminator; dots are allowed ('lif1.lif'), slashes are not")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise GraphError(f"{label}: {what} {name!r} is not valid unicode (lone surrogate)") from None


def _check_metadata(meta: dict, label: str) -> None:
    for key, value in meta.items():
        _check_name(key, label, "metadata key")
        if value is None:
            raise NIRFileError(
                f"{label}: metadata[{key!r}] is None, which NIR files cannot store; "
                "remove the key or store a string such as 'none'"
            )
        if isinstance(value, dict):
            _check_metadata(value, f"{label}.metadata[{key!r}]")
