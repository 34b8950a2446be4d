"""The fixed-point numpy engine (mode ``numpy-fixed``, int64, level ``fixed``).

It computes exactly what Lava's bit-accurate CPU models compute
(``PyLifModelBitAcc`` for the neurons, ``PyDenseModelBitAcc`` /
``PyDelayDenseModelBitAcc`` for the projections), step for step:

* each projection sums the integer weight mantissas of the spikes its source
  emitted at ``t - d`` (per delay, as ``DelayDense`` does per delay slot) and
  shifts the sum by ``weight_exp`` (``<<`` if positive, arithmetic ``>>`` =
  floor if negative);
* the integer weights are first clipped and truncated exactly as Lava's
  Dense does (:func:`lava_weights`: ``clip_weights`` by ``sign_mode``, then
  ``truncate_weights`` by ``num_weight_bits``), so any fixed Program runs as
  on Lava;
* a population's ``a_in`` is the sum of those projection outputs; the neuron
  steps are the models' own (:mod:`neuroport.models`, in Loihi integers: Lava's LIF;
  neuroport's AdaptiveLIF and CondLIF; depression as graded payloads);
* plastic projections learn as Lava's ``LearningDense`` with a
  ``Loihi2FLearningRule`` (:mod:`neuroport.models.fixed_plasticity`): they
  deliver through their current integer weights, and after every population
  stepped, traces and weights are updated from the pre spikes *sent* and the
  post spikes of the step. ``learned_weights()`` are graph units
  (mantissa / ``extra["plasticity"]["weight_scale"]``).

The engine runs pipelined Programs only (Lava's Dense: every delay >= 1
step). An ideal-timing Program is first compensated
(:func:`neuroport.timing.compensate`): its populations' spikes come out
shifted by ``Result.meta["latency"][pop]`` steps, dynamics unchanged. Inputs must be spikes (0/1):
graded values raise :class:`~neuroport.errors.InputError`.

Probed ``v`` and ``u`` are the raw integers Lava holds (``v`` without the
reset offset); ``Result.meta["scale"][pop]`` converts:
``v_float = v_int / scale + v_offset``. ``Result.meta["u_wraps"]``,
``["v_saturations"]`` and ``["int32_wraps"]`` count overflow events per
population (:func:`overflow_meta`; a :class:`~neuroport.errors.QuantizationWarning`
is emitted when any occurred).

Integer widths emulated (each as Lava 0.10's CPU models compute it, see
:mod:`neuroport.models.arithmetic`): Dense / DelayDense sum in int64 and floor
by ``weight_exp`` exactly (numpy's int32 ``sum`` promotes to int64); their
int32 ``a_out`` channel wraps the result at 32 bits, and so does the int32
port sum of the LIF receiving it; in Lava's LIF ``a_in << 6`` and the ``u``
and ``v`` sums wrap at 32 bits, ``u`` then wraps at 24 bits with one
two-where pass and ``v`` saturates at 24 bits. neuroport's own processes
(ALIF, CondLIF) sum their ports in int64 and are not wrapped at 32 bits here
(see :mod:`neuroport.models.arithmetic` for when that differs from Lava).
"""

from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np
import scipy.sparse as sp

from neuroport.backend import Backend, all_probes, check_steps, normalize_inputs
from neuroport.batch import is_batched, replicate, run_vectorised
from neuroport.backends.numpy import Engine, _progress_bar, input_ports
from neuroport.errors import CompileError, InputError, ParameterError, QuantizationWarning, UnsupportedNodeError
from neuroport.fixed_bounds import projection_can_wrap
from neuroport.models import neurons
from neuroport.models.arithmetic import LoihiArithmetic
from neuroport.models import learning_engine as fpl
from neuroport.models.depression import DepressionFixed
from neuroport.models.jit import engine_path
from neuroport.fixed_format import dense_weights as lava_weights  # noqa: F401  (re-exported)
from neuroport.result import Result, SpikeTrain
from neuroport.timing import for_hardware
from neuroport.backends.numpy_fixed_delivery import FixedProjection as _FixedProjection
from neuroport.backends.numpy_fixed_delivery import NetworkDelivery as _NetworkDelivery


_PLASTIC = object()  # marks a plastic projection among a population's outgoing deliveries
_PLASTIC_WRAPPED = object()  # one whose output is wrapped to int32 (see FixedEngine.__init__)


def _int64_ports(pop) -> bool:
    """Whether ``pop`` runs on one of neuroport's Lava processes (ALIF, CondLIF), which add their input
    channels in int64 (Lava's LIF adds them in int32: one wrap of the total, which its step does)."""
    return neurons.supported(pop.model) and not neurons.runner(pop).int32_datapath


def _layers(proj) -> list:
    """``proj`` split as Lava's lowering splits it: synapses repeating a (post, pre) pair go to a further
    layer (the k-th copy, in CSR order, to layer k), each layer its own Dense. ``[proj]`` without repeats."""
    w = proj.weights
    rows = np.repeat(np.arange(w.shape[0]), np.diff(w.indptr))
    key = rows * w.shape[1] + w.indices.astype(np.int64)
    order = np.argsort(key, kind="stable")
    sk = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sk)) + 1]
    if starts.size == sk.size:
        return [proj]
    layer = np.empty_like(key)
    layer[order] = np.arange(sk.size) - np.repeat(starts, np.diff(np.r_[starts, sk.size]))
    delays = np.asarray(proj.delays)
    out = []
    for k in range(int(layer.max()) + 1):
        m = layer == k  # a subset in CSR order stays in CSR order, aligned with its delays
        indptr = np.r_[0, np.cumsum(np.bincount(rows[m], minlength=w.shape[0]))]
        sub = sp.csr_matrix((w.data[m], w.indices[m], indptr), shape=w.shape)
        out.append(dataclasses.replace(proj, weights=sub, delays=delays[m]))
    return out


class FixedEngine(Engine):
    """:class:`~neuroport.backends.numpy.Engine` with Lava's integer arithmetic.

    Its own step loop (:meth:`advance`). Every delay is at least one step, so
    within a step populations are independent: all of them read their input
    row of one ring buffer, step, and only then is anything delivered. The
    populations of one model run as one :class:`~neuroport.models.base.Block`
    (concatenated state, per-neuron constants) through that model's one step
    in Loihi integers (:class:`~neuroport.models.arithmetic.LoihiArithmetic`).
    A population that cannot share a block (no neurons) steps alone. Neurons have global ids (each group's members
    side by side, then inputs, then the rest), so one bool vector holds the
    step's spikes, and every linear and every floored non-plastic,
    non-depressing projection of the network is one merged delivery
    (:class:`_NetworkDelivery`): one gather and one scatter per
    step, skipped when nothing spiked. Weights are what Lava's Dense makes of
    them (:func:`lava_weights`); depressing projections send graded payloads
    (:class:`neuroport.models.depression.DepressionFixed`); plastic ones deliver
    and learn as :mod:`neuroport.models.learning_engine`.
    """

    dtype = np.int64
    mode = "numpy-fixed"

    def __init__(self, program, hardware):
        self.hardware = hardware
        self.arithmetic = LoihiArithmetic(hardware)
        self.program = program
        self.order = list(program.populations)
        pops = program.populations
        self.ports = input_ports(program)
        program.require_pipelined()
        ring_len = {name: 1 for name in self.order}
        for proj in program.projections:
            if proj.nnz:
                ring_len[proj.post] = max(ring_len[proj.post], int(proj.delays.max()) + 1)
            if proj.plasticity is not None:  # delivers into t + 1, never the slot being read
                ring_len[proj.post] = max(ring_len[proj.post], 2)
        L = max(ring_len.values(), default=1)
        # populations stepped together: (kind, two ports) -> members in program order
        self.group_layout = {}
        for name in self.order:
            if pops[name].is_input or not neurons.supported(pops[name].model):
                continue
            key = neurons.block_key(pops[name])
            if key is not None:
                self.group_layout.setdefault(key, []).append(name)
        grouped = [n for names in self.group_layout.values() for n in names]
        self.inputs_order = [n for n in self.order if pops[n].is_input]
        self.alone = [n for n in self.order if not pops[n].is_input and n not in set(grouped)]
        # global neuron ids and ring columns: each group's first port side by side, then its second port
        self.gid, n_all = {}, 0
        for name in grouped + self.inputs_order + self.alone:
            self.gid[name] = n_all
            n_all += pops[name].size
        self.n_all = n_all
        self.columns, width = {}, 0
        for (_, two), names in self.group_layout.items():
            for k in range(1 + two):
                for name in names:
                    self.columns[(name, self.ports[name][k])] = width
                    width += pops[name].size
        for name in self.alone:
            for port in self.ports[name]:
                self.columns[(name, port)] = width
                width += pops[name].size
        # Lava sends each projection's output through its Dense's int32 a_out channel; a population on
        # neuroport's int64 processes (ALIF, CondLIF) adds its ports' channels in int64. A projection into
        # one whose output can leave int32 gets ring columns of its own, wrapped to int32 and added to
        # its target's columns at the step that reads them (_wrap_channels).
        self.wrapped = []  # (private column, target column, size)
        parts = {}  # projection name -> [(projection or one layer of it, ring column)]
        for proj in program.projections:
            if not proj.nnz or proj.plasticity is not None:
                continue
            layers = _layers(proj)  # Lava: one Dense per layer of duplicate synapses, each floors on its own
            target = self.columns[(proj.post, proj.port)]
            if _int64_ports(pops[proj.post]) and projection_can_wrap(proj, hardware):
                cols = []
                for _layer in layers:
                    self.wrapped.append((width, target, proj.weights.shape[0]))
                    cols.append(width)
                    width += proj.weights.shape[0]
            else:
                cols = [target] * len(layers)
            parts[proj.name] = list(zip(layers, cols))
        self.plastic_wrapped = {p.name for p in program.projections
                                if p.nnz and p.plasticity is not None and _int64_ports(pops[p.post])
                                and projection_can_wrap(p, hardware)}
        self.L, self.width = L, width
        self.ring_len = {name: L for name in self.order}
        self.outgoing_fixed = {name: [] for name in self.order}
        merged, floored = [], []
        self.plastic_in = {name: [] for name in self.order}
        self.plastic_projs = []
        # depressing projections join the merged delivery (graded payload per (projection, pre neuron)
        # "slot") when they share one fraction width; otherwise each delivers on its own
        bits = {int(p.extra["depression"].get("bits", -1)) for p in program.projections
                if p.nnz and p.depression is not None and p.plasticity is None}
        self.dep_projs, self.dep_slot_pre, self._n_slots = [], [], 0
        self.dep_merged = len(bits) == 1
        for proj in program.projections:
            if proj.plasticity is not None:
                if proj.depression is not None:
                    raise UnsupportedNodeError(f"{proj.name}: depression and plasticity on one projection are "
                                               "not supported")
                self.plastic_in[proj.post].append(proj)
                self.plastic_projs.append(proj)
                continue
            if not proj.nnz:
                continue
            for layer, col in parts[proj.name]:
                self._add_delivery(layer, col, merged, floored)
        self.n_slots = n_slots = self._n_slots
        self.dep_slot_pre = np.concatenate(self.dep_slot_pre) if n_slots else None
        self.fanout = [_NetworkDelivery(merged, floored, n_all, L, width, n_slots)] if merged or floored else []
        self.plastic = {}
        self.counters = {}
        self.runtime = None
        self.groups = []
        self.t = None

    def _add_delivery(self, proj, col: int, merged: list, floored: list) -> None:
        """Deliver non-plastic ``proj`` (a projection or one layer of one) into ring column ``col``: as part of
        the merged network delivery, or on its own (depressing, when fraction widths differ)."""
        pops, L, width, hardware = self.program.populations, self.L, self.width, self.hardware
        fp = _FixedProjection(proj, pops[proj.pre].size, L, hardware)
        fp.column = col
        if proj.depression is not None:
            spec = proj.extra["depression"]
            if "bits" not in spec:
                raise ParameterError(f"projection {proj.name!r}: depression without integer parameters "
                                     "(quantize the float Program with neuroport.quantize)")
            fp.depression = DepressionFixed.prepare(spec, pops[proj.pre].size)
            if not self.dep_merged:
                self.outgoing_fixed[proj.pre].append(fp)
                return
        local_pre = np.repeat(np.arange(pops[proj.pre].size), np.diff(fp.indptr))
        pre = self.gid[proj.pre] + local_pre
        slot = None
        if fp.depression is not None:
            slot = self._n_slots + local_pre
            self.dep_projs.append(fp)
            self.dep_slot_pre.append(self.gid[proj.pre] + np.arange(pops[proj.pre].size))
            self._n_slots += pops[proj.pre].size
        w = proj.weights
        order = np.lexsort((np.repeat(np.arange(w.shape[0]), np.diff(w.indptr)), w.indices))
        delays = np.asarray(proj.delays, dtype=np.int64)[order]
        if fp.linear:
            merged.append((pre, delays * width + col + fp.post, fp.weights, slot))
        else:
            floored.append((pre, delays, fp.post, fp.weights, col, fp.n_post, fp.exp, slot))

    def prepare_population(self, pop):
        """``(block, state, block)`` of a population stepped alone (a one-member Block)."""
        blk = neurons.block(pop, self.arithmetic)
        self.counters[pop.name] = blk.counters[0]
        return blk, blk.member_states[0], blk

    def report_state(self, pop, state, var):
        return state[var]

    def record_dtype(self, var):
        return np.int64

    def start(self) -> None:
        """Neuron states, ring buffers and depression resources at their initial values; ``t = 0``.

        Grouped populations' state dicts hold views of their group's arrays.
        """
        pops = self.program.populations
        self.counters = {}
        self.ring_all = np.zeros((self.L, self.width), dtype=np.int64)
        self.ring_flat = self.ring_all.reshape(-1)
        self.ring = {(n, port): self.ring_all[:, c:c + pops[n].size] for (n, port), c in self.columns.items()}
        grouped = {n for names in self.group_layout.values() for n in names}
        self.runtime = {name: None if pops[name].is_input or name in grouped else self.prepare_population(pops[name])
                        for name in self.order}
        self.groups = []
        for (_, two), names in self.group_layout.items():
            members = [pops[n] for n in names]
            group = neurons.Block(neurons.runner(members[0]), members, self.arithmetic)
            for k, n in enumerate(names):
                self.runtime[n] = (group, group.member_states[k], group)
                self.counters[n] = group.counters[k]
            first = names[0]
            cols = [self.columns[(first, self.ports[first][k])] for k in range(1 + two)]
            self.groups.append((group, names, self.gid[first], cols))
        # depression resources: one array per fraction width, each projection's x a view of its part
        self.resources, self.recovery, self.release = {}, [], None
        for fps in [self.dep_projs] + [[fp] for fps in self.outgoing_fixed.values() for fp in fps]:
            if not fps:
                continue
            x = np.concatenate([DepressionFixed.init_state(fp.depression) for fp in fps])
            merged = {"bits": fps[0].depression["bits"], "unity": fps[0].depression["unity"],
                      "recover": np.concatenate([fp.depression["recover"] for fp in fps]),
                      "u_se": np.concatenate([fp.depression["u_se"] for fp in fps])}
            lo = 0
            for fp in fps:
                self.resources[fp.name] = x[lo:lo + fp.depression["recover"].size]
                lo += fp.depression["recover"].size
            self.recovery.append((merged, x))
            if fps is self.dep_projs:
                self.release = (merged, x)
        self.plastic = {p.name: fpl.prepare(p, self.hardware) for p in self.plastic_projs}
        self.t = 0

    def advance(self, *, steps: int, inputs: dict, probes: list, progress) -> tuple:
        """Run ``steps`` more steps; ``(spike trains, probed states, wall time)`` as the float engine."""
        if self.t is None:
            self.start()
        pops = self.program.populations
        L = self.L
        recorded = self._make_recorders(probes, self.runtime, steps)
        fired = np.zeros(self.n_all, dtype=bool)
        span = {n: (self.gid[n], self.gid[n] + pops[n].size) for n in self.order}
        # per ring slot, the input views of every group and every other population
        rows = [self.ring_all[k] for k in range(L)]
        group_plan = []
        recording = []  # (destination (steps, n), state dict, variable)
        copy_back = []  # (recorded array, group record, lo, hi) after the loop
        for group, names, lo, cols in self.groups:
            n = group.n
            views = [(r[cols[0]:cols[0] + n], r[cols[1]:cols[1] + n] if len(cols) > 1 else None) for r in rows]
            group_plan.append((self.block_step(group), views, fired[lo:lo + n]))
            probed = [[name for name in names if (name, var) in recorded] for var in group.state]
            if all(2 * sum(pops[name].size for name in p) >= n for p in probed):
                rec = np.zeros((steps,) + group.block.shape, dtype=np.int64)  # every variable: one copy
                recording.append((rec, group.__dict__, "block"))
                copy_back += [(recorded[(name, var)], rec[:, k], span[name][0] - lo, span[name][1] - lo)
                              for k, (var, p) in enumerate(zip(group.state, probed)) for name in p]
                continue
            for var in group.state:
                probed = [name for name in names if (name, var) in recorded]
                if not probed:
                    continue
                if 2 * sum(pops[name].size for name in probed) >= n:
                    rec = np.zeros((steps, n), dtype=np.int64)
                    recording.append((rec, group.state, var))
                    copy_back += [(recorded[(name, var)], rec, span[name][0] - lo, span[name][1] - lo)
                                  for name in probed]
                else:
                    recording += [(recorded[(name, var)], self.runtime[name][1], var) for name in probed]
        alone_plan = []
        for name in self.alone:
            model, state, consts = self.runtime[name]
            cols = [self.columns[(name, port)] for port in self.ports[name]]
            size = pops[name].size
            views = [[(port, r[c:c + size]) for port, c in zip(self.ports[name], cols)] for r in rows]
            alone_plan.append((self.block_step(model), views, len(cols) == 1, fired[slice(*span[name])], model))
            recording += [(arr, state, var) for (pn, var), arr in recorded.items() if pn == name]
        pre_outs = []  # populations with depressing or plastic projections: per-population spike indices
        for name in self.order:
            outs = [(fp, self.ring_all[:, fp.column:fp.column + fp.n_post], self.resources[fp.name])
                    for fp in self.outgoing_fixed[name]]
            outs += [(self.plastic[p.name], self.ring[(p.post, p.port)],
                      _PLASTIC_WRAPPED if p.name in self.plastic_wrapped else _PLASTIC)
                     for p in self.plastic_projs if p.pre == name]
            if outs:
                pre_outs.append((np.array(span[name]), outs))
        learning = [(self.plastic[p.name], fired[slice(*span[p.pre])], fired[slice(*span[p.post])])
                    for p in self.plastic_projs]
        fanout = self.fanout
        ring_flat = self.ring_flat
        payload = None
        if self.release is not None:
            payload = np.ones(self.n_slots + 1, dtype=np.int64)
            dep_consts, dep_x = self.release
            slot_pre = self.dep_slot_pre
        log_t, log_idx = [], []
        bar = _progress_bar(steps, self.program, progress, self.mode)
        t0 = time.perf_counter()
        if self.inputs_order:
            in_lo = self.gid[self.inputs_order[0]]
            in_hi = in_lo + sum(pops[n].size for n in self.inputs_order)
            arrays = [np.asarray(inputs[n])[:steps] for n in self.inputs_order]
            in_all = arrays[0] != 0 if len(arrays) == 1 else np.concatenate(arrays, axis=1) != 0
            in_fired = fired[in_lo:in_hi]
        else:
            in_all = None
        word = self.arithmetic.word
        wrap_views = [[(r[src:src + n], r[dst:dst + n]) for src, dst, n in self.wrapped] for r in rows]
        for local in range(steps):
            t = self.t
            slot = t % L
            for c, x in self.recovery:
                DepressionFixed.recover(x, c)
            for own, target in wrap_views[slot]:  # Lava's int32 a_out of each such projection (layer)
                target += word(own)
            for step, views, out in group_plan:
                a_exc, a_inh = views[slot]
                step(a_exc, a_inh, out)
            for step, views, one_port, out, blk in alone_plan:
                bufs = [buf.copy() for _, buf in views[slot]]
                step(bufs[0], None if one_port else bufs[1], out)
                if not blk.any["spiking"]:
                    out[...] = False
            rows[slot].fill(0)
            if in_all is not None:
                in_fired[...] = in_all[local]
            for dst, src, var in recording:
                dst[local] = src[var]
            idx = fired.nonzero()[0]
            if idx.size:
                log_t.append(local)
                log_idx.append(idx)
                if payload is not None:
                    active = fired[slot_pre].nonzero()[0]
                    if active.size:
                        payload[active] = DepressionFixed.release(dep_x, active, dep_consts)
                for f in fanout:
                    f.deliver(ring_flat, t, idx, payload)
                for bounds, outs in pre_outs:
                    a, b = idx.searchsorted(bounds)
                    if a == b:
                        continue
                    loc = idx[a:b] - bounds[0]
                    for fp, ring, x in outs:
                        if x is _PLASTIC:
                            ring[(t + 1) % L] += fpl.deliver(fp, loc)
                        elif x is _PLASTIC_WRAPPED:  # the only output of this projection arriving at t + 1
                            ring[(t + 1) % L] += word(fpl.deliver(fp, loc))
                        else:
                            fp.deliver(ring, t, loc, DepressionFixed.release(x, loc, fp.depression))
            for st, s_pre, s_post in learning:
                fpl.learn(st, s_pre.copy(), s_post.copy())
            self.t += 1
            if bar is not None:
                bar.update(1)
        wall = time.perf_counter() - t0
        self.flush_counters()
        if bar is not None:
            bar.close()
        for name in self.inputs_order:
            if (name, "v") in recorded:
                recorded[(name, "v")][...] = np.asarray(inputs[name])[:steps]
        for arr, rec, lo, hi in copy_back:
            arr[...] = rec[:, lo:hi]
        if log_idx:
            all_idx = np.concatenate(log_idx)
            all_t = np.repeat(np.asarray(log_t, dtype=np.int64), [i.size for i in log_idx])
        else:
            all_idx = all_t = np.zeros(0, np.int64)
        trains = {}
        for name in self.order:
            lo, hi = span[name]
            m = (all_idx >= lo) & (all_idx < hi)
            trains[name] = SpikeTrain(all_t[m], (all_idx[m] - lo).astype(np.int64), pops[name].size, steps)
        states = {}
        for (pop_name, var), arr in recorded.items():
            states.setdefault(pop_name, {})[var] = arr
        return trains, states, wall

    def block_step(self, block):
        """The callable ``(a_exc, a_inh, fired)`` that steps ``block`` (here: its model's numpy step)."""
        return block.step

    def flush_counters(self) -> None:
        """Bring the overflow counters up to date after :meth:`advance` (the numpy step counts as it goes)."""

    def path_meta(self) -> dict:
        return {"engine_path": "numpy"}

    def learned_weights(self) -> dict:
        """Current weights of every plastic projection, graph units (mantissa / weight_scale), dense."""
        return {name: fpl.weights_graph_units(st) for name, st in self.plastic.items()}

    def set_plastic_weights(self, name: str, weights) -> None:
        """Overwrite a plastic projection's weights given in graph units: mantissas are
        ``round(w * weight_scale)`` clipped to the engine's range ``[w_lo, w_hi]``."""
        st = self.plastic[name]
        spec = st.spec
        mant = np.clip(np.rint(np.asarray(weights, dtype=np.float64) * st.weight_scale),
                       int(spec["w_lo"]), int(spec["w_hi"]))
        st.weights[:] = np.where(st.mask, mant, 0).astype(st.weights.dtype)

    def learned_mantissas(self) -> dict:
        """Current integer weight mantissas (Lava's ``weights``) of every plastic projection."""
        return {name: st.weights.copy() for name, st in self.plastic.items()}


def overflow_meta(counters: dict, stacklevel: int = 3) -> dict:
    """``Result.meta`` overflow entries from per-population counters (:func:`neuroport.models.base.empty_counters`).

    ``u_wraps`` (``u`` left the 24-bit range and wrapped), ``v_saturations``,
    ``int32_wraps`` (Lava LIF's 32-bit datapath wrapped ``a_in << 6`` or a
    sum, :mod:`neuroport.models.arithmetic`), ``saturations`` (other states);
    one :class:`~neuroport.errors.QuantizationWarning` names every population
    with any. Both fixed backends (``numpy-fixed``, ``lava-fixed``) report
    through this function.
    """
    wraps = {n: int(c["u_wraps"]) for n, c in counters.items()}
    sats = {n: int(c["v_saturations"]) for n, c in counters.items()}
    wide = {n: int(c.get("int32_wraps", 0)) for n, c in counters.items()}
    other = {n: dict(c.get("saturations", {})) for n, c in counters.items() if c.get("saturations")}
    over = [n for n in counters if wraps[n] or sats[n] or wide[n] or n in other]
    if over:
        warnings.warn(
            "fixed-point state overflow: " + "; ".join(
                f"{n}: u wrapped {wraps[n]} time(s), v saturated {sats[n]} time(s)"
                + (f", 32-bit datapath wrapped {wide[n]} time(s)" if wide[n] else "")
                + "".join(f", {var} saturated {k} time(s)" for var, k in other.get(n, {}).items())
                for n in over)
            + " (24-bit state; quantize with more headroom_bits, or strict=True to refuse such a network)",
            QuantizationWarning, stacklevel=stacklevel)
    return {"u_wraps": wraps, "v_saturations": sats, "int32_wraps": wide, "saturations": other}


def check_spike_inputs(inputs: dict) -> dict:
    """``{name: bool array}``; raises InputError naming the first value that is not 0 or 1."""
    out = {}
    for name, arr in inputs.items():
        bad = (arr != 0) & (arr != 1)
        if bad.any():
            t, i = np.argwhere(bad)[0]
            raise InputError(
                f"input {name!r}: fixed-point runs take spikes (0 or 1) only; got {arr[t, i]!r} at step {t}, "
                f"neuron {i} (encode graded values as spikes, e.g. neuroport.encoders)"
            )
        out[name] = arr.astype(bool)
    return out


class NumpyFixedBackend(Backend):
    """Bit-accurate Loihi 2 arithmetic (as Lava's CPU models) in vectorised numpy."""

    name = "numpy-fixed"
    level = "fixed"
    engine_class = FixedEngine
    #: batched inputs ``(steps, B, n)`` run in one engine pass (:mod:`neuroport.batch`)
    vectorised_batch = True

    def batched_program(self, program, batch: int):
        """The pipelined ``program`` (:func:`neuroport.timing.for_hardware`) as ``batch`` block-diagonal
        copies (:func:`neuroport.batch.replicate`)."""
        return replicate(for_hardware(program), batch)

    def make_engine(self, program, engine: str | None = None) -> FixedEngine:
        """A fresh :class:`FixedEngine` (``engine="numpy"``) or its compiled twin (``"compiled"``;
        default :func:`neuroport.models.jit.engine_path`) for ``program``; an ideal-timing Program is
        compensated first (:func:`neuroport.timing.compensate`)."""
        program = for_hardware(program)
        if engine_path(engine) == "compiled":
            from neuroport.backends.compiled import CompiledFixedEngine

            return CompiledFixedEngine(program, program.hardware)
        return self.engine_class(program, program.hardware)

    def check_inputs(self, program, inputs, steps: int) -> dict:
        return check_spike_inputs(normalize_inputs(program, inputs, steps))

    def run(self, program, *, steps: int, inputs=None, probes=(), progress=None, seed: int = 0,
            engine: str | None = None) -> Result:
        if program.level != self.level:
            raise CompileError(
                f"backend {self.name!r} runs 'fixed' Programs, got a {program.level!r} one; "
                "quantize it first (neuroport.quantize) or use neuroport.run(...), which converts for you"
            )
        program = for_hardware(program)
        program.require_pipelined()
        steps = check_steps(steps)
        if is_batched(inputs):  # (steps, B, n): one pass over B block-diagonal copies
            return run_vectorised(self, program, steps=steps, inputs=inputs, probes=probes, progress=progress,
                                  seed=seed, engine=engine)
        ins = check_spike_inputs(normalize_inputs(program, inputs, steps))
        prb = all_probes(program, probes)
        engine = self.make_engine(program, engine)
        trains, states, wall = engine.run(steps=steps, inputs=ins, probes=prb, progress=progress)
        scale = {n: float(p.extra["scale"]) for n, p in program.populations.items() if "scale" in p.extra}
        overflow = overflow_meta(engine.counters)
        options = {k: v for k, v in program.options.items() if k != "hardware_spec"}
        return Result(self.name, program.dt, steps, trains, states, engine.learned_weights(), wall,
                      {"level": program.level, **options, "scale": scale, **overflow, **engine.path_meta()})
