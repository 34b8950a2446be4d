"""``WeightWatch``: watches learning connections' weights against bounds Lava does not enforce.

Lava's learning engine clips weights only at 0 (through the sign mode); the
numpy engine clips at ``[w_min, w_max]``. For every watched ``weights`` Var
(a RefPort read in the post-management phase, after the step's learning) the
model keeps ``excess_<j>``, the largest ``max(W - hi, lo - W)`` seen, and
``first_<j>``, the first step (0-based) where it exceeded ``tol_<j>``
(-1: never). A CPU process, used by the float mode only.
"""

from __future__ import annotations

import typing as ty

import numpy as np
from lava.magma.core.decorator import implements, requires
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyRefPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol


class WeightWatch(AbstractProcess):
    """Watches ``variables`` (weight Vars) against ``bounds`` = [(lo, hi, tol)] of the same shapes."""

    def __init__(self, *, variables: ty.Sequence[Var], bounds: ty.Sequence[tuple],
                 name: ty.Optional[str] = None) -> None:
        super().__init__(name=name, n_ref=len(variables))
        for j, (var, (lo, hi, tol)) in enumerate(zip(variables, bounds)):
            setattr(self, f"ref_{j}", RefPortOf(var))
            setattr(self, f"lo_{j}", Var(shape=var.shape, init=lo))
            setattr(self, f"hi_{j}", Var(shape=var.shape, init=hi))
            setattr(self, f"tol_{j}", Var(shape=(1,), init=tol))
            setattr(self, f"excess_{j}", Var(shape=(1,), init=-np.inf))
            setattr(self, f"first_{j}", Var(shape=(1,), init=-1))

    def connect_targets(self, variables: ty.Sequence[Var]) -> None:
        for j, var in enumerate(variables):
            getattr(self, f"ref_{j}").connect_var(var)


def RefPortOf(var):  # noqa: N802 - a factory that reads like the port it makes
    from lava.magma.core.process.ports.ports import RefPort

    return RefPort(shape=var.shape)


class _Numbered(type(PyLoihiProcessModel)):
    def __getattr__(cls, name):
        head, _, num = name.rpartition("_")
        if num.isdigit():
            if head == "ref":
                return LavaPyType(PyRefPort.VEC_DENSE, float)
            if head in ("lo", "hi", "tol", "excess", "first"):
                return LavaPyType(np.ndarray, float)
        raise AttributeError(name)


@implements(proc=WeightWatch, protocol=LoihiProtocol)
@requires(CPU)
class PyWeightWatchModel(PyLoihiProcessModel, metaclass=_Numbered):
    """CPU model of :class:`WeightWatch` (float and fixed runs alike)."""

    def post_guard(self):
        return True

    def run_post_mgmt(self):
        for j in range(self.proc_params["n_ref"]):
            w = np.asarray(getattr(self, f"ref_{j}").read(), dtype=np.float64)
            with np.errstate(invalid="ignore"):
                e = np.nanmax(np.maximum(w - getattr(self, f"hi_{j}"), getattr(self, f"lo_{j}") - w))
            excess = getattr(self, f"excess_{j}")
            if e > excess[0]:
                excess[0] = e
            first = getattr(self, f"first_{j}")
            if first[0] < 0 and e > getattr(self, f"tol_{j}")[0]:
                first[0] = self.time_step - 1
