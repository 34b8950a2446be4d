"""Vectorised construction: ``Network.connect(p=...)`` draws whole arrays (no per-row loop).

The random stream of the old per-row construction (``rng.choice`` without
replacement, row by row) cannot be kept by whole-array draws, so these tests
check (a) that the per-row synapse counts are exactly those of the old
construction (both draw ``Binomial(n_pre, p)`` per row first, from the same
seeded stream), (b) the statistics of the columns, (c) exact determinism.
"""

import numpy as np
import pytest

import neuroport
from neuroport.errors import GraphError, ParameterError


def _old_counts(n_post, n_pre, p, seed):
    """The row counts the old per-row builder drew (its first draw from the seeded stream)."""
    return np.random.default_rng(seed).binomial(n_pre, p, size=n_post)


def _matrix(net, name):
    return net.nodes[name].matrix() if hasattr(net.nodes[name], "matrix") else None


def _build(n_pre, n_post, p, seed, allow_self=True, weight=0.5):
    import scipy.sparse as sp

    net = neuroport.Network()
    a = net.population(n_pre, neuroport.LIF(), name="a")
    b = a if n_post is None else net.population(n_post, neuroport.LIF(), name="b")
    key = net.connect(a, b, weight=weight, p=p, seed=seed, allow_self=allow_self)
    node = net.nodes[key]
    m = node.matrix() if hasattr(node, "matrix") else sp.csr_matrix(np.asarray(node.weight))
    return m.tocsr()


@pytest.mark.parametrize("p", [0.02, 0.1])
def test_row_counts_match_the_old_construction(p):
    m = _build(1500, 1200, p, seed=7)
    np.testing.assert_array_equal(np.diff(m.indptr), _old_counts(1200, 1500, p, 7))


def test_rows_are_sorted_distinct_and_self_free():
    m = _build(3000, None, 0.05, seed=3, allow_self=False)
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    assert not np.any(rows == m.indices)
    for r in range(0, m.shape[0], 97):
        cols = m.indices[m.indptr[r]:m.indptr[r + 1]]
        assert np.all(np.diff(cols) > 0)  # sorted, no duplicates


def test_column_statistics():
    n_pre, n_post, p = 400, 3000, 0.05
    m = _build(n_pre, n_post, p, seed=11)
    per_col = np.bincount(m.indices, minlength=n_pre)
    expected = n_post * p
    # each column: Binomial(n_post, p); chi-square over columns with 399 dof
    chi2 = float(np.sum((per_col - expected) ** 2 / (expected * (1 - p))))
    assert 300 < chi2 < 520
    assert abs(m.nnz / (n_pre * n_post) - p) < 0.003
    # the first and last columns are as likely as the middle ones (no edge bias of the order statistics)
    assert abs(per_col[:40].mean() - expected) < 0.2 * expected
    assert abs(per_col[-40:].mean() - expected) < 0.2 * expected


def test_dense_probability_is_bernoulli():
    m = _build(300, 200, 0.6, seed=5)
    assert abs(m.nnz / 60000 - 0.6) < 0.01


def test_deterministic_for_a_seed():
    a, b, c = (_build(2000, 2000, 0.03, seed=s) for s in (1, 1, 2))
    assert (a != b).nnz == 0 and np.array_equal(a.indices, b.indices)
    assert a.nnz != c.nnz or not np.array_equal(a.indices, c.indices)


def test_callable_weights_from_a_distribution():
    w = _build(1000, 800, 0.05, seed=4, weight=lambda rng, n: rng.normal(1.0, 0.2, n))
    assert abs(w.data.mean() - 1.0) < 0.02 and abs(w.data.std() - 0.2) < 0.02
    again = _build(1000, 800, 0.05, seed=4, weight=lambda rng, n: rng.normal(1.0, 0.2, n))
    np.testing.assert_array_equal(w.data, again.data)
    full = _build(5, 4, None, seed=0, weight=lambda rng, n: np.arange(n, dtype=float))
    np.testing.assert_array_equal(full.toarray().ravel(), np.arange(20.0))


def test_callable_weight_errors():
    with pytest.raises(GraphError, match="must return n"):
        _build(10, 10, 0.5, seed=0, weight=lambda rng, n: np.ones(n + 1))
    with pytest.raises(ParameterError, match="failed"):
        _build(10, 10, 0.5, seed=0, weight=lambda rng, n: 1 / 0)
    with pytest.raises(ParameterError, match="NaN"):
        _build(10, 10, 0.5, seed=0, weight=lambda rng, n: np.full(n, np.nan))


def test_program_memory_per_synapse():
    from neuroport.models.networks.benchmarks import coba_network

    prog = neuroport.compile(coba_network(n_neurons=2000, p=0.04).to_nir(), dt=1e-4)
    per = sum(pr.weights.indices.nbytes + pr.delays.nbytes for pr in prog.projections) / prog.n_synapses
    assert per <= 12  # index + delay, besides the float64 weight
    assert all(pr.weights.data.dtype == np.float64 for pr in prog.projections)
