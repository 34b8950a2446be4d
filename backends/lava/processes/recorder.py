"""``Recorder``: one Lava process that records any number of OutPorts and Vars.

Lava's ``Monitor`` records a single Var or OutPort per process (its model
declares one prototype port), so recording every population's spikes and
probed states with it costs one process per target, and Lava's CPU simulator
pays per process per step. ``Recorder`` takes all targets at construction:

* ``in_<i>``  InPort connected to the i-th recorded OutPort (spikes), read in
  the spiking phase of each step into ``rec_in_<i>[t]``;
* ``ref_<j>`` RefPort connected to the j-th recorded Var (``u``, ``v``), read
  in the post-management phase of each step (after the neuron's update and
  reset) into ``rec_ref_<j>[t]``.

Its process model resolves the LavaPyType of these numbered members through
its metaclass, so one model serves any number of them.
"""

from __future__ import annotations

import typing as ty

import numpy as np
from lava.magma.core.decorator import implements, requires
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyRefPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort, RefPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol


class Recorder(AbstractProcess):
    """Records ``ports`` (OutPorts) and ``variables`` (Vars) for ``num_steps`` steps.

    Parameters
    ----------
    ports : list of OutPort
    variables : list of Var
    num_steps : int

    After the run, ``rec_in_<i>.get()`` and ``rec_ref_<j>.get()`` hold arrays of
    shape ``(num_steps,) + target.shape`` (float64).
    """

    def __init__(self, *, ports: ty.Sequence[OutPort] = (), variables: ty.Sequence[Var] = (),
                 num_steps: int, name: ty.Optional[str] = None) -> None:
        super().__init__(name=name, num_steps=num_steps, n_in=len(ports), n_ref=len(variables))
        for i, port in enumerate(ports):
            setattr(self, f"in_{i}", InPort(shape=port.shape))
            setattr(self, f"rec_in_{i}", Var(shape=(num_steps,) + tuple(port.shape), init=0))
        for j, var in enumerate(variables):
            setattr(self, f"ref_{j}", RefPort(shape=var.shape))
            setattr(self, f"rec_ref_{j}", Var(shape=(num_steps,) + tuple(var.shape), init=0))

    def connect_targets(self, ports: ty.Sequence[OutPort], variables: ty.Sequence[Var]) -> None:
        """Connect the OutPorts and Vars given at construction (same order)."""
        for i, port in enumerate(ports):
            port.connect(getattr(self, f"in_{i}"))
        for j, var in enumerate(variables):
            getattr(self, f"ref_{j}").connect_var(var)


class _NumberedMembers(type(PyLoihiProcessModel)):
    """Gives ``in_<i>``, ``ref_<j>`` and ``rec_*`` their LavaPyType for any i, j."""

    def __getattr__(cls, name):
        if name.startswith("in_") and name[3:].isdigit():
            return LavaPyType(PyInPort.VEC_DENSE, float)
        if name.startswith("ref_") and name[4:].isdigit():
            return LavaPyType(PyRefPort.VEC_DENSE, float)
        if name.startswith("rec_in_") or name.startswith("rec_ref_"):
            return LavaPyType(np.ndarray, float)
        raise AttributeError(name)


@implements(proc=Recorder, protocol=LoihiProtocol)
@requires(CPU)
class PyRecorderModel(PyLoihiProcessModel, metaclass=_NumberedMembers):
    """CPU model of :class:`Recorder` (float and fixed runs alike)."""

    def run_spk(self):
        t = self.time_step - 1
        for i in range(self.proc_params["n_in"]):
            getattr(self, f"rec_in_{i}")[t] = getattr(self, f"in_{i}").recv()

    def post_guard(self):
        return self.proc_params["n_ref"] > 0

    def run_post_mgmt(self):
        t = self.time_step - 1
        for j in range(self.proc_params["n_ref"]):
            getattr(self, f"rec_ref_{j}")[t] = getattr(self, f"ref_{j}").read()
