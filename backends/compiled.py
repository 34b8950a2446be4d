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

* float plasticity (pair STDP, Diehl & Cook): the learning step and the plastic delivery of spikes
  (:func:`~neuroport.models.plasticity.learn_kernel`, :func:`~neuroport.models.plasticity.contribution_kernel`,
  beside the numpy rule in ``models/plasticity.py``), stepped from the per-step loop.

Short-term depression, the fixed-point learning engine and graded plastic deliveries run their
numpy code (the reference) inside the compiled engines; ``Result.meta["engine_path"]`` is
``"compiled"`` and ``meta["numpy_parts"]`` lists what ran in numpy.

Agreement with the numpy path (``tests/test_compiled.py``): fixed point, the same integers every
step (integer sums are exact in any order). Float: the same operations in the same order on each
neuron (no fastmath, no contraction to FMA), and each delivery summed per target neuron in the
order numpy's ``bincount`` sums it before it is added to the ring slot, so states and spikes are
equal to the last bit.
"""

from __future__ import annotations

import os
import time

import numpy as np

from neuroport.backends.numpy import Engine, _progress_bar
from neuroport.backends.numpy_fixed import FixedEngine
from neuroport.backends.numpy_fixed_delivery import NetworkDelivery
from neuroport.models import neurons
from neuroport.models.arithmetic import FLOAT
from neuroport.models.adaptive_lif import _alif_kernel
from neuroport.models.base import Block, KernelPlan
from neuroport.models.depression import recover_kernel, release_kernel
from neuroport.models.cond_lif import (_condlif_float_rows, _condlif_float_uniform, _condlif_kernel, float_rows_apply,
                                       uniform_constants)
from neuroport.models.jit import njit
from neuroport.models.lif import _lif_kernel
from neuroport.models import plasticity
from neuroport.models.plasticity import contribution_kernel, learn_kernel
from neuroport.result import SpikeTrain


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
def scatter_spike_rows(indptr, indices, data, spiking, n_spiking, target, scratch, mark, touched):
    """:func:`scatter_column_sums` for bool spikes given as their indices: ``target += W @ s`` where
    ``s`` is 1 at ``spiking[:n_spiking]`` (ascending neuron indices) and 0 elsewhere, each target's terms
    summed in the same order as there (ascending column), so the result is identical; the cost is per
    synaptic event, not per neuron."""
    nt = 0
    for q in range(n_spiking):
        j = spiking[q]
        for k in range(indptr[j], indptr[j + 1]):
            r = indices[k]
            if not mark[r]:
                mark[r] = True
                touched[nt] = r
                nt += 1
            scratch[r] += data[k]
    for q in range(nt):
        r = touched[q]
        target[r] += scratch[r]
        scratch[r] = 0.0
        mark[r] = False


@njit
def scatter_spike_rows_direct(indptr, indices, data, spiking, n_spiking, target):
    """:func:`scatter_spike_rows` straight into ``target``, for a ``target`` that is all zero before this
    delivery (a ring slot only this delivery writes, see :class:`_WholeRun`): each target's terms are
    added in the same order starting from the same 0.0, so the sums are identical, without the work
    arrays' extra random accesses (per synaptic event: one read-add-write instead of three)."""
    for q in range(n_spiking):
        j = spiking[q]
        for k in range(indptr[j], indptr[j + 1]):
            target[indices[k]] += data[k]


@njit
def network_deliver(lo, hi, seg, weights, idx, payload, slot, has_payload, acc, mark, touched, seg_key, seg_shift,
                    shifted, flat_ring, offset, size):
    """:meth:`NetworkDelivery.deliver` in one pass: each segment's integer sum over the spiking global
    neurons ``idx`` (times the graded payload of its slot, if any), shifted (floor) and added at ring
    offset ``seg_key + offset`` (mod ``size``).

    ``seg[k] < 0`` marks a synapse of an unshifted segment (``weight_exp >= 0``), whose sum needs no
    floor: it adds straight into ring offset ``-seg[k] - 1 + offset`` (integer sums are exact in any
    order, so the ring gets the same integers as from the segment's sum; one random access per synaptic
    event instead of three, :class:`_CompiledNetworkDelivery`)."""
    nt = 0
    for q in range(idx.shape[0]):
        j = idx[q]
        for k in range(lo[j], hi[j]):
            s = seg[k]
            w = weights[k]
            if has_payload:
                w = w * payload[slot[k]]
            if s < 0:
                f = offset - s - 1
                if f >= size:
                    f -= size
                flat_ring[f] += w
                continue
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


#: The model kernels the whole-run loop calls, by their index in this tuple (:func:`run_steps`'s ``kind``).
WHOLE_RUN_KERNELS = (_lif_kernel, _alif_kernel, _condlif_kernel)
#: :func:`run_steps`'s ``kind`` of a float CondLIF population that runs
#: :func:`~neuroport.models.cond_lif._condlif_float_rows` (its SIMD row kernel) on C-ordered copies.
KIND_CONDLIF_ROWS = len(WHOLE_RUN_KERNELS)
#: Flag slots of the whole-run loop's per-population flag rows (``KernelPlan.fl`` padded with False).
N_FLAGS = 16


@njit
def _step_kernel(kind, S, Cf, Ci, fl, inc, a_exc, a_inh, fired, cnt):
    """One float step of a population whose kernel is ``WHOLE_RUN_KERNELS[kind]`` (``fl``: its flag row,
    handed on as a tuple: flags read from an array inside the neuron loop cost 1.7x, measured on COBA)."""
    fl = (fl[0], fl[1], fl[2], fl[3], fl[4], fl[5], fl[6], fl[7], fl[8], fl[9], fl[10], fl[11], fl[12], fl[13],
          fl[14], fl[15])
    if kind == 0:
        _lif_kernel(S, Cf, Ci, fl, inc, a_exc, a_inh, fired, cnt, 0, 0, 1, False)
    elif kind == 1:
        _alif_kernel(S, Cf, Ci, fl, inc, a_exc, a_inh, fired, cnt, 0, 0, 1, False)
    else:
        _condlif_kernel(S, Cf, Ci, fl, inc, a_exc, a_inh, fired, cnt, 0, 0, 1, False)


@njit
def run_steps(first, stop, t0, kind, S, Cf, Ci, fl, inc, cnt, SC, CfC, CiC, has_bias, uniform, CU, d_direct, spiking, fired, pop_off, pop_n, ring, ring_off, ring_len,
              d_start, d_end, z_start, z_end, d_pre, d_post, d_port, d_delay, d_ptr, d_idx, indptr, indices, data,
              in_all, in_off, scratch, mark, touched, rec, rec_pop, rec_row, rec_col, spk_step, spk_nrn, spk_pop, n_spk,
              pl_pre, pl_post, pl_port, pl_delay, pl_learn, PW, PM, PG, PX, PY, PP, pl_rows, pl_cols, pl_wcols, pl_buf,
              pl_out, pl_act, pl_spre):
    """Steps ``first .. stop - 1`` (local step numbers; global step ``t0 + local``) of a float network
    whose populations all run a whole-run kernel (:class:`CompiledEngine`), as
    :meth:`Engine.advance <neuroport.backends.numpy.Engine.advance>` does them, in the same order.

    Per population ``p`` (index in the Program's update order; arrays of shape ``(n_pop,)`` unless said):
    ``kind[p]`` its kernel (-1: an input, its values are ``in_all[local, in_off[p]:in_off[p] + pop_n[p]]``);
    ``S``, ``Cf``, ``Ci``, ``inc``, ``cnt`` tuples of its :class:`KernelPlan` arrays, ``fl`` ``(n_pop,
    N_FLAGS)`` its flags; for ``kind[p] == KIND_CONDLIF_ROWS``, ``SC[p]``, ``CfC[p]``, ``CiC[p]`` are its
    states and constants in C order (``S[p]`` etc. unused) and ``has_bias[p]`` its bias flag; where
    ``uniform[p]``, its constants are the same for every neuron and it runs
    :func:`~neuroport.models.cond_lif._condlif_float_uniform` on the scalars ``CU[p]`` (shape ``(n_pop, 9)``);
    ``spiking`` (int64, ``(max pop_n,)``) is work space for one population's spike indices; ``fired[pop_off[p]:pop_off[p] + pop_n[p]]`` its spikes. Rings: one flat float64
    array, population ``p``'s port ``q`` (0: ``input`` / ``exc``, 1: ``inh``) at ``ring_off[p, q]``, shape
    ``(ring_len[p], pop_n[p])``. Deliveries ``d_start[p] .. d_end[p] - 1`` leave ``p`` (CSC arrays
    concatenated; column pointers of delivery ``k`` at ``indptr[d_ptr[k]:]``, relative to ``d_idx[k]``);
    zero-delay deliveries ``z_start[p] .. z_end[p] - 1`` arrive at ``p`` (timing ``"ideal"``) from an
    earlier population ``d_pre[k]``, added to its input before its step. ``d_direct[k]``: delivery ``k``
    is the only one into its target's ring (that port), so its slot is zero before it and it adds
    straight into it (:func:`scatter_spike_rows_direct`).
    Probes: column block ``rec_col[k]`` of ``rec`` (rows: local steps) gets row ``rec_row[k]`` of
    ``S[rec_pop[k]]``. Spikes are appended to ``spk_*`` from ``n_spk``; the loop stops before a step whose
    spikes might not fit.

    Plastic projections ``k`` (float, dense; ``pl_*`` of shape ``(n_plastic,)``, in the Program's order):
    pre ``pl_pre[k]``, post ``pl_post[k]`` (its port ``pl_port[k]``), delay ``pl_delay[k]``; weights
    ``PW[k]`` ``(post, pre)``, ``PM[k]`` its mask, ``PG[k]`` gains, ``PX[k]``/``PY[k]`` the traces, ``PP[k]``
    :func:`~neuroport.models.plasticity.kernel_params` as floats; after the pre's static deliveries its
    spikes are delivered with :func:`~neuroport.models.plasticity.contribution_kernel` (an input's
    values are 0/1: :class:`_WholeRun` checks), and after every population stepped each learns
    (:func:`~neuroport.models.plasticity.learn_kernel`) in the order ``pl_learn``. ``pl_rows`` ..
    ``pl_spre``: work arrays, sized for the largest projection.

    Returns ``(next local step, spike count)``."""
    n_pop = kind.shape[0]
    cap = spk_step.shape[0]
    n_all = fired.shape[0]
    for local in range(first, stop):
        if n_spk + n_all > cap:
            return local, n_spk
        t = t0 + local
        for p in range(n_pop):
            n = pop_n[p]
            lo = pop_off[p]
            n_spiking = 0
            if kind[p] >= 0:
                slot = (t % ring_len[p]) * n
                a0 = ring[ring_off[p, 0] + slot:ring_off[p, 0] + slot + n]
                a1 = a0
                if ring_off[p, 1] >= 0:
                    a1 = ring[ring_off[p, 1] + slot:ring_off[p, 1] + slot + n]
                for k in range(z_start[p], z_end[p]):
                    j = d_pre[k]
                    nj = pop_n[j]
                    ip = indptr[d_ptr[k]:d_ptr[k] + nj + 1]
                    target = a1 if d_port[k] == 1 else a0
                    if kind[j] >= 0:
                        scatter_column_sums(ip, indices[d_idx[k]:], data[d_idx[k]:], fired[pop_off[j]:pop_off[j] + nj],
                                            target, scratch, mark, touched)
                    else:
                        scatter_column_sums(ip, indices[d_idx[k]:], data[d_idx[k]:],
                                            in_all[local, in_off[j]:in_off[j] + nj], target, scratch, mark, touched)
                f = fired[lo:lo + n]
                if kind[p] == KIND_CONDLIF_ROWS and uniform[p]:
                    _condlif_float_uniform(SC[p], CU[p], has_bias[p], a0, a1, f)  # zeroes a0, a1
                else:
                    if kind[p] == KIND_CONDLIF_ROWS:
                        _condlif_float_rows(SC[p], CfC[p], CiC[p], has_bias[p], a0, a1, f)
                    else:
                        _step_kernel(kind[p], S[p], Cf[p], Ci[p], fl[p], inc[p], a0, a1, f, cnt[p])
                    a0[:] = 0.0
                    a1[:] = 0.0
                for k in range(rec_pop.shape[0]):
                    if rec_pop[k] == p:
                        if kind[p] == KIND_CONDLIF_ROWS:
                            rec[local, rec_col[k]:rec_col[k] + n] = SC[p][rec_row[k]]
                        else:
                            rec[local, rec_col[k]:rec_col[k] + n] = S[p][rec_row[k]]
                n_spiking = 0
                for i in range(n):
                    if f[i]:
                        spk_step[n_spk] = local
                        spk_nrn[n_spk] = i
                        spk_pop[n_spk] = p
                        n_spk += 1
                        spiking[n_spiking] = i
                        n_spiking += 1
            for k in range(d_start[p], d_end[p]):
                q = d_post[k]
                m = pop_n[q]
                row = ring_off[q, d_port[k]] + ((t + d_delay[k]) % ring_len[q]) * m
                target = ring[row:row + m]
                ip = indptr[d_ptr[k]:d_ptr[k] + n + 1]
                ix = indices[d_idx[k]:]
                dx = data[d_idx[k]:]
                if kind[p] >= 0 and d_direct[k]:
                    scatter_spike_rows_direct(ip, ix, dx, spiking, n_spiking, target)
                elif kind[p] >= 0:
                    scatter_spike_rows(ip, ix, dx, spiking, n_spiking, target, scratch, mark, touched)
                else:
                    scatter_column_sums(ip, ix, dx, in_all[local, in_off[p]:in_off[p] + n], target, scratch, mark,
                                        touched)
            for k in range(pl_pre.shape[0]):  # plastic deliveries, with the weights before this step's learning
                if pl_pre[k] != p:
                    continue
                n_act = 0
                if kind[p] >= 0:
                    for q in range(n_spiking):
                        pl_act[n_act] = spiking[q]
                        n_act += 1
                else:
                    for i in range(n):
                        if in_all[local, in_off[p] + i] != 0:
                            pl_act[n_act] = i
                            n_act += 1
                if n_act == 0:
                    continue
                q = pl_post[k]
                m = pop_n[q]
                contribution_kernel(PW[k], PG[k], pl_act[:n_act], pl_out[:m], pl_buf)
                row = ring_off[q, pl_port[k]] + ((t + pl_delay[k]) % ring_len[q]) * m
                for i in range(m):
                    ring[row + i] += pl_out[i]
        for kk in range(pl_learn.shape[0]):  # learning, after every population stepped
            k = pl_learn[kk]
            j = pl_pre[k]
            nj = pop_n[j]
            if kind[j] >= 0:
                s_pre = fired[pop_off[j]:pop_off[j] + nj]
            else:
                s_pre = pl_spre[:nj]
                for i in range(nj):
                    s_pre[i] = in_all[local, in_off[j] + i] != 0
            q = pl_post[k]
            pp = PP[k]
            learn_kernel(PW[k], PM[k], PX[k], PY[k], s_pre, fired[pop_off[q]:pop_off[q] + pop_n[q]], int(pp[0]),
                         pp[1] != 0.0, pp[2], pp[3], pp[4], pp[5], pp[6], pp[7], pp[8], pp[9], pp[10], pl_rows, pl_cols,
                         pl_wcols)
    return stop, n_spk


@njit
def _step_kernel_fixed(kind, S, Cf, Ci, fl, inc, a_exc, a_inh, fired, cnt, lim, m, act):
    """One integer step of a block whose kernel is ``WHOLE_RUN_KERNELS[kind]`` (as :meth:`KernelPlan.step`
    with ``fixed=True``; ``fl``: its flag row, handed on as a tuple as in :func:`_step_kernel`)."""
    fl = (fl[0], fl[1], fl[2], fl[3], fl[4], fl[5], fl[6], fl[7], fl[8], fl[9], fl[10], fl[11], fl[12], fl[13],
          fl[14], fl[15])
    if kind == 0:
        _lif_kernel(S, Cf, Ci, fl, inc, a_exc, a_inh, fired, cnt, lim, m, act, True)
    elif kind == 1:
        _alif_kernel(S, Cf, Ci, fl, inc, a_exc, a_inh, fired, cnt, lim, m, act, True)
    else:
        _condlif_kernel(S, Cf, Ci, fl, inc, a_exc, a_inh, fired, cnt, lim, m, act, True)


@njit
def run_fixed_steps(first, stop, t0, kind, S, Cf, Ci, fl, inc, cnt, lim, m, act, g_lo, g_n, g_c0, g_c1, ring_flat,
                    L, width, fired, in_all, in_lo, in_n, has_fanout, lo, hi, seg, weights, no_payload, slot_of, acc,
                    mark, touched, seg_key, seg_shift, shifted, nd_ring_len, nd_width, nd_size, rec, rec_g, rec_row,
                    rec_col, idx, spk_step, spk_nrn, n_spk, has_dep, dep_x, dep_recover, dep_use, dep_bits, dep_unity,
                    slot_pre, payload):
    """Steps ``first .. stop - 1`` (local; global ``t0 + local``) of the fixed-point engine for a network
    of kernel blocks, inputs and the merged delivery only (:class:`CompiledFixedEngine`), as
    :meth:`FixedEngine.advance <neuroport.backends.numpy_fixed.FixedEngine.advance>` does them, in the
    same order: each block ``g`` (arrays of shape ``(n_groups,)``: ``kind`` its kernel, ``lim``, ``m``,
    ``act`` its :class:`KernelPlan` scalars, ``g_lo``/``g_n`` its global neurons, ``g_c0``/``g_c1`` its
    ring columns, -1: one port) steps on ring slot ``t mod L`` (``ring_flat``: the ``(L, width)`` int64
    ring, flattened), the slot is zeroed, the inputs' spikes ``in_all[local]`` (bool, ``(steps,
    in_n)``) set ``fired[in_lo:in_lo + in_n]``, probes are recorded (column block ``rec_col[k]`` of
    ``rec`` gets row ``rec_row[k]`` of ``S[rec_g[k]]``), and the spiking neurons (``idx``: work space,
    ``(n_all,)``) are delivered by :func:`network_deliver` (``has_fanout``; its arrays as
    :class:`_CompiledNetworkDelivery` hands them). Spikes (global ids) are appended to ``spk_*``; the loop
    stops before a step whose spikes might not fit. Returns ``(next local step, spike count)``.

    Short-term depression of the merged delivery (``has_dep``; :class:`~neuroport.models.depression.DepressionFixed`
    on the engine's resources ``dep_x``, one per payload slot, slot ``q`` the global neuron ``slot_pre[q]``):
    every resource recovers at the start of the step, and in a step with spikes each spiking slot releases
    ``(u_se x) >> bits`` into ``payload[q]`` (and loses it) before the delivery multiplies its synapses by it."""
    n_g = kind.shape[0]
    cap = spk_step.shape[0]
    n_all = fired.shape[0]
    for local in range(first, stop):
        if n_spk + n_all > cap:
            return local, n_spk
        t = t0 + local
        row = (t % L) * width
        if has_dep:
            recover_kernel(dep_x, dep_recover, dep_bits, dep_unity)
        for g in range(n_g):
            n = g_n[g]
            a0 = ring_flat[row + g_c0[g]:row + g_c0[g] + n]
            a1 = a0
            if g_c1[g] >= 0:
                a1 = ring_flat[row + g_c1[g]:row + g_c1[g] + n]
            _step_kernel_fixed(kind[g], S[g], Cf[g], Ci[g], fl[g], inc[g], a0, a1, fired[g_lo[g]:g_lo[g] + n],
                               cnt[g], lim[g], m[g], act[g])
        ring_flat[row:row + width] = 0
        for i in range(in_n):
            fired[in_lo + i] = in_all[local, i]
        for k in range(rec_g.shape[0]):
            g = rec_g[k]
            rec[local, rec_col[k]:rec_col[k] + g_n[g]] = S[g][rec_row[k]]
        n_idx = 0
        for i in range(n_all):
            if fired[i]:
                idx[n_idx] = i
                n_idx += 1
                spk_step[n_spk] = local
                spk_nrn[n_spk] = i
                n_spk += 1
        if n_idx and has_dep:
            release_kernel(dep_x, dep_use, dep_bits, fired, slot_pre, payload)
        if n_idx and has_fanout:
            off = (t % nd_ring_len) * nd_width
            network_deliver(lo, hi, seg, weights, idx[:n_idx], payload if has_dep else no_payload, slot_of, has_dep,
                            acc, mark, touched, seg_key, seg_shift, shifted, ring_flat, off, nd_size)
    return stop, n_spk


class _Work:
    """Zeroed per-target work arrays of one size (shared by the deliveries into one population)."""

    def __init__(self, n, dtype):
        self.scratch = np.zeros(n, dtype=dtype)
        self.mark = np.zeros(n, dtype=np.bool_)
        self.touched = np.zeros(n, dtype=np.int64)


class CompiledEngine(Engine):
    """The float engine with its populations' steps and deliveries compiled (module docstring).

    Whole-run loop: when every population is an input or runs one of :data:`WHOLE_RUN_KERNELS` and
    sends spikes, and no projection has depression, :meth:`advance` runs
    all its steps in one compiled call (:func:`run_steps`; in chunks when a progress bar shows), with
    the same operations in the same order as the per-step path. ``whole_run=False`` (or
    ``$NEUROPORT_WHOLE_RUN=0``) keeps the per-step path; ``path_meta()["whole_run"]`` says which ran.
    """

    mode = "numpy"

    def __init__(self, program, whole_run: bool | None = None, rows_kernels: bool | None = None,
                 uniform_kernels: bool | None = None):
        super().__init__(program)
        if rows_kernels is None:
            rows_kernels = os.environ.get(ROWS_ENV, "1").strip() != "0"
        #: Whether the whole-run loop may use the SIMD row kernels (:data:`KIND_CONDLIF_ROWS`).
        self.rows_kernels = bool(rows_kernels)
        if uniform_kernels is None:
            uniform_kernels = os.environ.get(UNIFORM_ENV, "1").strip() != "0"
        #: Whether a row-kernel population whose constants are the same for every neuron runs
        #: :func:`~neuroport.models.cond_lif._condlif_float_uniform` (its constants as scalars).
        self.uniform_kernels = bool(uniform_kernels)
        self._work = {}
        self._plans = {}
        self._numpy_plastic = set()  # plastic projections whose (graded) delivery ran the numpy code
        if whole_run is None:
            whole_run = os.environ.get(WHOLE_RUN_ENV, "1").strip() != "0"
        self.whole_run = bool(whole_run)
        self._loop = None
        self._ran_whole = False

    def prepare_population(self, pop):
        model = neurons.runner(pop)
        if model.kernel is None:
            blk = neurons.block(pop, FLOAT)
            return blk, blk.member_states[0], blk
        blk = Block(model, [pop], FLOAT, order="F")  # each neuron's states side by side (_fortran)
        if not _compiled_step(blk):
            blk = neurons.block(pop, FLOAT)  # the numpy step, on the numpy engine's layout
            return blk, blk.member_states[0], blk
        plan = _fortran(KernelPlan(blk))
        self._plans[pop.name] = plan
        return blk, blk.member_states[0], plan

    def start(self) -> None:
        super().start()
        self._loop = _WholeRun.build(self) if self.whole_run else None
        # what restart() writes back: each kernel block's initial states (None: restart rebuilds, see there)
        self._initial = {}
        for name, rt in self.runtime.items():
            if rt is None:
                continue
            blk, _, plan = rt
            if not isinstance(plan, KernelPlan) or blk.any["bias_onset"]:
                self._initial = None
                break
            self._initial[name] = blk.block.copy()

    def restart(self) -> None:
        """:meth:`start`'s state without building anything again: every kernel block's states back to
        their initial values, its step count and counts to 0, the rings and work arrays to 0, the
        depression resources to 1, the learning traces to 0; the plastic weights, the blocks, the
        whole-run layout and its typed lists are kept (a reset between the samples of a training run
        was ~70 % of the compiled engine's time, ``benchmarks/bench_train.py``). A network whose
        populations are not all kernel blocks, or that has a bias onset (its constants change during
        a run), gets a full :meth:`start`. ``tests/test_compiled.py`` checks a restarted engine gives
        the bits of a freshly started one."""
        if self.t is None or self._initial is None:
            self.start()
            return
        for name, initial in self._initial.items():
            blk, _, plan = self.runtime[name]
            blk.block[...] = initial
            blk.t, blk.wide = 0, None
            blk.count[...] = 0
            plan.cnt[...] = 0
        for ring in self.ring.values():
            ring.fill(0)
        for x in self.resources.values():
            x.fill(1.0)
        for st in self.plastic.values():
            st.x_pre.fill(0.0)
            st.y_post.fill(0.0)
        if self._loop is not None:
            self._loop.ring.fill(0.0)
            for a in (self._loop.fired, self._loop.scratch, self._loop.mark, self._loop.touched, self._loop.spiking,
                      *self._loop.pl_work):
                a.fill(0)
        self.sent = {}
        self.t = 0

    def advance(self, *, steps: int, inputs: dict, probes: list, progress) -> tuple:
        if self.t is None:
            self.start()
        if self._loop is None or not self._loop.inputs_fit(self, inputs, steps) or \
                self._loop.plastic_arrays(self) is None:
            self._ran_whole = False
            return super().advance(steps=steps, inputs=inputs, probes=probes, progress=progress)
        self._ran_whole = True
        return self._loop.advance(self, steps, inputs, probes, progress)

    def step_population(self, blk, state, a_in, consts):
        if not isinstance(consts, KernelPlan):
            return super().step_population(blk, state, a_in, consts)
        fired = np.zeros(blk.n, dtype=bool)
        if isinstance(a_in, dict):
            consts.step(a_in["exc"], a_in["inh"], fired)
        else:
            consts.step(a_in, None, fired)
        return fired if blk.any["spiking"] else None

    def plastic_contribution(self, state, active, values):
        """The float plastic delivery: :func:`~neuroport.models.plasticity.contribution_kernel` for spikes
        (graded ``values``: the numpy code, whose ``@`` sums in BLAS's order)."""
        if values is not None or state.weights.dtype != np.float64:
            self._numpy_plastic.add(next(n for n, st in self.plastic.items() if st is state))
            return super().plastic_contribution(state, active, values)
        out = np.empty(state.weights.shape[0])
        contribution_kernel(state.weights, state.gain, np.asarray(active, dtype=np.int64), out,
                            self._plastic_work(state)[3])
        return out

    def plastic_learn(self, state, s_pre, s_post):
        """The float learning step: :func:`~neuroport.models.plasticity.learn_kernel` (the same weights)."""
        if state.weights.dtype != np.float64 or not state.weights.flags.c_contiguous:
            return super().plastic_learn(state, s_pre, s_post)
        rows, cols, w_cols, _ = self._plastic_work(state)
        learn_kernel(state.weights, state.mask, state.x_pre, state.y_post, np.asarray(s_pre, dtype=np.bool_),
                     np.asarray(s_post, dtype=np.bool_), *plasticity.kernel_params(state.params), rows, cols, w_cols)

    def _plastic_work(self, state):
        """Work arrays of the learning kernels for a plastic projection's shape ``(post, pre)``."""
        shape = state.weights.shape
        work = self._work.get(("plastic", shape))
        if work is None:
            work = self._work[("plastic", shape)] = (np.zeros(shape[0], dtype=np.int64),
                                                     np.zeros(shape[1], dtype=np.int64),
                                                     np.zeros(shape[0] * shape[1]), np.zeros(shape[1]))
        return work

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
        numpy_parts += [f"{name} (graded plastic delivery)" for name in sorted(self._numpy_plastic)]
        rows = [self.order[k] for k in range(len(self.order)) if self._loop is not None and self._ran_whole
                and self._loop.kind[k] == KIND_CONDLIF_ROWS]
        uniform = [self.order[k] for k in range(len(self.order)) if self._loop is not None and self._ran_whole
                   and self._loop.uniform[k]]
        return {"engine_path": "compiled", "numpy_parts": numpy_parts, "whole_run": self._ran_whole,
                "row_kernels": rows, "uniform_kernels": uniform}


#: ``$NEUROPORT_WHOLE_RUN=0``: the compiled float engine steps in Python even where the whole-run loop applies.
WHOLE_RUN_ENV = "NEUROPORT_WHOLE_RUN"
#: ``$NEUROPORT_ROWS_KERNELS=0``: the whole-run loop runs every population through its general kernel
#: (the row kernels give the same bits; the switch is for comparing them).
ROWS_ENV = "NEUROPORT_ROWS_KERNELS"
#: ``$NEUROPORT_UNIFORM_KERNELS=0``: row-kernel populations keep their per-neuron constant rows even where
#: every neuron has the same constants (the same bits either way; the switch is for comparing them).
UNIFORM_ENV = "NEUROPORT_UNIFORM_KERNELS"


class _WholeRun:
    """:func:`run_steps`'s arrays for one started :class:`CompiledEngine` (its rings are re-homed into
    one flat array, so the per-step path and this loop share them)."""

    @classmethod
    def build(cls, eng):
        """The loop's layout, or None where the network needs the per-step path (class docstring)."""
        pops, order = eng.program.populations, eng.order
        if any(p.depression is not None for p in eng.program.projections):
            return None
        pos = {n: k for k, n in enumerate(order)}
        if any(pos[d.proj.pre] >= pos[n] for n in order for d in eng.zero_delay[n]):
            return None  # a zero-delay delivery from a later population sends what it sent the step before
        kind = np.full(len(order), -1, dtype=np.int64)
        for k, name in enumerate(order):
            rt = eng.runtime[name]
            if rt is None:
                continue
            plan = rt[2]
            if not isinstance(plan, KernelPlan) or plan.kernel not in WHOLE_RUN_KERNELS:
                return None
            if not plan.block.any["spiking"] or len(plan.fl) > N_FLAGS:
                return None
            kind[k] = WHOLE_RUN_KERNELS.index(plan.kernel)
            if (eng.rows_kernels and plan.kernel is _condlif_kernel and not plan.fixed and plan.act == 1
                    and float_rows_apply(plan.fl, plan.inc)):
                kind[k] = KIND_CONDLIF_ROWS
        self = cls()
        self.order, self.kind = order, kind
        self._layout(eng, pops)
        return self

    def _layout(self, eng, pops):
        from numba import types
        from numba.typed import List

        order, kind = self.order, self.kind
        idx = {n: k for k, n in enumerate(order)}
        n_pop = len(order)
        self.pop_n = np.array([pops[n].size for n in order], dtype=np.int64)
        self.pop_off = np.concatenate([[0], np.cumsum(self.pop_n)[:-1]]).astype(np.int64)
        self.fired = np.zeros(max(int(self.pop_n.sum()), 1), dtype=np.bool_)
        dummy2f, dummy2i = np.zeros((1, 1)), np.zeros((1, 4), dtype=np.int64)
        # any-layout 2-D arrays: the state blocks and constant tables are Fortran-ordered, but one of a
        # single neuron is also C-contiguous and would type differently
        f2, i2 = types.Array(types.float64, 2, "A"), types.Array(types.int64, 2, "A")
        self.S, self.Cf, self.Ci = List.empty_list(f2), List.empty_list(f2), List.empty_list(f2)
        self.inc, self.cnt = List.empty_list(i2), List.empty_list(i2)
        self.fl = np.zeros((n_pop, N_FLAGS), dtype=np.bool_)
        c2 = types.Array(types.float64, 2, "C")
        self.SC, self.CfC, self.CiC = List.empty_list(c2), List.empty_list(c2), List.empty_list(c2)
        self.has_bias = np.zeros(n_pop, dtype=np.bool_)
        self.uniform = np.zeros(n_pop, dtype=np.bool_)
        self.CU = np.zeros((n_pop, 9))
        self.rows_copies = []  # (the block's state array (F order), its C-ordered copy the loop steps)
        dummy2c = np.zeros((1, 1))
        for k, name in enumerate(order):
            plan = eng.runtime[name][2] if kind[k] >= 0 else None
            if plan is not None and kind[k] == KIND_CONDLIF_ROWS:
                # C-ordered copies (states copied in and out around each run, see advance)
                sc = np.ascontiguousarray(plan.block.block)
                self.SC.append(sc)
                self.rows_copies.append((plan.block.block, sc))
                self.CfC.append(np.ascontiguousarray(plan.Cf))
                self.CiC.append(np.ascontiguousarray(plan.Ci))
                self.has_bias[k] = plan.fl[2]
                cu = uniform_constants(plan.Cf, plan.Ci) if eng.uniform_kernels else None
                if cu is not None:
                    self.uniform[k] = True
                    self.CU[k] = cu
            else:
                for lst in (self.SC, self.CfC, self.CiC):
                    lst.append(dummy2c)
            if plan is None:
                for lst, d in ((self.S, dummy2f), (self.Cf, dummy2f), (self.Ci, dummy2f), (self.inc, dummy2i),
                               (self.cnt, dummy2i)):
                    lst.append(d)
                continue
            self.S.append(plan.block.block)
            self.Cf.append(plan.Cf)
            self.Ci.append(plan.Ci)
            self.inc.append(plan.inc)
            self.cnt.append(plan.cnt)
            self.fl[k, :len(plan.fl)] = plan.fl
        # rings: one flat array, the engine's ring rows become views of it
        self.ring_len = np.array([eng.ring_len[n] for n in order], dtype=np.int64)
        self.ring_off = np.full((n_pop, 2), -1, dtype=np.int64)
        total = 0
        for k, name in enumerate(order):
            for q, port in enumerate(eng.ports[name]):
                self.ring_off[k, q] = total
                total += int(self.ring_len[k] * self.pop_n[k])
        self.ring = np.zeros(max(total, 1))
        for k, name in enumerate(order):
            for q, port in enumerate(eng.ports[name]):
                shape = (int(self.ring_len[k]), int(self.pop_n[k]))
                view = self.ring[self.ring_off[k, q]:self.ring_off[k, q] + shape[0] * shape[1]].reshape(shape)
                view[...] = eng.ring[(name, port)]
                eng.ring[(name, port)] = view
        # the deliveries do not change between starts (a Simulator reset restarts the engine): laid out once
        cached = getattr(eng, "_whole_run_deliveries", None)
        if cached is None:
            cached = eng._whole_run_deliveries = self._delivery_layout(eng, order, idx, n_pop)
        (self.d_start, self.d_end, self.z_start, self.z_end, self.d_direct, self.d_pre, self.d_post, self.d_port,
         self.d_delay, self.d_ptr, self.d_idx, self.indptr, self.indices, self.data) = cached
        m = max(int(self.pop_n.max(initial=1)), 1)
        self.scratch, self.mark, self.touched = np.zeros(m), np.zeros(m, dtype=np.bool_), np.zeros(m, dtype=np.int64)
        self.spiking = np.zeros(m, dtype=np.int64)
        self.in_names = [n for k, n in enumerate(order) if kind[k] < 0]
        plastic = [p for p in eng.program.projections if p.plasticity is not None]
        self.pl_names = [p.name for p in plastic]
        self.pl_pre = np.array([idx[p.pre] for p in plastic], dtype=np.int64)
        self.pl_post = np.array([idx[p.post] for p in plastic], dtype=np.int64)
        self.pl_port = np.array([eng.ports[p.post].index(p.port) for p in plastic], dtype=np.int64)
        # learning order: by post in update order, then as listed (Engine.advance's plastic_in)
        self.pl_learn = np.array([k for name in order for k, p in enumerate(plastic) if p.post == name],
                                 dtype=np.int64)
        n_post = max([pops[p.post].size for p in plastic], default=1)
        n_pre = max([pops[p.pre].size for p in plastic], default=1)
        n_pair = max([pops[p.post].size * pops[p.pre].size for p in plastic], default=1)
        self.pl_work = (np.zeros(n_post, dtype=np.int64), np.zeros(n_pre, dtype=np.int64), np.zeros(n_pair),
                        np.zeros(n_pre), np.zeros(n_post), np.zeros(n_pre, dtype=np.int64), np.zeros(n_pre, dtype=np.bool_))

    def _delivery_layout(self, eng, order, idx, n_pop):
        """The deliveries' arrays of :func:`run_steps` (``d_start`` .. ``data``, see :meth:`_layout`)."""
        # deliveries, in the per-step path's order (by pre in update order, then as listed)
        rows, ptrs, idxs, datas = [], [], [], []
        self.d_start = np.zeros(n_pop, dtype=np.int64)
        self.d_end = np.zeros(n_pop, dtype=np.int64)
        n_ptr = n_idx = 0
        for k, name in enumerate(order):
            self.d_start[k] = len(rows)
            for d in eng.deliveries[name]:
                q = idx[d.post]
                rows.append((k, q, eng.ports[d.post].index(d.port), d.delay, n_ptr, n_idx))
                ptrs.append(d.indptr)
                idxs.append(d.indices)
                datas.append(d.data)
                n_ptr += d.indptr.size
                n_idx += d.indices.size
            self.d_end[k] = len(rows)
        self.z_start = np.zeros(n_pop, dtype=np.int64)
        self.z_end = np.zeros(n_pop, dtype=np.int64)
        for k, name in enumerate(order):  # zero-delay deliveries, by post, as _gather_input adds them
            self.z_start[k] = len(rows)
            for d in eng.zero_delay[name]:
                rows.append((idx[d.proj.pre], k, eng.ports[name].index(d.port), 0, n_ptr, n_idx))
                ptrs.append(d.indptr)
                idxs.append(d.indices)
                datas.append(d.data)
                n_ptr += d.indptr.size
                n_idx += d.indices.size
            self.z_end[k] = len(rows)
        # a delivery that is the only writer of its target's ring (that port) adds straight into the slot
        writers = {}
        for row in rows:
            writers[(row[1], row[2])] = writers.get((row[1], row[2]), 0) + 1
        for proj in eng.program.projections:  # plastic projections write the ring too
            if proj.plasticity is not None:
                key = (idx[proj.post], eng.ports[proj.post].index(proj.port))
                writers[key] = writers.get(key, 0) + 1
        self.d_direct = np.array([k < len(rows) and writers[(rows[k][1], rows[k][2])] == 1 and rows[k][3] >= 1
                                  for k in range(max(len(rows), 1))], dtype=np.bool_)
        r = np.array(rows, dtype=np.int64).reshape(-1, 6)
        (self.d_pre, self.d_post, self.d_port, self.d_delay, self.d_ptr,
         self.d_idx) = (np.ascontiguousarray(r[:, c]) for c in range(6))
        cat = (lambda xs, dt: np.concatenate(xs, dtype=dt) if xs else np.zeros(1, dtype=dt))
        # target indices in int32 where they fit (half the memory and traffic; every target index is below
        # its population's size, and the pointers stay int64)
        i_dt = np.int32 if int(self.pop_n.max(initial=1)) < 2 ** 31 else np.int64
        self.indptr, self.indices, self.data = cat(ptrs, np.int64), cat(idxs, i_dt), cat(datas, np.float64)
        return (self.d_start, self.d_end, self.z_start, self.z_end, self.d_direct, self.d_pre, self.d_post,
                self.d_port, self.d_delay, self.d_ptr, self.d_idx, self.indptr, self.indices, self.data)

    def plastic_arrays(self, eng):
        """The plastic projections' run-time arrays, taken from ``eng.plastic``: ``(delays, PW, PM, PG, PX, PY,
        PP)`` for :func:`run_steps`, or None where a state is not float64 in C order (then the per-step path
        runs). Built again only when a state's arrays are new objects (a full :meth:`CompiledEngine.start`;
        :meth:`CompiledEngine.restart` keeps them)."""
        arrays = [(st.weights, st.mask, st.gain, st.x_pre, st.y_post) for st in (eng.plastic[n] for n in self.pl_names)]
        cached = getattr(self, "_plastic_cache", None)
        if cached is not None and len(cached[0]) == len(arrays) and all(
                a is b for old, new in zip(cached[0], arrays) for a, b in zip(old, new)):
            return cached[1]  # the same arrays (a restart keeps them): the same typed lists
        out = self._plastic_lists(eng)
        self._plastic_cache = (arrays, out)
        return out

    def _plastic_lists(self, eng):
        """:meth:`plastic_arrays` built (typed lists cost ~0.1 ms each)."""
        from numba import types
        from numba.typed import List

        f2, b2, f1 = (types.Array(types.float64, 2, "C"), types.Array(types.bool_, 2, "C"),
                      types.Array(types.float64, 1, "C"))
        PW, PM, PG, PX, PY = (List.empty_list(f2), List.empty_list(b2), List.empty_list(f1), List.empty_list(f1),
                              List.empty_list(f1))
        delays, params = [], []
        for name in self.pl_names:
            st = eng.plastic[name]
            arrays = (st.weights, st.mask, st.gain, st.x_pre, st.y_post)
            if any(not a.flags.c_contiguous for a in arrays) or st.weights.dtype != np.float64 or \
                    st.mask.dtype != np.bool_ or any(a.dtype != np.float64 for a in arrays[2:]):
                return None
            for lst, a in zip((PW, PM, PG, PX, PY), arrays):
                lst.append(a)
            delays.append(int(st.delay))
            params.append([float(x) for x in plasticity.kernel_params(st.params)])
        if not self.pl_names:
            PW.append(np.zeros((1, 1)))
            PM.append(np.zeros((1, 1), dtype=np.bool_))
            for lst in (PG, PX, PY):
                lst.append(np.zeros(1))
        PP = np.array(params, dtype=np.float64).reshape(-1, 11)
        return np.array(delays, dtype=np.int64), PW, PM, PG, PX, PY, PP

    def inputs_fit(self, eng, inputs, steps) -> bool:
        """Whether every input that sends through a plastic projection sends only 0 and 1 (graded values
        are delivered by the numpy code: a matrix product, summed in BLAS's order)."""
        pops = eng.program.populations
        for k in set(self.pl_pre.tolist()):
            name = self.order[k]
            if pops[name].is_input:
                x = np.asarray(inputs[name])[:steps]
                if not np.all((x == 0) | (x == 1)):
                    return False
        return True

    def advance(self, eng, steps, inputs, probes, progress):
        """:meth:`CompiledEngine.advance` through :func:`run_steps`: ``(trains, states, wall)``."""
        pops, order, kind = eng.program.populations, self.order, self.kind
        eng._make_recorders(probes, eng.runtime, 0)  # the same probe checks and errors as the per-step path
        in_off = np.zeros(len(order), dtype=np.int64)
        cols, w = [], 0
        for k, name in enumerate(order):
            if kind[k] < 0:
                in_off[k] = w
                w += pops[name].size
                cols.append(np.asarray(inputs[name], dtype=np.float64)[:steps])
        in_all = np.ascontiguousarray(np.concatenate(cols, axis=1)) if cols else np.zeros((steps, 1))
        rec_pop, rec_row, rec_col, w = [], [], [], 0
        for name, var in probes:
            k = order.index(name)
            if kind[k] < 0:
                continue
            rec_pop.append(k)
            rec_row.append(eng.runtime[name][0].model.state_names.index(var))
            rec_col.append(w)
            w += pops[name].size
        rec = np.zeros((steps, max(w, 1)))
        rec_pop, rec_row, rec_col = (np.array(x, dtype=np.int64) for x in (rec_pop, rec_row, rec_col))
        n_all = self.fired.size
        cap = max(4 * n_all, 1 << 16)
        spk_step, spk_nrn, spk_pop = (np.zeros(cap, dtype=np.int64), np.zeros(cap, dtype=np.int64),
                                      np.zeros(cap, dtype=np.int64))
        bar = _progress_bar(steps, eng.program, progress, eng.mode)
        chunk = steps if bar is None else max(1, steps // 100)
        pl_delay, PW, PM, PG, PX, PY, PP = self.plastic_arrays(eng)
        n_spk, local = 0, 0
        t0 = time.perf_counter()
        for block, copy in self.rows_copies:  # the block's states (a per-step call may have changed them)
            copy[...] = block
        while local < steps:
            stop = min(steps, local + chunk)
            done, n_spk = run_steps(local, stop, eng.t, self.kind, self.S, self.Cf, self.Ci, self.fl, self.inc,
                                    self.cnt, self.SC, self.CfC, self.CiC, self.has_bias, self.uniform, self.CU,
                                    self.d_direct, self.spiking, self.fired, self.pop_off, self.pop_n, self.ring, self.ring_off,
                                    self.ring_len, self.d_start, self.d_end, self.z_start, self.z_end, self.d_pre,
                                    self.d_post, self.d_port, self.d_delay,
                                    self.d_ptr, self.d_idx, self.indptr, self.indices, self.data, in_all, in_off,
                                    self.scratch, self.mark, self.touched, rec, rec_pop, rec_row, rec_col, spk_step,
                                    spk_nrn, spk_pop, n_spk, self.pl_pre, self.pl_post, self.pl_port, pl_delay,
                                    self.pl_learn, PW, PM, PG, PX, PY, PP, *self.pl_work)
            if bar is not None:
                bar.update(done - local)
            local = done
            if done < stop:  # the spike buffers are full: grow them
                spk_step, spk_nrn, spk_pop = (np.concatenate([x, np.zeros_like(x)]) for x in (spk_step, spk_nrn, spk_pop))
        for block, copy in self.rows_copies:
            block[...] = copy
        wall = time.perf_counter() - t0
        if bar is not None:
            bar.close()
        eng.t += steps
        trains = {}
        sp_s, sp_n, sp_p = spk_step[:n_spk], spk_nrn[:n_spk], spk_pop[:n_spk]
        for k, name in enumerate(order):
            if kind[k] < 0:
                x = cols[self.in_names.index(name)]
                nz = x != 0
                ok = np.all(np.where(nz, x == 1, True), axis=1)
                st, nr = np.nonzero(nz & ok[:, None])
            else:
                sel = sp_p == k
                st, nr = sp_s[sel], sp_n[sel]
            trains[name] = SpikeTrain(st.astype(np.int64), nr.astype(np.int64), pops[name].size, steps)
        states = {}
        j = 0
        for name, var in probes:
            pop = pops[name]
            k = order.index(name)
            if kind[k] < 0:
                arr = np.array(cols[self.in_names.index(name)], dtype=np.float64)
            else:
                c = rec_col[j]
                j += 1
                arr = np.ascontiguousarray(rec[:, c:c + pop.size])
                if var == "v":
                    arr = arr + pop.v_offset
            states.setdefault(name, {})[var] = arr
        return trains, states, wall


class _CompiledNetworkDelivery:
    """:class:`NetworkDelivery`'s arrays, delivered by :func:`network_deliver`."""

    def __init__(self, nd: NetworkDelivery):
        self.nd = nd
        self.weights = nd.weights.astype(np.int64)
        # synapses of unshifted segments carry -(ring key) - 1: network_deliver adds them straight into the ring
        self.seg = np.where(nd.seg_shift[nd.seg] == 0, -nd.seg_key[nd.seg] - 1, nd.seg) if nd.seg.size else nd.seg
        self.acc = np.zeros(max(nd.n_seg, 1), dtype=np.int64)
        self.mark = np.zeros(max(nd.n_seg, 1), dtype=np.bool_)
        self.touched = np.zeros(max(nd.n_seg, 1), dtype=np.int64)
        self.slot = nd.slot if nd.slot is not None else np.zeros(1, dtype=np.int64)
        self.no_payload = np.ones(1, dtype=np.int64)

    def deliver(self, flat_ring, t, idx, payload=None) -> None:
        nd = self.nd
        has = payload is not None
        network_deliver(nd.lo, nd.hi, self.seg, self.weights, idx, payload if has else self.no_payload, self.slot, has,
                        self.acc, self.mark, self.touched, nd.seg_key, nd.seg_shift, nd.shifted, flat_ring,
                        (t % nd.ring_len) * nd.width, nd.size)


class CompiledFixedEngine(FixedEngine):
    """The fixed-point engine with its blocks' steps and its merged delivery compiled (module docstring).

    Whole-run loop: when every population is an input or in a block that runs one of
    :data:`WHOLE_RUN_KERNELS`, and there is no plasticity, no depression outside the merged delivery and
    no int32-wrapped channel,
    :meth:`advance` runs all its steps in one compiled call (:func:`run_fixed_steps`; in chunks when a
    progress bar shows), the same integer operations in the same order as the per-step path.
    ``whole_run=False`` (or ``$NEUROPORT_WHOLE_RUN=0``) keeps the per-step path;
    ``path_meta()["whole_run"]`` says which ran.
    """

    def __init__(self, program, hardware, whole_run: bool | None = None):
        super().__init__(program, hardware)
        self.fanout = [_CompiledNetworkDelivery(f) for f in self.fanout]
        self._plans = []
        self._may_wrap32 = _int32_may_wrap(program, hardware, self.arithmetic)
        if whole_run is None:
            whole_run = os.environ.get(WHOLE_RUN_ENV, "1").strip() != "0"
        self.whole_run = bool(whole_run)
        self._ran_whole = False

    def _whole_run_applies(self) -> bool:
        if not self.whole_run or self.alone or self.wrapped:
            return False
        # depression: only the merged delivery's (run_fixed_steps has_dep), not a projection's own
        if self.recovery and (self.release is None or len(self.recovery) > 1 or self.recovery[0][1] is not
                              self.release[1]):
            return False
        if self.plastic_projs or any(self.outgoing_fixed.values()) or len(self.fanout) > 1:
            return False
        for group, _, _, _ in self.groups:
            if not self._kernel_steps(group) or group.model.kernel not in WHOLE_RUN_KERNELS:
                return False
            if len(group.model.kernel_flags) + 8 > N_FLAGS:
                return False
        return True

    def advance(self, *, steps: int, inputs: dict, probes: list, progress) -> tuple:
        if self.t is None:
            self.start()
        self._plans = []  # made afresh by this call's block_step, flushed at its end
        self._ran_whole = self._whole_run_applies()
        if not self._ran_whole:
            return super().advance(steps=steps, inputs=inputs, probes=probes, progress=progress)
        return self._advance_whole(steps, inputs, probes, progress)

    def _advance_whole(self, steps, inputs, probes, progress):
        """:meth:`advance` through :func:`run_fixed_steps`: ``(trains, states, wall)`` as the per-step path."""
        from numba import types
        from numba.typed import List

        pops = self.program.populations
        recorded = self._make_recorders(probes, self.runtime, steps)
        span = {n: (self.gid[n], self.gid[n] + pops[n].size) for n in self.order}
        n_g = len(self.groups)
        f2, i2 = types.Array(types.float64, 2, "A"), types.Array(types.int64, 2, "A")
        S, Cf, Ci, inc, cnt = (List.empty_list(i2), List.empty_list(f2), List.empty_list(i2), List.empty_list(i2),
                               List.empty_list(i2))
        kind = np.zeros(n_g, dtype=np.int64)
        fl = np.zeros((n_g, N_FLAGS), dtype=np.bool_)
        lim, m, act, g_lo, g_n, g_c0, g_c1 = (np.zeros(n_g, dtype=np.int64) for _ in range(7))
        rec_g, rec_row, rec_col, w = [], [], [], 0
        copy_back = []  # (recorded array, first column of its group's block in rec, offset in the group)
        for g, (group, names, lo, cols) in enumerate(self.groups):
            self.block_step(group)  # its KernelPlan, kept in self._plans (counters flushed at the end)
            plan = self._plans[-1]
            if group.block.dtype != np.int64:  # a converted copy would not be the states the engine keeps
                raise RuntimeError(f"the fixed whole-run loop needs int64 block states, got {group.block.dtype}")
            S.append(group.block)
            Cf.append(np.asarray(plan.Cf, dtype=np.float64))
            Ci.append(np.asarray(plan.Ci, dtype=np.int64))
            inc.append(plan.inc)
            cnt.append(plan.cnt)
            kind[g] = WHOLE_RUN_KERNELS.index(plan.kernel)
            fl[g, :len(plan.fl)] = plan.fl
            lim[g], m[g], act[g] = plan.lim, plan.m, plan.act
            g_lo[g], g_n[g] = lo, group.n
            g_c0[g], g_c1[g] = cols[0], cols[1] if len(cols) > 1 else -1
            for r, var in enumerate(group.state):
                probed = [name for name in names if (name, var) in recorded]
                if probed:
                    rec_g.append(g)
                    rec_row.append(r)
                    rec_col.append(w)
                    copy_back += [(recorded[(name, var)], w, span[name][0] - lo) for name in probed]
                    w += group.n
        rec = np.zeros((steps, max(w, 1)), dtype=np.int64)
        rec_g, rec_row, rec_col = (np.array(x, dtype=np.int64) for x in (rec_g, rec_row, rec_col))
        if self.inputs_order:
            in_lo = self.gid[self.inputs_order[0]]
            arrays = [np.asarray(inputs[n])[:steps] for n in self.inputs_order]
            in_all = np.ascontiguousarray((arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=1)) != 0)
        else:
            in_lo, in_all = 0, np.zeros((steps, 0), dtype=np.bool_)
        if self.fanout:
            f = self.fanout[0]
            nd = f.nd
            fan = (True, nd.lo, nd.hi, f.seg, f.weights, f.no_payload, f.slot, f.acc, f.mark, f.touched, nd.seg_key,
                   nd.seg_shift, bool(nd.shifted), int(nd.ring_len), int(nd.width), int(nd.size))
        else:
            z = np.zeros(1, dtype=np.int64)
            fan = (False, z, z, z, z, z, z, z.copy(), np.zeros(1, dtype=np.bool_), z.copy(), z, z, False, 1, 1, 1)
        if self.release is not None:
            dep_c, dep_x = self.release
            dep = (True, dep_x, dep_c["recover"], dep_c["u_se"], int(dep_c["bits"]), int(dep_c["unity"]),
                   self.dep_slot_pre.astype(np.int64), np.ones(self.n_slots + 1, dtype=np.int64))
        else:
            z = np.zeros(1, dtype=np.int64)
            dep = (False, z.copy(), z, z, 0, 1, z, z.copy())
        fired = np.zeros(self.n_all, dtype=np.bool_)
        idx = np.zeros(max(self.n_all, 1), dtype=np.int64)
        cap = max(4 * self.n_all, 1 << 16)
        spk_step, spk_nrn = np.zeros(cap, dtype=np.int64), np.zeros(cap, dtype=np.int64)
        bar = _progress_bar(steps, self.program, progress, self.mode)
        chunk = steps if bar is None else max(1, steps // 100)
        n_spk, local = 0, 0
        t0 = time.perf_counter()
        while local < steps:
            stop = min(steps, local + chunk)
            done, n_spk = run_fixed_steps(local, stop, self.t, kind, S, Cf, Ci, fl, inc, cnt, lim, m, act, g_lo, g_n,
                                          g_c0, g_c1, self.ring_flat, self.L, self.width, fired, in_all, in_lo,
                                          in_all.shape[1], *fan, rec, rec_g, rec_row, rec_col, idx, spk_step,
                                          spk_nrn, n_spk, *dep)
            if bar is not None:
                bar.update(done - local)
            local = done
            if done < stop:  # the spike buffers are full: grow them
                spk_step, spk_nrn = (np.concatenate([x, np.zeros_like(x)]) for x in (spk_step, spk_nrn))
        wall = time.perf_counter() - t0
        self.t += steps
        self.flush_counters()
        if bar is not None:
            bar.close()
        for name in self.inputs_order:
            if (name, "v") in recorded:
                recorded[(name, "v")][...] = np.asarray(inputs[name])[:steps]
        for arr, col, off in copy_back:
            arr[...] = rec[:, col + off:col + off + arr.shape[1]]
        all_t, all_idx = spk_step[:n_spk], spk_nrn[:n_spk]
        trains = {}
        for name in self.order:
            lo, hi = span[name]
            sel = (all_idx >= lo) & (all_idx < hi)
            trains[name] = SpikeTrain(all_t[sel], (all_idx[sel] - lo).astype(np.int64), pops[name].size, steps)
        states = {}
        for (pop_name, var), arr in recorded.items():
            states.setdefault(pop_name, {})[var] = arr
        return trains, states, wall

    def _kernel_steps(self, block) -> bool:
        """Whether ``block`` runs its compiled kernel: :func:`_compiled_step`, and for Lava's LIF (its int32
        datapath, ``int32_datapath``) only where no input can wrap it (:func:`_int32_may_wrap`): the
        kernels compute ``u`` in int64 and have no int32 wrap; such a block steps in numpy, which wraps."""
        if not _compiled_step(block):
            return False
        if not block.model.int32_datapath:
            return True
        names = next((names for group, names, _, _ in self.groups if group is block), None)
        if names is None:
            names = [n for n in self.alone if self.runtime and self.runtime[n][0] is block]
        return not any(self._may_wrap32.get(n, True) for n in names)

    def block_step(self, block):
        if not self._kernel_steps(block):
            return block.step
        plan = _fortran(KernelPlan(block))
        self._plans.append(plan)
        return plan.step

    def flush_counters(self) -> None:
        for plan in self._plans:
            plan.flush()

    def path_meta(self) -> dict:
        numpy_parts = [f"{', '.join(names)} ({key[0]} step)" for key, names in self.group_layout.items()
                       if neurons.runner(self.program.populations[names[0]]).kernel is None]
        numpy_parts += [f"{n} (step)" for n in self.alone]
        numpy_parts += [f"{n} (int32 datapath can wrap)" for n, may in self._may_wrap32.items() if may]
        if not self._ran_whole:  # the whole-run loop computes the merged delivery's depression itself
            numpy_parts += [f"{p.name} (depression)" for p in self.program.projections if p.depression is not None]
        numpy_parts += [f"{p.name} (plasticity)" for p in self.program.projections if p.plasticity is not None]
        return {"engine_path": "compiled", "numpy_parts": numpy_parts, "whole_run": self._ran_whole}


def _int32_may_wrap(program, hardware, ar) -> dict:
    """``{population: bool}`` for the populations of an int32-datapath model (Lava's LIF): whether its
    ``u`` sum ``decayed + (a_in << act_shift)`` can leave int32 in some step, from the largest positive
    and negative input of every incoming projection with every input spiking
    (:func:`neuroport.fixed_bounds.integer_bound`, the quantizer's overflow check: depression payloads and
    plastic weight ranges included) and ``|u| < 2**23``. Where it can, the compiled engine steps the population in numpy
    (found by ``tests/test_overflow.py``: 2,100 inputs of weight 80 wrapped in numpy and not in the kernel)."""
    from neuroport.fixed_bounds import integer_bound

    out = {}
    for name, pop in program.populations.items():
        if pop.is_input or not getattr(neurons.runner(pop), "int32_datapath", False):
            continue
        bound = integer_bound(pop, [p for p in program.projections if p.post == name], hardware)
        # the u sum wraps too: |decayed u| < 2**23 on top of a << act_shift
        out[name] = bound.dense_can_wrap(hardware) or bound.shifted_worst + ar.max_uv >= ar.word_half
    return out


def _fortran(plan):
    """``plan`` with its constant tables in Fortran order: a neuron's constants side by side. A kernel
    reads some 15-20 rows per neuron; as separate rows (C order) they are as many memory streams, and
    past ~10k neurons the step costs 3.5x more (measured: COBA CondLIF, 51,200 neurons, 53 vs 15 ns
    per neuron)."""
    plan.Cf = np.asfortranarray(plan.Cf)
    plan.Ci = np.asfortranarray(plan.Ci)
    return plan


#: Per-node conventions the kernels do not implement (:mod:`neuroport.semantics`) and the bias onset of
#: a compensated ideal-timing population (:mod:`neuroport.timing`): a block that has any of them steps
#: in numpy inside the compiled engine.
_NUMPY_ONLY_FLAGS = ("deferred", "ge", "multi", "bias_onset")


def _compiled_step(block) -> bool:
    """Whether ``block`` (a :class:`~neuroport.models.base.Block`) runs its model's compiled kernel."""
    return block.model.kernel is not None and not any(block.any.get(f, False) for f in _NUMPY_ONLY_FLAGS)

