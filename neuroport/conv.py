"""Convolution and pooling nodes (NIR ``Conv1d``, ``Conv2d``, ``SumPool2d``, ``AvgPool2d``) as sparse projections.

Every neuroport engine runs a projection as a sparse weight matrix (``Program``
projections are CSR), so a convolution is lowered here, once, to the matrix
it applies to the flattened input: ``y = W @ x + b`` with ``x`` the input in
NIR's channel-first C order (``(C_in, N)`` or ``(C_in, H, W)`` raveled) and
``y`` likewise ``(C_out, ...)``. ``W`` holds one entry per synapse the
convolution makes (kernel taps that fall on padding make none; zero weights
are not stored) and is built vectorised from index arrays, never through a
dense ``(out, in)`` matrix. Why a sparse lowering and not Lava's ``Conv``
process: ``docs/conv.md``.

Semantics (checked against nir 1.0.8's ``nir/ir/conv.py`` and
``calculate_conv_output``, which follow ``torch.nn.Conv1d/2d``)::

    y[co, o] = bias[co] + sum_{ci, k} weight[co, ci, k] * x_pad[g * C_in/groups + ci, o * stride + k * dilation]

with ``g = co // (C_out / groups)``, ``weight`` of shape ``(C_out, C_in / groups, *kernel)``,
``x_pad`` the input zero-padded by ``padding`` on both sides of each spatial axis (an int, one
int per axis, ``"valid"`` = 0, or ``"same"``: output size = input size, stride 1 only, the extra
odd element on the high side as PyTorch does) and output size
``floor((N + 2 * pad - dilation * (K - 1) - 1) / stride) + 1`` per axis. nir 1.0.8 computes a
``Conv2d``'s output shape from the first kernel axis only (wrong for non-square kernels):
neuroport computes it from ``weight.shape[2:]``.

``SumPool2d`` is the depthwise convolution with a kernel of ones (``groups = C``) and
``AvgPool2d`` the same divided by ``kernel_h * kernel_w`` (padding counted, as PyTorch's
default ``count_include_pad=True``). Pooling nodes carry no input shape in NIR: it comes
from the node before them (:func:`with_input_shapes`).
"""

from __future__ import annotations

import copy

import nir
import numpy as np
import scipy.sparse as sp

from neuroport.errors import GraphError, ParameterError, UnsupportedNodeError

CONV_TYPES = (nir.Conv1d, nir.Conv2d)
POOL_TYPES = (nir.SumPool2d, nir.AvgPool2d)


def _per_axis(name: str, field: str, value, nd: int, *, low: int) -> tuple:
    """``value`` (an int or one per axis) as a tuple of ``nd`` ints >= ``low``."""
    arr = np.atleast_1d(np.asarray(value)).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, nd)
    if arr.size != nd or not np.all(np.equal(np.mod(arr, 1), 0)):
        raise ParameterError(f"{name}.{field}: expected an integer or {nd} integers, got {value!r}")
    arr = arr.astype(np.int64)
    if np.any(arr < low):
        raise ParameterError(f"{name}.{field}: every entry must be >= {low}, got {arr.tolist()}")
    return tuple(int(a) for a in arr)


def padding_pairs(name: str, padding, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    """``((low, high), ...)`` zero padding per spatial axis for NIR's ``padding`` field."""
    nd = len(kernel)
    if isinstance(padding, bytes):
        padding = padding.decode()
    if isinstance(padding, str):
        if padding == "valid":
            return tuple((0, 0) for _ in range(nd))
        if padding == "same":
            if any(s != 1 for s in stride):
                raise UnsupportedNodeError(
                    f"{name}.padding='same' with stride {list(stride)}: 'same' is defined for stride 1 only "
                    "(as in PyTorch); write the padding as integers")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ParameterError(f"{name}.padding: expected an integer, one per axis, 'same' or 'valid', got {padding!r}")
    pads = _per_axis(name, "padding", padding, nd, low=0)
    return tuple((p, p) for p in pads)


def output_spatial(in_spatial: tuple, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple) -> tuple:
    """Output size per spatial axis (PyTorch's formula, with the padding on each side)."""
    return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                 for n, k, s, (lo, hi), d in zip(in_spatial, kernel, stride, pads, dilation))


def conv_matrix(weight: np.ndarray, in_spatial: tuple, *, stride: tuple, pads: tuple, dilation: tuple,
                groups: int, name: str = "conv") -> tuple[sp.csr_matrix, tuple]:
    """The sparse matrix of a convolution on the flattened channel-first input.

    Parameters
    ----------
    weight : array, shape ``(C_out, C_in / groups, *kernel)``
    in_spatial : tuple of int
        Input spatial size ``(N,)`` or ``(H, W)``.
    stride, dilation : tuple of int, one per spatial axis
    pads : tuple of ``(low, high)`` per spatial axis
    groups : int

    Returns
    -------
    (matrix, out_shape)
        ``matrix`` CSR of shape ``(C_out * prod(out), C_in * prod(in_spatial))`` with one entry
        per non-zero synapse; ``out_shape = (C_out, *out)``. Built from index arrays of
        ``C_out * C_in/groups * prod(kernel) * prod(out)`` entries (the synapses plus the taps on
        padding), never a dense matrix of the full sizes.
    """
    weight = np.asarray(weight, dtype=np.float64)
    nd = weight.ndim - 2
    c_out, c_in_g = weight.shape[:2]
    kernel = weight.shape[2:]
    if groups < 1 or c_out % groups:
        raise ParameterError(f"{name}.groups: {groups} must divide the {c_out} output channels")
    c_in = c_in_g * groups
    out = output_spatial(in_spatial, kernel, stride, pads, dilation)
    if any(o < 1 for o in out):
        raise GraphError(f"{name}: input {list(in_spatial)} with kernel {list(kernel)}, stride {list(stride)}, "
                         f"padding {[list(p) for p in pads]}, dilation {list(dilation)} gives output {list(out)}")
    # axes of the broadcast index arrays: (C_out, C_in/groups, k_0..k_{nd-1}, o_0..o_{nd-1})
    full = 2 + 2 * nd

    def axis(values, at):
        shape = [1] * full
        shape[at] = values.size
        return values.reshape(shape)

    co = axis(np.arange(c_out), 0)
    ci = (co // (c_out // groups)) * c_in_g + axis(np.arange(c_in_g), 1)
    valid = np.ones([1] * full, dtype=bool)
    row = co
    col = ci
    for a in range(nd):
        o = axis(np.arange(out[a]), 2 + nd + a)
        i = o * stride[a] - pads[a][0] + axis(np.arange(kernel[a]), 2 + a) * dilation[a]
        valid = valid & (i >= 0) & (i < in_spatial[a])
        row = row * out[a] + o
        col = col * in_spatial[a] + i
    w = weight.reshape(weight.shape + (1,) * nd)
    keep = np.broadcast_to(valid, np.broadcast_shapes(valid.shape, w.shape, row.shape, col.shape)) & (w != 0)
    rows = np.broadcast_to(row, keep.shape)[keep]
    cols = np.broadcast_to(col, keep.shape)[keep]
    data = np.broadcast_to(w, keep.shape)[keep]
    n_out, n_in = c_out * int(np.prod(out)), c_in * int(np.prod(in_spatial))
    m = sp.csr_matrix((data, (rows, cols)), shape=(n_out, n_in))
    m.sort_indices()
    return m, (c_out, *out)


# ---------------------------------------------------------------- NIR nodes
def conv_spatial_in(node) -> tuple | None:
    """Input spatial shape of a Conv node, ``None`` when it does not say."""
    shape = node.input_shape
    if shape is None:
        return None
    return tuple(int(s) for s in np.atleast_1d(np.asarray(shape)).reshape(-1))


def conv_geometry(node, name: str) -> dict:
    """A Conv1d / Conv2d node's checked fields: ``weight``, ``spatial`` (input), ``stride``,
    ``pads``, ``dilation``, ``groups``, ``in_shape`` and ``out_shape`` (channel first)."""
    weight = np.asarray(node.weight, dtype=np.float64)
    nd = 1 if isinstance(node, nir.Conv1d) else 2
    if weight.ndim != 2 + nd:
        raise GraphError(f"{name}.weight: expected shape (C_out, C_in/groups, {'N' if nd == 1 else 'H, W'}), "
                         f"got {weight.shape}")
    if not np.all(np.isfinite(weight)):
        raise ParameterError(f"{name}.weight: must be finite")
    spatial = conv_spatial_in(node)
    if spatial is None or len(spatial) != nd:
        raise GraphError(f"{name}: {type(node).__name__} needs its input_shape ({nd} spatial size(s)); got "
                         f"{node.input_shape!r} and no shaped node before it")
    groups = int(np.asarray(node.groups).reshape(-1)[0])
    if groups < 1 or weight.shape[0] % groups:
        raise ParameterError(f"{name}.groups: {groups} must divide the {weight.shape[0]} output channels")
    stride = _per_axis(name, "stride", node.stride, nd, low=1)
    dilation = _per_axis(name, "dilation", node.dilation, nd, low=1)
    pads = padding_pairs(name, node.padding, weight.shape[2:], stride, dilation)
    out = output_spatial(spatial, weight.shape[2:], stride, pads, dilation)
    return {"weight": weight, "spatial": spatial, "stride": stride, "pads": pads, "dilation": dilation,
            "groups": groups, "in_shape": (weight.shape[1] * groups, *spatial), "out_shape": (weight.shape[0], *out)}


def lower_conv(node, name: str):
    """``(matrix, bias (out,), in_shape, out_shape)`` of a Conv1d / Conv2d node."""
    g = conv_geometry(node, name)
    weight = g["weight"]
    m, out_shape = conv_matrix(weight, g["spatial"], stride=g["stride"], pads=g["pads"], dilation=g["dilation"],
                               groups=g["groups"], name=name)
    bias = np.zeros(weight.shape[0]) if node.bias is None else np.asarray(node.bias, dtype=np.float64).reshape(-1)
    if bias.size == 1:
        bias = np.full(weight.shape[0], float(bias[0]))
    if bias.size != weight.shape[0]:
        raise GraphError(f"{name}.bias: expected {weight.shape[0]} values (one per output channel), got {bias.size}")
    if not np.all(np.isfinite(bias)):
        raise ParameterError(f"{name}.bias: must be finite")
    per_pos = int(np.prod(out_shape[1:]))
    return m, np.repeat(bias, per_pos), g["in_shape"], out_shape


def pool_geometry(node, name: str) -> dict:
    """A SumPool2d / AvgPool2d node's ``in_shape`` (C, H, W), ``kernel``, ``stride``, ``pads``, ``out_shape``."""
    c, h, w = pool_input_shape(node, name)
    kernel = _per_axis(name, "kernel_size", node.kernel_size, 2, low=1)
    stride = _per_axis(name, "stride", kernel if node.stride is None else node.stride, 2, low=1)
    pads = padding_pairs(name, 0 if node.padding is None else node.padding, kernel, stride, (1, 1))
    out = output_spatial((h, w), kernel, stride, pads, (1, 1))
    return {"in_shape": (c, h, w), "kernel": kernel, "stride": stride, "pads": pads, "out_shape": (c, *out)}


def pool_input_shape(node, name: str) -> tuple:
    shape = node.input_type.get("input") if isinstance(node.input_type, dict) else None
    if shape is None or np.size(shape) != 3:
        raise GraphError(f"{name}: {type(node).__name__} needs its input shape (C, H, W); got {shape!r} "
                         "and no shaped node before it")
    return tuple(int(s) for s in np.asarray(shape).reshape(-1))


def lower_pool(node, name: str):
    """``(matrix, in_shape, out_shape)`` of a SumPool2d / AvgPool2d node."""
    g = pool_geometry(node, name)
    c, h, w = g["in_shape"]
    kh, kw = g["kernel"]
    value = 1.0 if isinstance(node, nir.SumPool2d) else 1.0 / (kh * kw)
    m, out_shape = conv_matrix(np.full((c, 1, kh, kw), value), (h, w), stride=g["stride"], pads=g["pads"],
                               dilation=(1, 1), groups=c, name=name)
    return m, g["in_shape"], out_shape


def output_shape(node, name: str, in_shape: tuple | None) -> tuple | None:
    """The shape a node passes on, given its input shape (``None``: unknown)."""
    node = _shaped(node, in_shape)
    if isinstance(node, CONV_TYPES):
        if conv_spatial_in(node) is None:
            return None
        return conv_geometry(node, name)["out_shape"]
    if isinstance(node, POOL_TYPES):
        return pool_geometry(node, name)["out_shape"]
    if isinstance(node, (nir.Affine, nir.Linear)):
        return (int(np.asarray(node.weight).shape[0]),)
    if isinstance(node, nir.Flatten):
        shape = node.output_type.get("output") if isinstance(node.output_type, dict) else None
        if shape is not None:
            return tuple(int(s) for s in np.atleast_1d(shape))
        return None if in_shape is None else (int(np.prod(in_shape)),)
    if isinstance(node, (nir.Input, nir.Output)) or not hasattr(node, "output_type"):
        shape = node.output_type.get("output") if isinstance(getattr(node, "output_type", None), dict) else None
        return in_shape if shape is None else tuple(int(s) for s in np.atleast_1d(shape))
    shape = node.output_type.get("output") if isinstance(node.output_type, dict) else None
    if shape is None:
        return in_shape
    return tuple(int(s) for s in np.atleast_1d(shape))


def _needs_shape(node) -> bool:
    if isinstance(node, CONV_TYPES):
        return conv_spatial_in(node) is None
    if isinstance(node, POOL_TYPES):
        shape = node.input_type.get("input") if isinstance(node.input_type, dict) else None
        return shape is None or np.size(shape) != 3
    return False


def _shaped(node, in_shape):
    """``node``, or a copy of it given ``in_shape`` (channel first) when it has no input shape."""
    if in_shape is None or not _needs_shape(node):
        return node
    node = copy.copy(node)
    if isinstance(node, CONV_TYPES):
        node.input_shape = in_shape[1] if isinstance(node, nir.Conv1d) else tuple(in_shape[1:])
    else:
        node.input_type = {"input": np.array(in_shape)}
    return node


def with_input_shapes(nodes: dict, edges: list) -> dict:
    """``nodes`` with a copy of every shape-less Conv / pooling node given its input shape.

    NIR's pooling nodes carry no input shape, and a Conv's ``input_shape`` may be ``None``; the
    shape is that of the node before it (a population's output, or the output of the
    conv / pool / Flatten / Affine before it). The graph's own nodes are not modified.
    """
    if not any(_needs_shape(n) for n in nodes.values()):
        return nodes
    nodes = dict(nodes)
    pred: dict = {}
    for a, b in edges:
        pred.setdefault(b, []).append(a)
    known: dict = {}

    def shape_of(name, seen=()):
        if name in known:
            return known[name]
        if name in seen or name not in nodes:
            return None
        node = nodes[name]
        ins = [shape_of(p, seen + (name,)) for p in pred.get(name, [])]
        ins = [s for s in ins if s is not None]
        in_shape = ins[0] if ins else None
        node = nodes[name] = _shaped(node, in_shape)
        known[name] = output_shape(node, name, in_shape)
        return known[name]

    for name in list(nodes):
        shape_of(name)
    return nodes
