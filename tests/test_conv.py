"""Conv1d, Conv2d, SumPool2d and AvgPool2d lowered to sparse projections (neuroport/conv.py).

The lowering is checked against a convolution written plainly here (explicit loops over output
positions, input channels and kernel taps on a zero-padded copy of the input, the output size
counted by sliding the kernel, not by the formula), and against scipy.signal.correlate for the
plain case.
"""

import itertools

import nir
import numpy as np
import pytest
import scipy.signal

import neuroport
from neuroport import conv
from neuroport.errors import GraphError, ParameterError, UnsupportedNodeError
from neuroport.structure import analyse


def reference_conv(x, w, bias, stride, pads, dilation, groups):
    """``x`` (C_in, *N), ``w`` (C_out, C_in/groups, *K); pads ((lo, hi), ...). Plain loops."""
    nd = x.ndim - 1
    xp = np.pad(x, [(0, 0)] + [tuple(p) for p in pads])
    c_out, c_in_g = w.shape[:2]
    kernel = w.shape[2:]
    out = []
    for a in range(nd):
        n, o = xp.shape[1 + a], 0
        while o * stride[a] + dilation[a] * (kernel[a] - 1) < n:
            o += 1
        out.append(o)
    y = np.zeros((c_out, *out))
    per_group = c_out // groups
    for co in range(c_out):
        g = co // per_group
        for pos in itertools.product(*[range(o) for o in out]):
            acc = bias[co]
            for ci in range(c_in_g):
                for k in itertools.product(*[range(kk) for kk in kernel]):
                    idx = tuple(p * s + kk * d for p, s, kk, d in zip(pos, stride, k, dilation))
                    acc += w[(co, ci) + k] * xp[(g * c_in_g + ci,) + idx]
            y[(co,) + pos] = acc
    return y


def _project(node, x):
    """Apply the lowered node to ``x`` through the whole path: Input -> node -> population."""
    out_shape = conv.output_shape(node, "c", x.shape)
    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array(x.shape)}), "c": node,
               "pop": nir.I(r=np.ones(out_shape)), "output": nir.Output(output_type={"output": np.array(out_shape)})},
        edges=[("input", "c"), ("c", "pop"), ("pop", "output")], type_check=False)
    path = analyse(graph).paths[0]
    return (path.matrix @ x.ravel() + path.bias).reshape(out_shape), path.matrix


CONV2D_CASES = [
    # (c_in, c_out, (H, W), kernel, stride, padding, dilation, groups)
    (1, 1, (5, 5), (3, 3), (1, 1), 0, (1, 1), 1),
    (2, 3, (7, 6), (3, 2), (1, 1), 1, (1, 1), 1),        # non-square kernel
    (2, 4, (9, 8), (3, 3), (2, 2), 1, (1, 1), 1),
    (3, 2, (8, 9), (2, 3), (2, 1), (1, 0), (1, 1), 1),    # per-axis stride and padding
    (2, 2, (9, 9), (3, 3), (1, 1), 2, (2, 2), 1),        # dilation
    (4, 6, (6, 7), (3, 3), (1, 2), 1, (1, 1), 2),        # groups
    (4, 4, (6, 6), (3, 3), (1, 1), 1, (1, 1), 4),        # depthwise
    (2, 2, (7, 5), (3, 2), (1, 1), "same", (1, 1), 1),   # 'same', odd total padding on one axis
    (2, 2, (8, 8), (3, 3), (1, 1), "same", (2, 1), 1),   # 'same' with dilation
    (2, 3, (6, 6), (2, 2), (3, 3), "valid", (1, 1), 1),
    (1, 2, (4, 10), (1, 5), (1, 3), (0, 2), (1, 2), 1),
]


@pytest.mark.parametrize("case", CONV2D_CASES)
def test_conv2d_matches_reference(case):
    c_in, c_out, hw, kernel, stride, padding, dilation, groups = case
    rng = np.random.default_rng(hash(str(case)) % 2**32)
    w = rng.normal(size=(c_out, c_in // groups, *kernel))
    w[rng.random(w.shape) < 0.2] = 0.0  # zero weights are not stored
    b = rng.normal(size=c_out)
    x = rng.normal(size=(c_in, *hw))
    node = nir.Conv2d(input_shape=hw, weight=w, stride=stride, padding=padding, dilation=dilation,
                      groups=groups, bias=b)
    got, m = _project(node, x)
    pads = conv.padding_pairs("c", padding, kernel, stride, dilation)
    want = reference_conv(x, w, b, stride, pads, dilation, groups)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert m.nnz == np.count_nonzero(m.toarray())  # one entry per synapse, no stored zeros


@pytest.mark.parametrize("case", [
    (1, 1, 9, 3, 1, 0, 1, 1), (2, 3, 11, 4, 2, 1, 1, 1), (2, 2, 12, 3, 1, 2, 3, 1),
    (4, 2, 10, 3, 3, 2, 1, 2), (3, 3, 8, 2, 1, "same", 1, 3), (2, 2, 8, 5, 1, "valid", 1, 1)])
def test_conv1d_matches_reference(case):
    c_in, c_out, n, k, stride, padding, dilation, groups = case
    rng = np.random.default_rng(sum(map(hash, map(str, case))) % 2**32)
    w = rng.normal(size=(c_out, c_in // groups, k))
    b = rng.normal(size=c_out)
    x = rng.normal(size=(c_in, n))
    node = nir.Conv1d(input_shape=n, weight=w, stride=stride, padding=padding, dilation=dilation,
                      groups=groups, bias=b)
    got, _ = _project(node, x)
    pads = conv.padding_pairs("c", padding, (k,), (stride,), (dilation,))
    np.testing.assert_allclose(got, reference_conv(x, w, b, (stride,), pads, (dilation,), groups), atol=1e-12)


def test_plain_conv2d_matches_scipy_correlate():
    rng = np.random.default_rng(3)
    w = rng.normal(size=(3, 2, 4, 3))
    x = rng.normal(size=(2, 10, 9))
    node = nir.Conv2d(input_shape=(10, 9), weight=w, stride=1, padding=0, dilation=1, groups=1,
                      bias=np.zeros(3))
    got, _ = _project(node, x)
    want = np.stack([sum(scipy.signal.correlate(x[ci], w[co, ci], mode="valid") for ci in range(2))
                     for co in range(3)])
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_non_square_kernel_output_shape_is_not_nirs():
    # nir 1.0.8 computes the output shape from the first kernel axis only
    node = nir.Conv2d(input_shape=(10, 10), weight=np.ones((1, 1, 5, 1)), stride=1, padding=0, dilation=1,
                      groups=1, bias=np.zeros(1))
    assert conv.output_shape(node, "c", (1, 10, 10)) == (1, 6, 10)


@pytest.mark.parametrize("kind", ["sum", "avg"])
@pytest.mark.parametrize("kernel,stride,padding", [((2, 2), (2, 2), (0, 0)), ((3, 2), (1, 2), (1, 0)),
                                                   ((3, 3), (2, 2), (1, 1))])
def test_pooling_matches_reference(kind, kernel, stride, padding):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 8, 7))
    cls = nir.SumPool2d if kind == "sum" else nir.AvgPool2d
    node = cls(kernel_size=np.array(kernel), stride=np.array(stride), padding=np.array(padding))
    got, _ = _project(node, x)
    # pooling is a depthwise convolution with a kernel of ones (avg: divided by its area, padding counted)
    xp = np.pad(x, [(0, 0), (padding[0],) * 2, (padding[1],) * 2])
    oh = (xp.shape[1] - kernel[0]) // stride[0] + 1
    ow = (xp.shape[2] - kernel[1]) // stride[1] + 1
    want = np.array([[[xp[c, i * stride[0]:i * stride[0] + kernel[0], j * stride[1]:j * stride[1] + kernel[1]].sum()
                       for j in range(ow)] for i in range(oh)] for c in range(3)])
    if kind == "avg":
        want = want / (kernel[0] * kernel[1])
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_pool_after_population_takes_its_shape_and_chains_into_conv():
    # Input (2, 6, 6) -> Conv2d -> IF (4, 6, 6) -> SumPool2d -> Conv2d -> IF: the pool has no shape of its own
    rng = np.random.default_rng(7)
    w1, w2 = rng.normal(size=(4, 2, 3, 3)), rng.normal(size=(3, 4, 2, 2))
    nodes = {"input": nir.Input(input_type={"input": np.array([2, 6, 6])}),
             "c1": nir.Conv2d(input_shape=(6, 6), weight=w1, stride=1, padding=1, dilation=1, groups=1,
                              bias=np.zeros(4)),
             "a": nir.IF(r=np.ones((4, 6, 6)), v_threshold=np.ones((4, 6, 6)), v_reset=np.zeros((4, 6, 6))),
             "p": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
             "c2": nir.Conv2d(input_shape=None, weight=w2, stride=1, padding=0, dilation=1, groups=1,
                              bias=np.zeros(3)),
             "b": nir.IF(r=np.ones((3, 2, 2)), v_threshold=np.ones((3, 2, 2)), v_reset=np.zeros((3, 2, 2))),
             "output": nir.Output(output_type={"output": np.array([3, 2, 2])})}
    graph = nir.NIRGraph(nodes=nodes, edges=[("input", "c1"), ("c1", "a"), ("a", "p"), ("p", "c2"), ("c2", "b"),
                                             ("b", "output")], type_check=False)
    s = analyse(graph)
    assert nodes["p"].input_type["input"] is None and nodes["c2"].input_shape is None  # not modified
    path = [p for p in s.paths if p.pre == "a"][0]
    x = rng.normal(size=(4, 6, 6))
    pooled = x.reshape(4, 3, 2, 3, 2).sum(axis=(2, 4))
    want = reference_conv(pooled, w2, np.zeros(3), (1, 1), ((0, 0), (0, 0)), (1, 1), 1)
    np.testing.assert_allclose(path.matrix @ x.ravel(), want.ravel(), atol=1e-12)


def test_index_arrays_not_dense_matrix():
    # a 64x64 input, 8 -> 8 channels: the dense matrix would have 32768^2 = 1e9 entries
    w = np.ones((8, 8, 3, 3))
    m, shape = conv.conv_matrix(w, (64, 64), stride=(1, 1), pads=((1, 1), (1, 1)), dilation=(1, 1), groups=1)
    assert shape == (8, 64, 64)
    assert m.shape == (8 * 64 * 64, 8 * 64 * 64)
    # synapses: every output sees 8 channels x the taps that do not fall on padding
    taps = sum(min(i + 1, 63) - max(i - 1, 0) + 1 for i in range(64)) ** 2
    assert m.nnz == 8 * 8 * taps


def test_refusals():
    w = np.ones((2, 2, 3, 3))
    with pytest.raises(UnsupportedNodeError, match="'same'.*stride 1 only"):
        analyse_one(nir.Conv2d(input_shape=(6, 6), weight=w, stride=2, padding="same", dilation=1, groups=1,
                               bias=np.zeros(2)), (2, 6, 6))
    with pytest.raises(ParameterError, match="groups"):
        analyse_one(nir.Conv2d(input_shape=(6, 6), weight=np.ones((3, 1, 3, 3)), stride=1, padding=0, dilation=1,
                               groups=2, bias=np.zeros(3)), (2, 6, 6))
    with pytest.raises(GraphError, match="gives output"):
        analyse_one(nir.Conv2d(input_shape=(2, 2), weight=w, stride=1, padding=0, dilation=1, groups=1,
                               bias=np.zeros(2)), (2, 2, 2))
    bad = nir.Conv2d(input_shape=(6, 6), weight=w, stride=1, padding=0, dilation=1, groups=1, bias=np.zeros(2))
    bad.stride = (0, 1)  # nir's constructor divides by it
    with pytest.raises(ParameterError, match="stride: every entry must be >= 1"):
        analyse_one(bad, (2, 6, 6))


def analyse_one(node, in_shape):
    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array(in_shape)}), "c": node,
               "pop": nir.I(r=np.ones(4)), "output": nir.Output(output_type={"output": np.array([4])})},
        edges=[("input", "c"), ("c", "pop"), ("pop", "output")], type_check=False)
    return analyse(graph)


def test_conv_graph_file_round_trip(tmp_path):
    rng = np.random.default_rng(11)
    w = rng.normal(size=(3, 2, 3, 2))
    node = nir.Conv2d(input_shape=(6, 5), weight=w, stride=(2, 1), padding=(1, 0), dilation=1, groups=1,
                      bias=rng.normal(size=3))
    x = rng.normal(size=(2, 6, 5))
    before, _ = _project(node, x)
    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([2, 6, 5])}), "c": node,
               "pop": nir.I(r=np.ones((3, 3, 4))), "output": nir.Output(output_type={"output": np.array([3, 3, 4])})},
        edges=[("input", "c"), ("c", "pop"), ("pop", "output")], type_check=False)
    neuroport.write(tmp_path / "c.nir", graph)
    back = neuroport.read(tmp_path / "c.nir")
    path = analyse(back).paths[0]
    np.testing.assert_allclose((path.matrix @ x.ravel() + path.bias).reshape(before.shape), before, atol=1e-12)
