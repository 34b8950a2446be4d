"""The compiled engines (``engine="compiled"``): the ``numpy`` and ``numpy-fixed`` engines with their hot
loops in numba kernels.

What is compiled, and where it is written:

* each population's step: its model's ``kernel`` (``models/lif.py``, ``models/adaptive_lif.py``,
  ``models/cond_lif.py``; the shared steps 2-5 in ``models/base.py`` ``k_spike``; the arithmetic in
  ``models/arithmetic.py``), run on the same :class:`~neuroport.models.base.Block` arrays as the numpy
  step (:class:`~neuroport.models.base.KernelPlan`); a model without a kernel (QIF) steps in numpy;
* delivery: each spike's (or graded value's) CSC column scattered straight into the target's ring
  slot (:func:`scatter_column_sums`, float) and the merged integer delivery of the fixed engine
  (:func:`network_deliver`).

Plasticity and short-term depression run their numpy code (the reference) inside the compiled
engines; ``Result.meta["engine_path"]`` is ``"compiled"`` and ``meta["numpy_parts"]`` lists what ran
in numpy.

Agreement with the numpy path (``tests/test_compiled.py``): fixed point, the same integers every
step (integer sums are exact in any order). Float: the same operations in the same order on each
neuron (no fastmath, no contraction to FMA), and each delivery summed per target neuron in the
order numpy's ``bincount`` sums it before it is added to the ring slot, so states and spikes are
equal to the last bit.
"""

from __future__ import annotations

import numpy as np

from neuroport.backends.numpy import Engine
from neuroport.backends.numpy_fixed import FixedEngine
from neuroport.backends.numpy_fixed_delivery import NetworkDelivery
from neuroport.models import neurons
from neuroport.models.arithmetic import FLOAT
from neuroport.models.base import KernelPlan
from neuroport.models.jit import njit


@njit
def scatter_column_sums(indptr, indices, data, out, target, scratch, mark, touched):
    """``target += W @ out`` for the non-zero entries of ``out`` (bool spikes or graded values), ``W`` in
    CSC (``indptr``, ``indices``, ``data``): each target neuron's terms are summed in column order from 0
    (as ``numpy.bincount``), then added to ``target`` once; ``scratch``/``mark``/``touched`` are
    per-target work arrays (zero / False on entry and on exit)."""
    nt = 0
    for j in range(out.shape[0]):
        v = out[j]
        if v == 0:
            continue
        for k in range(indptr[j], indptr[j + 1]):
            r = indices[k]
            w = data[k] * v
            if not mark[r]:
                mark[r] = True
                touched[nt] = r
                nt += 1
            scratch[r] += w
    for q in range(nt):
        r = touched[q]
        target[r] += scratch[r]
        scratch[r] = 0.0
        mark[r] = False


@njit
def network_deliver(lo, hi, seg, weights, idx, payload, slot, has_payload, acc, mark, touched, seg_key, seg_shift,
                    shifted, flat_ring, offset, size):
    """:meth:`NetworkDelivery.deliver` in one pass: each segment's integer sum over the spiking global
    neurons ``idx`` (times the graded payload of its slot, if any), shifted (floor) and added at ring
    offset ``seg_key + offset`` (mod ``size``)."""
    nt = 0
    for q in range(idx.shape[0]):
        j = idx[q]
        for k in range(lo[j], hi[j]):
            s = seg[k]
            w = weights[k]
            if has_payload:
                w = w * payload[slot[k]]
            if not mark[s]:
                mark[s] = True
                touched[nt] = s
                nt += 1
            acc[s] += w
    for q in range(nt):
        s = touched[q]
        a = acc[s]
        acc[s] = 0
        mark[s] = False
        if a == 0:
            continue
        f = seg_key[s] + offset
        if f >= size:
            f -= size
        if shifted:
            a = a >> seg_shift[s]
        flat_ring[f] += a


class _Work:
    """Zeroed per-target work arrays of one size (shared by the deliveries into one population)."""

    def __init__(self, n, dtype):
        self.scratch = np.zeros(n, dtype=dtype)
        self.mark = np.zeros(n, dtype=np.bool_)
        self.touched = np.zeros(n, dtype=np.int64)


class CompiledEngine(Engine):
    """The float engine with its populations' steps and deliveries compiled (module docstring)."""

    mode = "numpy"

    def __init__(self, program):
        super().__init__(program)
        self._work = {}
        self._plans = {}

    def prepare_population(self, pop):
        blk = neurons.block(pop, FLOAT)
        if not _compiled_step(blk):
            return blk, blk.member_states[0], blk
        plan = KernelPlan(blk)
        self._plans[pop.name] = plan
        return blk, blk.member_states[0], plan

    def step_population(self, blk, state, a_in, consts):
        if not isinstance(consts, KernelPlan):
            return super().step_population(blk, state, a_in, consts)
        fired = np.zeros(blk.n, dtype=bool)
        if isinstance(a_in, dict):
            consts.step(a_in["exc"], a_in["inh"], fired)
        else:
            consts.step(a_in, None, fired)
        return fired if blk.any["spiking"] else None

    def deliver(self, d, out, target) -> None:
        work = self._work.get(d.n_post)
        if work is None:
            work = self._work[d.n_post] = _Work(d.n_post, np.float64)
        # bool spikes: data[k] * True is data[k] exactly
        scatter_column_sums(d.indptr, d.indices, d.data, out, target, work.scratch, work.mark, work.touched)

    def path_meta(self) -> dict:
        pops = self.program.populations
        numpy_parts = [f"{n} ({pops[n].model} step)" for n, rt in (self.runtime or {}).items()
                       if rt is not None and not isinstance(rt[2], KernelPlan)]
        numpy_parts += [f"{p.name} (depression)" for p in self.program.projections if p.depression is not None]
        numpy_parts += [f"{p.name} (plasticity)" for p in self.program.projections if p.plasticity is not None]
        return {"engine_path": "compiled", "numpy_parts": numpy_parts}


class _CompiledNetworkDelivery:
    """:class:`NetworkDelivery`'s arrays, delivered by :func:`network_deliver`."""

    def __init__(self, nd: NetworkDelivery):
        self.nd = nd
        self.weights = nd.weights.astype(np.int64)
        self.acc = np.zeros(max(nd.n_seg, 1), dtype=np.int64)
        self.mark = np.zeros(max(nd.n_seg, 1), dtype=np.bool_)
        self.touched = np.zeros(max(nd.n_seg, 1), dtype=np.int64)
        self.slot = nd.slot if nd.slot is not None else np.zeros(1, dtype=np.int64)
        self.no_payload = np.ones(1, dtype=np.int64)

    def deliver(self, flat_ring, t, idx, payload=None) -> None:
        nd = self.nd
        has = payload is not None
        network_deliver(nd.lo, nd.hi, nd.seg, self.weights, idx, payload if has else self.no_payload, self.slot, has,
                        self.acc, self.mark, self.touched, nd.seg_key, nd.seg_shift, nd.shifted, flat_ring,
                        (t % nd.ring_len) * nd.width, nd.size)


class CompiledFixedEngine(FixedEngine):
    """The fixed-point engine with its blocks' steps and its merged delivery compiled (module docstring)."""

    def __init__(self, program, hardware):
        super().__init__(program, hardware)
        self.fanout = [_CompiledNetworkDelivery(f) for f in self.fanout]
        self._plans = []

    def advance(self, *, steps: int, inputs: dict, probes: list, progress) -> tuple:
        self._plans = []  # made afresh by this call's block_step, flushed at its end
        return super().advance(steps=steps, inputs=inputs, probes=probes, progress=progress)

    def block_step(self, block):
        if not _compiled_step(block):
            return block.step
        plan = KernelPlan(block)
        self._plans.append(plan)
        return plan.step

    def flush_counters(self) -> None:
        for plan in self._plans:
            plan.flush()

    def path_meta(self) -> dict:
        numpy_parts = [f"{', '.join(names)} ({key[0]} step)" for key, names in self.group_layout.items()
                       if neurons.runner(self.program.populations[names[0]]).kernel is None]
        numpy_parts += [f"{n} (step)" for n in self.alone]
        numpy_parts += [f"{p.name} (depression)" for p in self.program.projections if p.depression is not None]
        numpy_parts += [f"{p.name} (plasticity)" for p in self.program.projections if p.plasticity is not None]
        return {"engine_path": "compiled", "numpy_parts": numpy_parts}


#: Per-node conventions the kernels do not implement (:mod:`neuroport.semantics`) and the bias onset of
#: a compensated ideal-timing population (:mod:`neuroport.timing`): a block that has any of them steps
#: in numpy inside the compiled engine.
_NUMPY_ONLY_FLAGS = ("deferred", "ge", "multi", "bias_onset")


def _compiled_step(block) -> bool:
    """Whether ``block`` (a :class:`~neuroport.models.base.Block`) runs its model's compiled kernel."""
    return block.model.kernel is not None and not any(block.any.get(f, False) for f in _NUMPY_ONLY_FLAGS)

