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
  steps are those of :mod:`neuroport.models.fixed` (Lava's LIF; neuroport's
  AdaptiveLIF and CondLIF; depression as graded payloads);
* plastic projections learn as Lava's ``LearningDense`` with a
  ``Loihi2FLearningRule`` (:mod:`neuroport.models.fixed_plasticity`): they
  deliver through their current integer weights, and after every population
  stepped, traces and weights are updated from the pre spikes *sent* and the
  post spikes of the step. ``learned_weights()`` are graph units
  (mantissa / ``extra["plasticity"]["weight_scale"]``).

Only ``timing="hardware"`` exists (Lava's Dense is pipelined); the Program's
delays already hold the one step of latency. Inputs must be spikes (0/1):
graded values raise :class:`~neuroport.errors.InputError`.

Probed ``v`` and ``u`` are the raw integers Lava holds (``v`` without the
reset offset); ``Result.meta["scale"][pop]`` converts:
``v_float = v_int / scale + v_offset``. ``Result.meta["u_wraps"]`` and
``["v_saturations"]`` count overflow events per population (a
:class:`~neuroport.errors.QuantizationWarning` is emitted when any occurred).
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from neuroport.backends.base import Backend, Result, SpikeTrain, all_probes, normalize_inputs
from neuroport.backends.numpy import Engine, _check_steps
from neuroport.errors import CompileError, InputError, ParameterError, QuantizationWarning, UnsupportedNodeError


def lava_weights(data, sign_mode, num_weight_bits: int, hw, where: str = "projection") -> np.ndarray:
    """What Lava's Dense does to the integer weights it is given (``lava/utils/weightutils.py``).

    ``astype(int32)``, then ``clip_weights(num_bits=8)`` by sign mode (EXCITATORY
    [0, 255], INHIBITORY [-255, 0], MIXED [-256, 255]), then
    ``truncate_weights``: the low ``8 - num_weight_bits`` bits (one more for
    MIXED) are floored away, on the magnitude for INHIBITORY. A missing
    ``sign_mode`` is Lava's ``determine_sign_mode`` of the weights.

    Raises
    ------
    ParameterError
        Weights that are not integers, an unknown sign mode or
        ``num_weight_bits`` outside ``1..8``.
    """
    from neuroport.quantize import sign_mode_of

    data = np.asarray(data)
    if data.size and data.dtype.kind == "f":
        if not np.all(np.isfinite(data)) or np.any(data != np.round(data)):
            bad = data[~np.isfinite(data) | (data != np.round(data))][0]
            raise ParameterError(f"{where}.weights: a fixed Program needs integer mantissas, got {bad!r}")
    mode = _sign_mode_name(sign_mode, data, where) if sign_mode is not None else sign_mode_of(data)
    nwb = int(num_weight_bits)
    if not 1 <= nwb <= hw.weight_bits:
        raise ParameterError(f"{where}.num_weight_bits: expected 1..{hw.weight_bits}, got {num_weight_bits!r}")
    w = np.asarray(data, dtype=np.int64).astype(np.int32).astype(np.int64)
    inh = mode == "INHIBITORY"
    mixed = mode == "MIXED"
    if inh:
        w = -w
    w = np.clip(w, -(1 << hw.weight_bits) if mixed else 0, (1 << hw.weight_bits) - 1)
    drop = hw.weight_bits - nwb + int(mixed)
    w = (w >> drop) << drop
    return -w if inh else w


def _sign_mode_name(value, data, where) -> str:
    names = {1: "MIXED", 2: "EXCITATORY", 3: "INHIBITORY"}
    aliases = {"EXC": "EXCITATORY", "INH": "INHIBITORY", "MIX": "MIXED"}
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        name = names.get(int(value))
    else:
        name = str(getattr(value, "name", value)).upper()
        name = aliases.get(name, name)
    if name not in names.values():
        raise ParameterError(f"{where}.sign_mode: expected one of EXCITATORY, INHIBITORY, MIXED, got {value!r}")
    return name


class _FixedProjection:
    """One projection, ready for one scatter per step into its target's ring buffer.

    Synapses are sorted by pre neuron (CSC); each knows its post neuron and its
    delay. ``weight_exp >= 0`` is linear: the weights are pre-shifted and
    every synapse adds straight into ring slot ``t + d``. ``weight_exp < 0``
    floors each (delay, post) sum, as Lava's Dense / DelayDense do, so the
    sums are formed per delay first (one ``bincount``) and then shifted.
    """

    def __init__(self, proj, n_pre: int, ring_len: int, hw):
        w = proj.weights
        rows = np.repeat(np.arange(w.shape[0]), np.diff(w.indptr))
        data = lava_weights(w.data, proj.extra.get("sign_mode"), proj.extra.get("num_weight_bits", hw.weight_bits),
                            hw, f"projection {proj.name!r}")
        order = np.lexsort((rows, w.indices))
        pre = w.indices[order].astype(np.int64)
        self.name = proj.name
        self.post_name = proj.post
        self.port = proj.extra.get("port", "input")
        self.n_post = n_post = w.shape[0]
        self.ring_len = ring_len
        self.indptr = np.r_[0, np.cumsum(np.bincount(pre, minlength=n_pre))].astype(np.int64)
        self.post = rows[order].astype(np.int64)
        delays = np.asarray(proj.delays, dtype=np.int64)[order]
        self.exp = exp = int(proj.extra.get("weight_exp", 0))
        self.linear = exp >= 0
        self.weights = data[order] << exp if self.linear else data[order]
        self.udelays = np.unique(delays) if delays.size else np.ones(1, np.int64)
        self.single = self.udelays.size == 1
        self.delay = int(self.udelays[0])
        if self.linear:
            self.key = delays * n_post + self.post          # flat ring offset from slot t
        else:
            self.key = np.searchsorted(self.udelays, delays) * n_post + self.post
        self.depression = None

    def deliver(self, ring: np.ndarray, t: int, idx: np.ndarray, payload) -> None:
        """Add the input of the pre neurons ``idx`` (payload ``r`` or None = spikes) into ``ring``."""
        indptr = self.indptr
        if idx.size == 1:
            i = int(idx[0])
            lo, hi = indptr[i], indptr[i + 1]
            if hi == lo:
                return
            sel = slice(lo, hi)
            w = self.weights[sel]
            if payload is not None:
                w = w * payload[0]
        else:
            starts = indptr[idx]
            lengths = indptr[idx + 1] - starts
            total = int(lengths.sum())
            if total == 0:
                return
            sel = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
            w = self.weights[sel]
            if payload is not None:
                w = w * np.repeat(payload, lengths)
        L, n = self.ring_len, self.n_post
        if self.linear:
            if self.single:
                np.add.at(ring[(t + self.delay) % L], self.post[sel], w)
            else:
                flat = self.key[sel] + (t % L) * n
                flat %= L * n
                np.add.at(ring.reshape(-1), flat, w)
            return
        if self.single:
            acc = np.bincount(self.post[sel], weights=w, minlength=n).astype(np.int64)
            ring[(t + self.delay) % L] += acc >> -self.exp
        else:
            acc = np.bincount(self.key[sel], weights=w, minlength=self.udelays.size * n).astype(np.int64)
            ring[(t + self.udelays) % L] += acc.reshape(self.udelays.size, n) >> -self.exp


class _FanOut:
    """Every linear (``weight_exp >= 0``), non-depressing projection out of one population, merged:
    one gather and one ``np.add.at`` per step into the engine's single flat ring buffer.

    Each synapse holds its pre-shifted weight and its flat ring offset
    ``delay * width + column`` (column = the target population/port's first
    column + post index); at step ``t`` it lands in ``(offset + (t % L) *
    width) % (L * width)``, i.e. row ``(t + delay) % L``.
    """

    def __init__(self, parts, n_pre: int, ring_len: int, width: int):
        pre = np.concatenate([p[0] for p in parts])
        key = np.concatenate([p[1] for p in parts])
        w = np.concatenate([p[2] for p in parts])
        order = np.argsort(pre, kind="stable")
        self.indptr = np.r_[0, np.cumsum(np.bincount(pre, minlength=n_pre))].astype(np.int64)
        self.key = key[order]
        self.weights = w[order]
        self.ring_len, self.width, self.size = ring_len, width, ring_len * width

    def deliver(self, flat_ring: np.ndarray, t: int, idx: np.ndarray) -> None:
        indptr = self.indptr
        if idx.size == 1:
            i = int(idx[0])
            sel = slice(indptr[i], indptr[i + 1])
        else:
            starts = indptr[idx]
            lengths = indptr[idx + 1] - starts
            total = int(lengths.sum())
            if total == 0:
                return
            sel = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        flat = self.key[sel] + (t % self.ring_len) * self.width
        flat[flat >= self.size] -= self.size
        np.add.at(flat_ring, flat, self.weights[sel])


class _FloorFanOut:
    """Every ``weight_exp < 0`` (non-depressing) projection out of one population, merged.

    Lava floors ``sum >> -weight_exp`` per projection, per delay and per post
    neuron, so each synapse belongs to a segment ``(projection, delay, post)``:
    one ``bincount`` forms every segment's sum, each is floor-shifted by its
    projection's exponent, and the non-zero ones are added into the flat ring
    at ``segment offset + (t % L) * width``.
    """

    def __init__(self, parts, n_pre: int, ring_len: int, width: int):
        pre, seg, w, seg_key, seg_shift = [], [], [], [], []
        base = 0
        for p_pre, p_delay, p_post, p_w, col, n_post, exp in parts:
            udel, d_idx = np.unique(p_delay, return_inverse=True)
            pre.append(p_pre)
            w.append(p_w)
            seg.append(base + d_idx.reshape(-1) * n_post + p_post)
            seg_key.append((udel[:, None] * width + col + np.arange(n_post)[None, :]).reshape(-1))
            seg_shift.append(np.full(udel.size * n_post, -exp, dtype=np.int64))
            base += udel.size * n_post
        pre = np.concatenate(pre)
        order = np.argsort(pre, kind="stable")
        self.indptr = np.r_[0, np.cumsum(np.bincount(pre, minlength=n_pre))].astype(np.int64)
        self.seg = np.concatenate(seg)[order]
        self.weights = np.concatenate(w)[order].astype(np.float64)  # bincount sums in float64: exact < 2**53
        self.seg_key = np.concatenate(seg_key)
        self.seg_shift = np.concatenate(seg_shift)
        self.n_seg = base
        self.ring_len, self.width, self.size = ring_len, width, ring_len * width

    def deliver(self, flat_ring: np.ndarray, t: int, idx: np.ndarray) -> None:
        indptr = self.indptr
        if idx.size == 1:
            i = int(idx[0])
            sel = slice(indptr[i], indptr[i + 1])
        else:
            starts = indptr[idx]
            lengths = indptr[idx + 1] - starts
            total = int(lengths.sum())
            if total == 0:
                return
            sel = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        acc = np.bincount(self.seg[sel], weights=self.weights[sel], minlength=self.n_seg).astype(np.int64)
        nz = np.flatnonzero(acc)
        if nz.size == 0:
            return
        flat = self.seg_key[nz] + (t % self.ring_len) * self.width
        flat[flat >= self.size] -= self.size
        np.add.at(flat_ring, flat, acc[nz] >> self.seg_shift[nz])


_PLASTIC = object()  # marks a plastic projection among a population's outgoing deliveries


class FixedEngine(Engine):
    """:class:`~neuroport.backends.numpy.Engine` with Lava's integer arithmetic.

    Its own step loop (:meth:`advance`): per step, per population, one ring
    read per port, the integer neuron step, and for each outgoing projection
    at most one scatter (:class:`_FixedProjection`), skipped when nothing
    spiked. Weights are what Lava's Dense makes of them
    (:func:`lava_weights`); depressing projections send graded payloads
    (:class:`neuroport.models.fixed.DepressionFixed`).
    """

    dtype = np.int64
    mode = "numpy-fixed"

    def __init__(self, program, hardware):
        self.hardware = hardware
        self.program = program
        self.order = list(program.populations)
        pops = program.populations
        self.ports = {name: tuple(pop.extra.get("ports", ("input",))) for name, pop in pops.items()}
        ring_len = {name: 1 for name in self.order}
        for proj in program.projections:
            port = proj.extra.get("port", "input")
            if port not in self.ports[proj.post]:
                raise CompileError(f"projection {proj.name}: port {port!r} not among {proj.post}'s "
                                   f"ports {self.ports[proj.post]}")
            if proj.nnz and int(proj.delays.min()) < 1:
                raise CompileError(f"projection {proj.name!r}: delay 0 cannot run in fixed point (min 1 step)")
            if proj.nnz:
                ring_len[proj.post] = max(ring_len[proj.post], int(proj.delays.max()) + 1)
        # one flat ring buffer: rows = steps mod L, columns = every (population, port) side by side
        L = max(ring_len.values(), default=1)
        self.columns, width = {}, 0
        for name in self.order:
            if not pops[name].is_input:
                for port in self.ports[name]:
                    self.columns[(name, port)] = width
                    width += pops[name].size
        self.L, self.width = L, width
        self.ring_len = {name: L for name in self.order}
        self.outgoing_fixed = {name: [] for name in self.order}
        merged = {name: [] for name in self.order}
        floored = {name: [] for name in self.order}
        self.plastic_in = {name: [] for name in self.order}
        self.plastic_projs = []
        for proj in program.projections:
            if proj.extra.get("plasticity") is not None:
                if proj.extra.get("depression") is not None:
                    raise UnsupportedNodeError(f"{proj.name}: depression and plasticity on one projection are "
                                               "not supported")
                self.plastic_in[proj.post].append(proj)
                self.plastic_projs.append(proj)
                continue
            if not proj.nnz:
                continue
            fp = _FixedProjection(proj, pops[proj.pre].size, L, hardware)
            if proj.extra.get("depression") is not None:
                from neuroport.models.fixed import DepressionFixed

                spec = proj.extra["depression"]
                if "bits" not in spec:
                    raise ParameterError(f"projection {proj.name!r}: depression without integer parameters "
                                         "(quantize the float Program with neuroport.quantize)")
                fp.depression = DepressionFixed.prepare(spec, pops[proj.pre].size)
            if fp.linear and fp.depression is None:
                pre = np.repeat(np.arange(pops[proj.pre].size), np.diff(fp.indptr))
                col = self.columns[(proj.post, fp.port)]
                delays = np.asarray(proj.delays, dtype=np.int64)
                w = proj.weights
                order = np.lexsort((np.repeat(np.arange(w.shape[0]), np.diff(w.indptr)), w.indices))
                merged[proj.pre].append((pre, delays[order] * width + col + fp.post, fp.weights))
            elif fp.depression is None:
                pre = np.repeat(np.arange(pops[proj.pre].size), np.diff(fp.indptr))
                w = proj.weights
                order = np.lexsort((np.repeat(np.arange(w.shape[0]), np.diff(w.indptr)), w.indices))
                floored[proj.pre].append((pre, np.asarray(proj.delays, dtype=np.int64)[order], fp.post, fp.weights,
                                          self.columns[(proj.post, fp.port)], fp.n_post, fp.exp))
            else:
                self.outgoing_fixed[proj.pre].append(fp)
        self.fanout = {name: [f for f in (_FanOut(merged[name], pops[name].size, L, width) if merged[name] else None,
                                          _FloorFanOut(floored[name], pops[name].size, L, width)
                                          if floored[name] else None) if f is not None]
                       for name in self.order}
        self.plastic = {}
        self.counters = {}
        self.runtime = None
        self.t = None

    def prepare_population(self, pop):
        from neuroport.models import fixed

        model = fixed.get(pop.model)
        consts = model.prepare(pop, self.hardware)
        self.counters[pop.name] = consts["counters"]
        return model, model.init_state(pop), consts

    def report_state(self, pop, state, var):
        return state[var]

    def record_dtype(self, var):
        return np.int64

    def start(self) -> None:
        """Neuron states, ring buffers and depression resources at their initial values; ``t = 0``."""
        from neuroport.models.fixed import DepressionFixed

        pops = self.program.populations
        self.counters = {}
        self.ring_all = np.zeros((self.L, self.width), dtype=np.int64)
        self.ring_flat = self.ring_all.reshape(-1)
        self.ring = {(n, port): self.ring_all[:, c:c + pops[n].size] for (n, port), c in self.columns.items()}
        self.runtime = {name: None if pops[name].is_input else self.prepare_population(pops[name])
                        for name in self.order}
        self.resources = {fp.name: DepressionFixed.init_state(fp.depression)
                          for fps in self.outgoing_fixed.values() for fp in fps if fp.depression is not None}
        from neuroport.models import fixed_plasticity

        self.plastic = {p.name: fixed_plasticity.prepare(p, self.hardware) for p in self.plastic_projs}
        self.t = 0

    def advance(self, *, steps: int, inputs: dict, probes: list, progress) -> tuple:
        """Run ``steps`` more steps; ``(spike trains, probed states, wall time)`` as the float engine."""
        from neuroport.backends.numpy import _progress_bar
        from neuroport.models import fixed_plasticity as fpl
        from neuroport.models.fixed import DepressionFixed

        if self.t is None:
            self.start()
        pops = self.program.populations
        spike_steps = {n: [] for n in self.order}
        spike_neurons = {n: [] for n in self.order}
        recorded = self._make_recorders(probes, self.runtime, steps)
        rec_by_pop = {n: [(var, arr) for (pn, var), arr in recorded.items() if pn == n] for n in self.order}
        depressing = [(fp.depression, self.resources[fp.name]) for fps in self.outgoing_fixed.values()
                      for fp in fps if fp.depression is not None]
        plan = []
        for name in self.order:
            pop = pops[name]
            rings = [] if pop.is_input else [(port, self.ring[(name, port)]) for port in self.ports[name]]
            outs = [(fp, self.ring[(fp.post_name, fp.port)],
                     self.resources.get(fp.name) if fp.depression is not None else None)
                    for fp in self.outgoing_fixed[name]]
            rt = self.runtime[name]
            for p in self.plastic_projs:
                if p.pre == name:
                    outs.append((self.plastic[p.name], self.ring[(p.post, p.extra.get("port", "input"))], _PLASTIC))
            plan.append((name, pop.is_input, rings, len(rings) == 1, self.L, rt, outs, self.fanout[name],
                         rec_by_pop[name], spike_steps[name], spike_neurons[name]))
        learning = [(self.plastic[p.name], p.pre, p.post, pops[p.pre].size, pops[p.post].size)
                    for p in self.plastic_projs]
        watch = {n for _, a, b, _, _ in learning for n in (a, b)}
        no_spikes = np.zeros(0, dtype=np.int64)
        ring_flat = self.ring_flat
        bar = _progress_bar(steps, self.program, progress, self.mode)
        t0 = time.perf_counter()
        for local in range(steps):
            t = self.t
            fired = dict.fromkeys(watch, no_spikes)
            for c, x in depressing:
                DepressionFixed.recover(x, c)
            for name, is_input, rings, one_port, L, rt, outs, fan, recs, sst, sne in plan:
                if is_input:
                    out = inputs[name][local]
                    for var, arr in recs:
                        arr[local] = out
                    idx = np.flatnonzero(out)
                else:
                    slot = t % L
                    if one_port:
                        buf = rings[0][1]
                        a_in = buf[slot].copy()
                        buf[slot] = 0
                    else:
                        a_in = {}
                        for port, buf in rings:
                            a_in[port] = buf[slot].copy()
                            buf[slot] = 0
                    model, state, consts = rt
                    spikes = model.step_fixed(state, a_in, consts)
                    for var, arr in recs:
                        arr[local] = state[var]
                    if spikes is None:
                        continue
                    idx = np.flatnonzero(spikes)
                if idx.size == 0:
                    continue
                if name in fired:
                    fired[name] = idx
                sst.append(np.full(idx.size, local, dtype=np.int64))
                sne.append(idx)
                for f in fan:
                    f.deliver(ring_flat, t, idx)
                for fp, ring, x in outs:
                    if x is _PLASTIC:
                        ring[(t + 1) % L] += fpl.deliver(fp, idx)
                    elif x is None:
                        fp.deliver(ring, t, idx, None)
                    else:
                        fp.deliver(ring, t, idx, DepressionFixed.release(x, idx, fp.depression))
            for st, pre, post, n_pre, n_post in learning:
                s_pre = np.zeros(n_pre, dtype=bool)
                s_pre[fired[pre]] = True
                s_post = np.zeros(n_post, dtype=bool)
                s_post[fired[post]] = True
                fpl.learn(st, s_pre, s_post)
            self.t += 1
            if bar is not None:
                bar.update(1)
        wall = time.perf_counter() - t0
        if bar is not None:
            bar.close()
        trains = {}
        for name in self.order:
            st = np.concatenate(spike_steps[name]) if spike_steps[name] else np.zeros(0, np.int64)
            nr = np.concatenate(spike_neurons[name]) if spike_neurons[name] else np.zeros(0, np.int64)
            trains[name] = SpikeTrain(st, nr.astype(np.int64), pops[name].size, steps)
        states = {}
        for (pop_name, var), arr in recorded.items():
            states.setdefault(pop_name, {})[var] = arr
        return trains, states, wall

    def learned_weights(self) -> dict:
        """Current weights of every plastic projection, graph units (mantissa / weight_scale), dense."""
        from neuroport.models.fixed_plasticity import weights_graph_units

        return {name: weights_graph_units(st) for name, st in self.plastic.items()}

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


def hardware_of(program):
    """The :class:`~neuroport.hardware.HardwareSpec` a fixed Program was quantized for."""
    from neuroport import hardware as hw

    spec = program.options.get("hardware_spec")
    if spec is not None:
        return spec
    name = program.options.get("hardware", "loihi2")
    if name != hw.LOIHI2.name:
        raise CompileError(f"fixed Program for hardware {name!r}: its HardwareSpec is not in program.options")
    return hw.LOIHI2


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
    timings = ("hardware",)
    engine_class = FixedEngine

    def make_engine(self, program) -> FixedEngine:
        """A fresh :class:`FixedEngine` for ``program`` (used by :class:`neuroport.Simulator`)."""
        return self.engine_class(program, hardware_of(program))

    def check_inputs(self, program, inputs, steps: int) -> dict:
        return check_spike_inputs(normalize_inputs(program, inputs, steps))

    def run(self, program, *, steps: int, inputs=None, probes=(), progress=None, seed: int = 0) -> Result:
        if program.level != self.level:
            raise CompileError(
                f"backend {self.name!r} runs 'fixed' Programs, got a {program.level!r} one; "
                "quantize it first (neuroport.quantize) or use neuroport.run(...), which converts for you"
            )
        if program.timing not in self.timings:
            raise CompileError(f"backend {self.name!r} supports timing='hardware' only, "
                               f"the Program has timing={program.timing!r}")
        for proj in program.projections:
            if proj.nnz and int(proj.delays.min()) < 1:
                raise CompileError(f"projection {proj.name!r}: delay 0 cannot run in fixed point (min 1 step)")
        steps = _check_steps(steps)
        ins = check_spike_inputs(normalize_inputs(program, inputs, steps))
        prb = all_probes(program, probes)
        engine = self.make_engine(program)
        trains, states, wall = engine.run(steps=steps, inputs=ins, probes=prb, progress=progress)
        scale = {n: float(p.extra["scale"]) for n, p in program.populations.items() if "scale" in p.extra}
        wraps = {n: c["u_wraps"] for n, c in engine.counters.items()}
        sats = {n: c["v_saturations"] for n, c in engine.counters.items()}
        other = {n: dict(c.get("saturations", {})) for n, c in engine.counters.items() if c.get("saturations")}
        over = {n: (wraps[n], sats[n]) for n in wraps if wraps[n] or sats[n] or n in other}
        if over:
            warnings.warn(
                "fixed-point state overflow: " + "; ".join(
                    f"{n}: u wrapped {w} time(s), v saturated {s} time(s)"
                    + "".join(f", {var} saturated {k} time(s)" for var, k in other.get(n, {}).items())
                    for n, (w, s) in over.items())
                + " (24-bit state; quantize with more headroom_bits)", QuantizationWarning, stacklevel=2)
        options = {k: v for k, v in program.options.items() if k != "hardware_spec"}
        return Result(self.name, program.dt, steps, trains, states, engine.learned_weights(), wall,
                      {"level": program.level, **options, "scale": scale, "u_wraps": wraps,
                       "v_saturations": sats, "saturations": other})
