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

from neuroport.errors import GraphError

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
    from neuroport.structure import Transform, register_transform

    @register_transform(SparseLinear)
    def _sparse_linear(node, name):
        m = node.matrix()
        return Transform(m.shape[1], m.shape[0], m, None, None)


_register_structure()
