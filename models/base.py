"""What every neuron model shares: the registry, the block of populations one step runs on,
and the spiking half of the step (threshold adaptation, refractoriness, the membrane
update, threshold, reset and spike-triggered increments).

A neuron model is one object (one file each: ``lif.py``, ``adaptive_lif.py``,
``cond_lif.py``) with

``keys``
    the Program model names it runs (``Population.model``);
``state_names``
    its state variables, in the order of :attr:`Block.block`'s rows;
``discretize(pn, opts)``
    continuous NIR parameters -> the float Program's per-neuron parameters
    (the only place its time constants become per-step factors);
``equations(pn, reset)``
    its continuous-time equations (:class:`neuroport.models.equations.Equations`),
    from which the Brian2 lowering is generated (optional: a model without it
    has no Brian2 lowering);
``constants(pop, ar)``
    the per-neuron constants of one population under arithmetic ``ar``
    (:mod:`neuroport.models.arithmetic`), every flag a bool array too;
``init_state(pop, ar)``
    the initial state arrays;
``drive(ar, block, a_exc, a_inh)``
    its own part of the step: the synaptic / conductance states, returning
    the term added to the decayed membrane potential.

:meth:`SpikingModel.step` is the whole step, written once: the ``numpy``
engine, the ``numpy-fixed`` engine and neuroport's Lava process models
(float and ``fixed_pt``) all call it, on one population or on several
populations of one model concatenated (:class:`Block`).
"""

from __future__ import annotations

import numpy as np

from neuroport.errors import UnsupportedNodeError

_MODELS: dict = {}


def register(model):
    """Register ``model`` under each of its ``keys`` (a third party adds a model the same way)."""
    for key in model.keys:
        _MODELS[key] = model
    return model


def get(key: str):
    """The neuron model registered for the Program model name ``key``.

    Raises
    ------
    UnsupportedNodeError
        Naming the known models.
    """
    try:
        return _MODELS[key]
    except KeyError:
        raise UnsupportedNodeError(f"no neuron model {key!r}; known: {', '.join(registered())}") from None


def supported(key: str) -> bool:
    """Whether a neuron model is registered for ``key``."""
    return key in _MODELS


def registered() -> list:
    """The registered Program model names, sorted."""
    return sorted(_MODELS)


def empty_counters() -> dict:
    """One population's overflow counters (``u_wraps``, ``v_saturations``, ``int32_wraps``, ``saturations[var]``)."""
    return {"u_wraps": 0, "v_saturations": 0, "int32_wraps": 0, "saturations": {}}


class Counters:
    """Overflow counters of a block's members, counted per member from a mask over the block."""

    def __init__(self, sizes):
        self.members = [empty_counters() for _ in sizes]
        self.starts = np.cumsum([0] + list(sizes))[:-1]

    def add(self, name: str, mask: np.ndarray) -> None:
        """Add ``mask``'s True entries to each member's counter ``name`` (a state name: ``saturations``)."""
        per = np.add.reduceat(mask, self.starts, dtype=np.int64) if len(self.members) > 1 else [mask.sum()]
        for c, n in zip(self.members, per):
            if n:
                if name in ("u_wraps", "v_saturations", "int32_wraps"):
                    c[name] += int(n)
                else:
                    c["saturations"][name] = c["saturations"].get(name, 0) + int(n)


class Block:
    """Populations of one model stepped as one.

    Parameters
    ----------
    model : SpikingModel
        The model whose step runs (every member's ``runner``).
    populations : list of neuroport.program.Population
        The members; their constants and states are concatenated in this order.
    ar : FloatArithmetic or LoihiArithmetic
        The arithmetic the step runs in.
    states : list of dict, optional
        Each member's initial state (default: ``model.init_state``).
    order : {"C", "F"}
        Memory order of ``block`` ("F": each neuron's states side by side, what the compiled
        kernels stream fastest; the rows stay views).

    Attributes
    ----------
    block : numpy.ndarray
        ``(len(model.state_names), n)``, ``ar.dtype``: one row per state variable.
    state : dict
        Variable name -> its row (a view of ``block``).
    member_states : list of dict
        Each member's variables (those its parameters use, :meth:`SpikingModel.used_states`)
        as views of its slice, so an engine, probes and ``Simulator.set_state`` read and
        change the same numbers.
    counters : list of dict
        Each member's overflow counters (fixed point; stay 0 in float).
    c : dict
        Per-neuron constants, concatenated; ``any[flag]`` / ``all[flag]`` summarise bool ones.
    """

    def __init__(self, model, populations, ar, states=None, order="C"):
        self.model, self.ar = model, ar
        sizes = [p.size for p in populations]
        self.n = int(sum(sizes))
        self.bounds = np.cumsum([0] + sizes)
        states = states if states is not None else [model.init_state(p, ar) for p in populations]
        names = model.state_names
        self.block = np.zeros((len(names), self.n), dtype=ar.dtype, order=order)
        for k, var in enumerate(names):
            self.block[k] = np.concatenate([np.broadcast_to(s[var], (p.size,)) for s, p in zip(states, populations)])
        self.state = {var: self.block[k] for k, var in enumerate(names)}
        self.member_states = [{var: self.state[var][lo:hi] for var in model.used_states(p)}
                              for p, lo, hi in zip(populations, self.bounds[:-1], self.bounds[1:])]
        consts = [model.constants(p, ar) for p in populations]
        self.c, self.any, self.all = {}, {}, {}
        for key in consts[0]:
            arr = np.concatenate([np.broadcast_to(np.asarray(c[key]), (p.size,)) for c, p in zip(consts, populations)])
            self.c[key] = arr
            if arr.dtype == bool:
                self.any[key] = bool(arr.any())
                self.all[key] = bool(arr.all())
        self._counters = Counters(sizes)
        self._onsets = self._bias_onsets(populations)
        self.any["bias_onset"] = bool(self._onsets)
        self.t = 0  # steps taken
        self.wide = None  # int32 wraps of this step's u sum (Lava's LIF datapath), until v is summed
        self.counters = self._counters.members
        self.count = np.zeros(self.n)  # spikes per neuron this step (spikes="multi" members)

    #: the constant inputs a bias onset holds back (:meth:`_bias_onsets`)
    BIAS_KEYS = ("bias", "u_bias")

    def _bias_onsets(self, populations) -> dict:
        """``{step: [(key, slice, values)]}``: the constant biases of members whose
        ``extra["bias_onset"]`` is ``L > 0`` are 0 before step ``L`` (an ideal-timing population that
        runs ``L`` steps late on pipelined hardware, :func:`neuroport.timing.compensate`), restored then."""
        out = {}
        for p, lo, hi in zip(populations, self.bounds[:-1], self.bounds[1:]):
            onset = int(getattr(p, "extra", {}).get("bias_onset", 0) or 0)
            if onset <= 0:
                continue
            for key in self.BIAS_KEYS:
                arr = self.c.get(key)
                if isinstance(arr, np.ndarray) and arr.shape == (self.n,) and np.any(arr[lo:hi] != 0):
                    out.setdefault(onset, []).append((key, slice(lo, hi), arr[lo:hi].copy()))
                    arr[lo:hi] = 0
        return out

    def step(self, a_exc, a_inh=None, fired=None) -> np.ndarray:
        """One step of every member; the boolean spike vector (``fired``, filled in place if given)."""
        if fired is None:
            fired = np.zeros(self.n, dtype=bool)
        if self._onsets and self.t in self._onsets:
            for key, where, values in self._onsets.pop(self.t):
                self.c[key][where] = values
        self.model.step(self.ar, self, a_exc, a_inh, fired)
        self.t += 1
        return fired


class SpikingModel:
    """The step every neuron model runs, in this order (``K``, ``wrap24``, ``sat24`` of
    :mod:`neuroport.models.arithmetic`; float: plain multiply, no wrap, no saturation)::

        1. drive = model.drive(...)          (synaptic currents or conductances; model-specific)
        2. theta = K(theta, theta_decay)                               (adaptive threshold)
        3. active = refractory_left <= 0;  refractory_left[~active] -= 1
        4. where active:  v = sat24(K(v, dv) + drive + bias)
        5. s = v > vth + theta   for neurons active this step (threshold "ge": v >= vth + theta)
           where s (and the model resets):  v = 0   (reset="subtract": v = sat24(v - (vth + theta)))
                     refractory_left = refractory;  each increment: x = sat24(x + x_plus)

    Per-node conventions (:mod:`neuroport.semantics`): a *deferred* reset
    (``subtract_undecayed``, ``zero_hold``) leaves ``v`` unreset in step 5 and
    applies in step 4 of the next step, after the decay and the input
    (``pending = v_prev > vth + theta``; ``v = sat24(v - (vth + theta))``
    or ``v = 0`` there), so the stored ``v`` is the value before the reset, as
    snnTorch stores it. ``spikes="multi"`` sends ``floor(v / vth)`` spikes
    (``Block.count``) and removes that many thresholds (reset ``subtract``) or
    resets to 0.

    Constants every model provides (per neuron): ``v_keep``, ``bias``, ``vth``,
    ``refractory``, ``theta_keep``, ``theta_plus`` and the bool flags
    ``spiking`` (emits spikes), ``resets`` (resets when over threshold, even if
    it does not emit: Lava's LIF), ``subtract``, ``has_theta``, ``has_ref``,
    ``count_high`` (a saturation above the range is counted: it can change the
    outcome).
    """

    keys: tuple = ()
    #: Fixed point: whether the step runs in Lava's int32 LIF datapath (:class:`~neuroport.models.lif.LIFFamily`)
    int32_datapath: bool = False
    #: how reports and errors name the model
    title: str = ""
    state_names: tuple = ()
    def emits_spikes(self, key: str) -> bool:
        """Whether populations of model ``key`` send spikes (else their graded state)."""
        return True

    #: (state, increment constant, flag) added on a spike, then saturated
    increments: tuple = ()
    #: the compiled step (``kernel`` section of the model's file; None: the engines step it in numpy)
    kernel = None

    # -- which optional parts a population uses -------------------------------------------
    @staticmethod
    def uses(pop, part: str) -> bool:
        """Whether ``pop`` uses the optional part ``part`` (same parameter names at both levels):
        ``theta`` (adaptive threshold), ``refractory``, ``w`` (adaptation current), ``g_adapt``
        (adaptation conductance), ``u_inh`` (second synaptic current)."""
        p = pop.params

        def nonzero(*keys):
            return any(np.any(np.asarray(p.get(k, 0)) != 0) for k in keys)

        if part == "theta":
            return nonzero("theta_decay", "theta_plus", "theta_init")
        if part == "refractory":
            return bool(np.any(np.asarray(p.get("refractory", 0)) > 0))
        if part == "w":
            return nonzero("w_decay", "w_plus")
        if part == "g_adapt":
            return nonzero("da", "b_adapt")
        if part == "u_inh":
            return pop.two_port
        raise KeyError(part)

    #: state -> the optional part it belongs to (states not named here always exist)
    optional_states: dict = {"theta": "theta", "refractory_left": "refractory"}

    def used_states(self, pop) -> tuple:
        """The state variables ``pop`` has on every backend (probes may name only these)."""
        return tuple(v for v in self.state_names
                     if v not in self.optional_states or self.uses(pop, self.optional_states[v]))

    # -- the shared constants ----------------------------------------------------------
    def spiking_constants(self, pop, ar, *, resets=None, count_high=None) -> dict:
        p = pop.params
        n = pop.size
        spiking = np.full(n, pop.emits == "spikes")
        refractory = np.broadcast_to(np.asarray(p.get("refractory", 0), dtype=np.int64), (n,))
        theta_plus = ar.value(p, "theta_plus")
        has_theta = self.uses(pop, "theta")
        bias = ar.bias(p, "bias")
        return {
            "v_keep": ar.keep(p, "dv", "dv_offset"), "bias": bias, "has_bias": np.full(n, bool(np.any(bias != 0))),
            "vth": ar.threshold(p) if "vth" in p or "v_threshold" in p else np.full(n, np.inf),
            "refractory": refractory, "theta_keep": ar.keep(p, "theta_decay", default=0), "theta_plus": theta_plus,
            "spiking": spiking, "resets": spiking if resets is None else np.full(n, resets),
            "subtract": np.full(n, pop.subtract),
            "has_theta": np.full(n, has_theta), "has_ref": np.full(n, self.uses(pop, "refractory")),
            "count_high": np.full(n, True) if count_high is None else np.full(n, count_high),
            "deferred": np.full(n, pop.deferred_reset), "undecayed": np.full(n, pop.reset == "subtract_undecayed"),
            "hold": np.full(n, pop.reset == "zero_hold"), "ge": np.full(n, pop.threshold_ge),
            "no_delay": np.full(n, pop.reset == "subtract_no_delay"),
            "multi": np.full(n, pop.multi_spike),
        }

    @staticmethod
    def two_port(pop) -> bool:
        return pop.two_port

    # -- the step ----------------------------------------------------------------------
    def drive(self, ar, b, a_exc, a_inh):  # pragma: no cover - every model defines it
        raise NotImplementedError

    def step(self, ar, b: Block, a_exc, a_inh, fired) -> None:
        """Advance every member of ``b`` one step; ``fired`` (bool, ``(n,)``) receives the spikes."""
        s, c = b.state, b.c
        pending = self.pending_reset(b) if b.any.get("deferred") else None
        b.pending = None if pending is None else pending[0]
        drive = self.drive(ar, b, a_exc, a_inh)
        if b.any["has_theta"]:
            s["theta"][...] = ar.decay(s["theta"], c["theta_keep"])
        active = None
        if b.any["has_ref"]:
            ref = s["refractory_left"]
            active = ref <= 0
            np.subtract(ref, 1, out=ref, where=~active)
        new_v = ar.decay(s["v"], c["v_keep"])
        new_v += drive
        if b.any["has_bias"]:
            new_v += c["bias"]
        if pending is not None:
            mask, threshold = pending
            if b.any["undecayed"] or b.any["no_delay"]:
                np.subtract(new_v, threshold, out=new_v, where=mask & (c["undecayed"] | c["no_delay"]))
            if b.any["hold"]:
                new_v[mask & c["hold"]] = 0
        if ar.fixed:
            if self.int32_datapath:  # Lava's LIF: the v sum wraps at 32 bits before it saturates
                exact = new_v.astype(np.int64)
                new_v = ar.word(exact)
                wide = b.wide
                if new_v is not exact:
                    wide = (new_v != exact) if wide is None else wide | (new_v != exact)
                if wide is not None:
                    b._counters.add("int32_wraps", wide)
                    b.wide = None
            lim = ar.lim
            if new_v.max(initial=0) > lim or new_v.min(initial=0) < -lim:
                over = new_v < -lim
                over |= (new_v > lim) & c["count_high"]
                if active is not None:
                    over &= active
                b._counters.add("v_saturations", over)
                np.clip(new_v, -lim, lim, out=new_v)
        if active is None:
            s["v"][...] = new_v
        else:
            np.copyto(s["v"], new_v, where=active, casting="unsafe")
        self.fire(ar, b, active, fired)

    @staticmethod
    def _over(b: Block, v, threshold, out=None):
        """``v > threshold`` (``v >= threshold`` where the convention says ``ge``)."""
        out = np.greater(v, threshold, out=out)
        if b.any.get("ge"):
            out |= (v == threshold) & b.c["ge"]
        return out

    def pending_reset(self, b: Block):
        """``(mask, threshold)``: members whose deferred reset applies this step (over threshold at the
        end of the last one, the stored ``v`` being the value before the reset)."""
        s, c = b.state, b.c
        threshold = c["vth"] + s["theta"] if b.any["has_theta"] else c["vth"]
        mask = self._over(b, s["v"], threshold) & c["deferred"] & c["resets"]
        if "refractory_left" in s:
            mask &= s["refractory_left"] <= 0
        return mask, np.broadcast_to(threshold, mask.shape)

    def fire(self, ar, b: Block, active, fired) -> None:
        """Step 5: threshold, reset, refractory period, increments."""
        s, c = b.state, b.c
        if not b.any["resets"]:
            fired[...] = False
            return
        v = s["v"]
        threshold = c["vth"] + s["theta"] if b.any["has_theta"] else c["vth"]
        self._over(b, v, threshold, out=fired)
        if active is not None:
            fired &= active
        if not b.all["resets"]:
            fired &= c["resets"]
        if b.any.get("multi") or b.any.get("deferred"):
            self.fire_conventions(ar, b, fired, threshold)
            return
        if not (b.any["subtract"] or "refractory_left" in s or any(b.any[f] for _, _, f in self.increments)):
            np.copyto(v, 0, where=fired)  # reset only: one pass, no index (the LIF family's common case)
            if not b.all["spiking"]:
                fired &= c["spiking"]
            return
        idx = np.flatnonzero(fired)
        if not b.all["spiking"]:
            fired &= c["spiking"]
        if idx.size == 0:
            return
        if not b.any["subtract"]:
            v[idx] = 0
        else:
            v[idx] = np.where(c["subtract"][idx], v[idx] - threshold[idx], 0)
            ar.saturate(v, b._counters, None)
        if "refractory_left" in s:
            s["refractory_left"][idx] = c["refractory"][idx]
        for var, inc, flag in self.increments:
            if b.any[flag]:
                x = s[var]
                x[idx] += c[inc][idx]
                ar.saturate(x, b._counters, var)


    def fire_conventions(self, ar, b: Block, fired, threshold) -> None:
        """Step 5 for blocks with deferred resets or several spikes per step (float: the multi-spike
        count in ``b.count``); refractory periods and increments as in :meth:`fire`."""
        s, c = b.state, b.c
        v = s["v"]
        idx = np.flatnonzero(fired & ~c["deferred"])
        if b.any.get("multi"):
            count = np.zeros(b.n)
            thr = np.broadcast_to(threshold, v.shape)
            multi = fired & c["multi"]
            count[multi] = np.floor(v[multi] / thr[multi])
            count[fired & ~c["multi"]] = 1
            count[multi & (count < 1)] = 1  # "gt"/"ge" said it fires: at least one spike
            b.count = count
        if idx.size:
            sub = c["subtract"][idx]
            k = b.count[idx] if b.any.get("multi") else 1
            v[idx] = np.where(sub, v[idx] - k * np.broadcast_to(threshold, v.shape)[idx], 0)
            ar.saturate(v, b._counters, None)
        if b.any["no_delay"] and getattr(b, "pending", None) is not None:
            thr = np.broadcast_to(threshold, v.shape)
            now = c["no_delay"] & fired & ~b.pending  # a new spike: its threshold now
            back = c["no_delay"] & ~fired & b.pending  # the step's deferred threshold taken back
            v[now] -= thr[now]
            v[back] += thr[back]
            ar.saturate(v, b._counters, None)
        if not b.all["spiking"]:
            fired &= c["spiking"]
        every = np.flatnonzero(fired)
        if every.size and "refractory_left" in s:
            s["refractory_left"][every] = c["refractory"][every]
        for var, inc, flag in self.increments:
            if b.any[flag] and every.size:
                x = s[var]
                x[every] += c[inc][every]
                ar.saturate(x, b._counters, var)


def runner(pop):
    """The model object whose step runs population ``pop`` (a model may hand a population on,
    as the LIF family does for refractory or subtractive-reset populations)."""
    model = get(pop.model)
    return model.runner(pop) if hasattr(model, "runner") else model


def block_key(pop):
    """Populations with equal keys can share one :class:`Block` (None: step alone)."""
    ports = pop.ports
    if pop.size == 0 or not (len(ports) == 1 or ports == ("exc", "inh")):
        return None
    return (type(runner(pop)).__name__, len(ports) == 2)


# -- kernel: steps 2-5 of SpikingModel.step on one neuron (compiled by models/jit.py) ---------------
# A model's compiled step (the ``kernel`` section of its file) loops over the block's neurons: its own
# drive, then :func:`k_spike` on the neuron's scalars, then stores them. Arrays (from :class:`KernelPlan`):
# ``S`` is ``Block.block`` (state rows in ``state_names`` order), ``Cf`` float64 constants (decay
# fractions), ``Ci`` constants in the state's dtype, ``fl`` the block-wide flags (``Block.any`` /
# ``Block.all``), ``inc`` the increments ``(state row, Ci row, flag, counter row)``, ``cnt`` per-neuron
# overflow counts (rows: ``KernelPlan.counters``).
# Speed rule: an inlined helper takes and returns scalars. numba inlines ``inline=True`` helpers in its
# own IR; one that takes arrays and branches leaves an atomic reference-count increment and decrement
# per array per neuron in the loop (measured: COBA's step 35-50 ns per neuron, 4-5 ns without).
# :func:`k_increments` takes arrays but runs only on a spike.
from neuroport.models.arithmetic import k_decay, k_sat  # noqa: E402
from neuroport.models.jit import njit  # noqa: E402

#: Shared constant rows (then each model's ``kernel_floats`` / ``kernel_ints``) and flag rows.
CF_SHARED = ("v_keep", "theta_keep")
CI_SHARED = ("bias", "vth", "refractory", "spiking", "resets", "subtract", "count_high")
FLAGS_SHARED = ("theta", "ref", "bias", "any_resets", "all_resets", "any_subtract", "all_spiking", "reset_only")
CF_V_KEEP, CF_THETA_KEEP = 0, 1
CI_BIAS, CI_VTH, CI_REFRACTORY, CI_SPIKING, CI_RESETS, CI_SUBTRACT, CI_COUNT_HIGH = range(7)
F_THETA, F_REF, F_BIAS, F_ANY_RESETS, F_ALL_RESETS, F_ANY_SUB, F_ALL_SPIKING, F_RESET_ONLY = range(8)
C_U_WRAPS, C_V_SAT = 0, 1


@njit(inline=True)
def k_consts(Cf, Ci, i):
    """Neuron ``i``'s shared constants, the tuple :func:`k_spike` takes (no branch: see the speed rule)."""
    return (Cf[CF_V_KEEP, i], Cf[CF_THETA_KEEP, i], Ci[CI_BIAS, i], Ci[CI_VTH, i], Ci[CI_REFRACTORY, i],
            Ci[CI_SPIKING, i] != 0, Ci[CI_RESETS, i] != 0, Ci[CI_SUBTRACT, i] != 0, Ci[CI_COUNT_HIGH, i] != 0)


@njit(inline=True)
def k_spike(v, th, ref, drive, c, fl, lim, fixed):
    """Steps 2-5 of :meth:`SpikingModel.step` on one neuron's ``v``, ``theta`` and ``refractory_left``
    (models without one pass 0 and drop what comes back); ``c`` from :func:`k_consts`.

    Returns ``(v, theta, refractory_left, spike, increments, v_saturated)``: ``increments`` is True where
    the model's increments are due (:func:`k_increments`), ``v_saturated`` 1 where a saturation of ``v``
    is counted."""
    v_keep, th_keep, bias, vth, refractory, spiking, resets, subtract, count_high = c
    if fl[F_THETA]:
        th = k_decay(th, th_keep, fixed)
    active = True
    if fl[F_REF]:
        active = ref <= 0
        if not active:
            ref = ref - 1
    nv = k_decay(v, v_keep, fixed) + drive
    if fl[F_BIAS]:
        nv = nv + bias
    sat = 0
    if fixed:
        if nv > lim or nv < -lim:
            if active and (nv < -lim or count_high):
                sat = 1
            nv, _ = k_sat(nv, lim, fixed)
    if active:
        v = nv
    f = False
    spk = False
    thr = vth
    if fl[F_ANY_RESETS]:
        if fl[F_THETA]:
            thr = thr + th
        f = v > thr and active
        if not fl[F_ALL_RESETS]:
            f = f and resets
        spk = f if fl[F_ALL_SPIKING] else (f and spiking)
    if f:
        if fl[F_RESET_ONLY] or not fl[F_ANY_SUB] or not subtract:
            v = 0
        else:
            v, _ = k_sat(v - thr, lim, fixed)
        if not fl[F_RESET_ONLY]:
            ref = refractory
    return v, th, ref, spk, f and not fl[F_RESET_ONLY], sat


@njit(inline=True)
def k_increments(S, Ci, inc, i, cnt, lim, fixed):
    """The increments of neuron ``i`` after its spike (saturated, counted)."""
    for k in range(inc.shape[0]):
        if inc[k, 2]:
            row = inc[k, 0]
            x, hit = k_sat(S[row, i] + Ci[inc[k, 1], i], lim, fixed)
            S[row, i] = x
            cnt[inc[k, 3], i] += hit


class KernelPlan:
    """A :class:`Block`'s arrays for its model's compiled step (``model.kernel``).

    The model declares ``kernel_floats`` / ``kernel_ints`` (its constants after
    :data:`CF_SHARED` / :data:`CI_SHARED`), ``kernel_flags`` (``Block.any`` keys
    after :data:`FLAGS_SHARED`) and ``kernel_saturated`` (states its drive
    saturates, counted per neuron after ``u_wraps``, ``v_saturations``).
    Counts are added to the block's counters by :meth:`flush`.
    """

    def __init__(self, b: Block):
        model, ar = b.model, b.ar
        self.block, self.kernel = b, model.kernel
        n = b.n
        names = model.state_names

        def rows(keys, dtype):
            out = np.zeros((max(len(keys), 1), n), dtype=dtype)
            for k, key in enumerate(keys):
                out[k] = np.broadcast_to(np.asarray(b.c[key]), (n,)).astype(dtype)
            return out

        self.Cf = rows(CF_SHARED + tuple(model.kernel_floats), np.float64)
        ints = CI_SHARED + tuple(model.kernel_ints)
        self.Ci = rows(ints, ar.dtype)
        self.counters = ("u_wraps", "v_saturations") + tuple(model.kernel_saturated) + tuple(
            v for v, _, _ in model.increments if v not in model.kernel_saturated)
        s = b.state
        resets_only = not (b.any["subtract"] or "refractory_left" in s or any(b.any[f] for _, _, f in model.increments))
        flags = [b.any["has_theta"], b.any["has_ref"], b.any["has_bias"], b.any["resets"], b.all["resets"],
                 b.any["subtract"], b.all["spiking"], resets_only] + [b.any[f] for f in model.kernel_flags]
        self.fl = tuple(bool(x) for x in flags)  # a tuple: read-only, so the compiler keeps it in registers
        self.inc = np.array([[names.index(v), ints.index(c), int(b.any[f]), self.counters.index(v)]
                             for v, c, f in model.increments], dtype=np.int64).reshape(-1, 4)
        self.cnt = np.zeros((len(self.counters), n), dtype=np.int64)
        self.fixed = bool(ar.fixed)
        self.lim = int(ar.lim) if ar.fixed else 0
        self.m = int(ar.max_uv) if ar.fixed else 0
        self.act = (1 << int(ar.act_shift)) if ar.fixed else 1

    def step(self, a_exc, a_inh, fired) -> None:
        """One step of the block (``a_inh`` None for one-port models); ``fired`` receives the spikes."""
        self.kernel(self.block.block, self.Cf, self.Ci, self.fl, self.inc, a_exc, a_exc if a_inh is None else a_inh,
                    fired, self.cnt, self.lim, self.m, self.act, self.fixed)

    def flush(self) -> None:
        """Add the counted overflows to the block's per-member counters, and zero the counts."""
        if not self.fixed:
            return
        for k, name in enumerate(self.counters):
            if self.cnt[k].any():
                self.block._counters.add(name, self.cnt[k])
        self.cnt[...] = 0


def has_kernel(pop) -> bool:
    """Whether the model that runs ``pop`` has a compiled step."""
    return getattr(runner(pop), "kernel", None) is not None
