"""Lowering of a Program to Lava processes.

Two stages, so that the plan can be inspected (and counted, for
``loihi2 --dry-run``) without Lava:

:func:`plan`  (pure Python)
    checks that Lava's ``LIF`` can express every population, splits each
    population into groups of neurons that share the per-process parameters
    (``du``, ``dv``, ``vth`` are one value per Lava ``LIF``), and cuts each
    projection into blocks, one per post group (the pre side is not cut, see :func:`plan`).
:func:`build` (needs lava-nc)
    creates the processes: one ``RingBuffer`` per input that feeds something,
    one ``LIF`` per group (spanning its population), one ``Dense`` (all delays 1) or ``DelayDense``
    (delays 1..64, given to Lava as ``delay - 1``) per block, and one
    ``Recorder`` (``processes/recorder.py``) that records every group's spikes and
    the probed ``u``/``v``.

Timing: Lava's ``Dense`` is pipelined (a spike sent at ``t`` is received at
``t + 1``), which is the Program's ``delay = 1`` of ``timing="hardware"``.
``DelayDense`` with delay ``k`` delivers at ``t + 1 + k``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neuroport.errors import CompileError, InputError, ParameterError, UnsupportedNodeError

#: Largest Program delay Lava can express: DelayDense takes 0..63 (6 bit), plus Dense's 1.
MAX_DELAY = 64
#: The neuron models Lava's LIF runs (the LIF family of neuroport.models.neurons).
LIF_MODELS = ("lif", "cubalif", "if", "threshold")
#: Non-spiking members of the family: run as a LIF that never reaches its threshold, when
#: nothing reads their output (read-out layers); their ``v`` is recorded.
NON_SPIKING_MODELS = ("li", "cubali", "integrator")


def fixed_ranges(hardware=None) -> dict:
    """``{field: (low, high)}`` of the fixed-point LIF parameters (from the HardwareSpec)."""
    if hardware is None:
        from neuroport.hardware import LOIHI2 as hardware
    return {"du": hardware.decay_range, "dv": hardware.decay_range, "vth": hardware.vth_range,
            "bias_mant": hardware.bias_mant_range, "bias_exp": tuple(hardware.bias_exp_range)}

#: Graded messages (non-binary inputs) use this many bits.
GRADED_MESSAGE_BITS = 24


# --------------------------------------------------------------------------- plan
@dataclass
class Group:
    """Neurons ``index`` of ``population`` that share one Lava LIF (which spans the population)."""

    population: str
    index: np.ndarray
    params: dict  # du, dv, vth (scalars), bias_mant, bias_exp (population-size arrays, 0 outside)
    name: str = ""


@dataclass
class Block:
    """The synapses of one projection between one pre group and one post group."""

    projection: str
    pre: str  # population name (all its groups send into the block)
    post: str  # group name
    weights: np.ndarray  # (post.size, pre.size); rows outside the post group are 0
    delays: np.ndarray  # same shape: Program delays (>= 1; 1 where no synapse)
    kwargs: dict = field(default_factory=dict)  # fixed point: weight_exp, num_weight_bits, sign_mode

    @property
    def kind(self) -> str:
        return "Dense" if np.all(self.delays <= 1) else "DelayDense"


@dataclass
class Plan:
    """What :func:`build` will create."""

    fixed: bool
    groups: dict  # population -> [Group]
    inputs: list  # input populations that feed at least one block
    blocks: list
    neurons: list = field(default_factory=list)  # non-input populations, in Program order

    @property
    def process_counts(self) -> dict:
        counts = {"RingBuffer": len(self.inputs), "LIF": sum(len(self.groups[n]) for n in self.neurons),
                  "Dense": 0, "DelayDense": 0, "Recorder": 1}
        for b in self.blocks:
            counts[b.kind] += 1
        return counts

    @property
    def n_processes(self) -> int:
        return sum(self.process_counts.values())


def check_program(program, *, fixed: bool, mode: str) -> None:
    """Refuse what Lava's LIF / Dense / DelayDense cannot run, naming the object and why."""
    level = "fixed" if fixed else "discrete"
    if program.level != level:
        raise CompileError(f"backend {mode!r} runs {level!r} Programs, got a {program.level!r} one; "
                           "use neuroport.run(...), which converts for you")
    if program.timing != "hardware":
        raise CompileError(
            f"backend {mode!r} supports only timing='hardware' (Lava's Dense delivers a spike one step "
            f"after it is sent); the Program was compiled with timing={program.timing!r}: "
            "recompile with neuroport.compile(graph, dt=..., timing='hardware')")
    for pop in program.populations.values():
        if pop.is_input:
            continue
        where = f"backend {mode!r}: population {pop.name!r} ({pop.model})"
        if pop.model not in LIF_MODELS + NON_SPIKING_MODELS:
            raise UnsupportedNodeError(f"{where}: Lava's LIF runs only "
                                       f"{', '.join(LIF_MODELS + NON_SPIKING_MODELS)} neurons")
        if pop.emits != "spikes":
            feeds = [p.name for p in program.outgoing(pop.name) if p.nnz]
            if feeds:
                raise UnsupportedNodeError(
                    f"{where}: non-spiking (emits {pop.emits!r}) and feeds {', '.join(feeds)}; Lava's LIF "
                    "sends only spikes (graded outputs need a custom process)")
        if np.any(pop.param("refractory", 0) > 0):
            raise UnsupportedNodeError(f"{where}: refractory period {int(np.max(pop.param('refractory', 0)))} "
                                       "steps; Lava's LIFRefractory has no fixed-point model")
        if np.any(pop.param("u_bias", 0) != 0):
            raise UnsupportedNodeError(f"{where}: u_bias (a bias on the synaptic current) has no "
                                       "equivalent in Lava's LIF, whose bias adds to v")
        if pop.extra.get("reset", "zero") != "zero":
            raise UnsupportedNodeError(f"{where}: reset={pop.extra.get('reset')!r}; Lava's LIF resets v to 0")
        if fixed:
            for key, (lo, hi) in fixed_ranges(program.options.get("hardware_spec")).items():
                if key not in pop.params:
                    if key in ("du", "dv", "vth"):
                        raise CompileError(f"{where}: the fixed Program has no {key!r}; params: {sorted(pop.params)}")
                    continue
                val = np.asarray(pop.params[key])
                if np.any(val != np.round(val)) or val.min() < lo or val.max() > hi:
                    raise ParameterError(f"{where}.{key}: needs integers in [{lo}, {hi}], "
                                         f"got [{val.min()}, {val.max()}]")
        elif pop.emits == "spikes":
            vth = pop.param("v_threshold", np.inf)
            if not np.all(np.isfinite(vth)):
                raise UnsupportedNodeError(f"{where}: infinite threshold (never spikes); Lava's LIF needs a finite vth")
    for proj in program.projections:
        if proj.extra.get("plasticity") is not None or proj.extra.get("learning_rule") is not None:
            raise UnsupportedNodeError(f"backend {mode!r}: projection {proj.name!r} is plastic; "
                                       "the Lava backends do not lower learning rules yet")
        if proj.extra.get("depression") is not None:
            raise UnsupportedNodeError(f"backend {mode!r}: projection {proj.name!r} has short-term "
                                       "depression, which Lava's Dense cannot express")
        if proj.extra.get("port", "input") != "input":
            raise UnsupportedNodeError(f"backend {mode!r}: projection {proj.name!r} targets input port "
                                       f"{proj.extra.get('port')!r}; Lava's LIF has one input (a_in)")
        if proj.nnz == 0:
            continue
        lo, hi = int(proj.delays.min()), int(proj.delays.max())
        if lo < 1 or hi > MAX_DELAY:
            raise UnsupportedNodeError(
                f"backend {mode!r}: projection {proj.name!r}: delays must be in [1, {MAX_DELAY}] steps "
                f"(Dense adds 1, DelayDense up to 63), got [{lo}, {hi}]")
        if fixed:
            w = proj.weights.data
            if w.size and (np.any(w != np.round(w)) or np.abs(w).max() >= 2**31):
                raise ParameterError(f"backend {mode!r}: projection {proj.name!r}.weights: needs integer "
                                     f"mantissas, got values in [{w.min()}, {w.max()}]")


def _split_population(pop, fixed: bool) -> list:
    """Groups of neurons sharing (du, dv, vth), in order of first appearance."""
    if fixed:
        keys = np.stack([pop.param("du"), pop.param("dv"), pop.param("vth")], axis=1).astype(np.int64)
        bias_mant = pop.param("bias_mant", 0).astype(np.int64)
        bias_exp = pop.param("bias_exp", 0).astype(np.int64)
    else:
        keys = np.stack([pop.param("du", 1.0), pop.param("dv", 1.0), pop.param("v_threshold", np.inf)],
                        axis=1).astype(np.float64)
        bias_mant = pop.param("bias", 0.0).astype(np.float64)
        bias_exp = np.zeros(pop.size, dtype=np.int64)
    uniq, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    groups = []
    for k in np.argsort(first, kind="stable"):
        idx = np.flatnonzero(inverse == k)
        du, dv, vth = (v.item() for v in uniq[k])
        # every group's LIF spans the whole population; the neurons of other groups get no
        # input and no bias, so they stay at 0 and never spike (vth >= 0 is checked)
        member = np.zeros(pop.size, dtype=bool)
        member[idx] = True
        params = {"du": du, "dv": dv, "vth": vth, "bias_mant": np.where(member, bias_mant, 0),
                  "bias_exp": np.where(member, bias_exp, 0)}
        if len(first) > 1 and vth < 0:
            raise UnsupportedNodeError(f"population {pop.name!r}: its neurons need {len(first)} Lava LIF "
                                       f"processes and one has a negative threshold ({vth})")
        name = pop.name if len(first) == 1 else f"{pop.name}[{len(groups)}]"
        groups.append(Group(pop.name, idx, params, name))
    return groups


def sign_mode_of(value, weights):
    """Lava ``SignMode`` from a Program's ``sign_mode`` (enum, name, int) or from the weights."""
    from lava.utils.weightutils import SignMode, determine_sign_mode

    if value is None:
        return determine_sign_mode(weights) if np.size(weights) else SignMode.EXCITATORY
    if isinstance(value, SignMode):
        return value
    if isinstance(value, (int, np.integer)):
        return SignMode(int(value))
    name = str(getattr(value, "name", value)).upper()
    aliases = {"EXC": "EXCITATORY", "INH": "INHIBITORY", "MIX": "MIXED"}
    try:
        return SignMode[aliases.get(name, name)]
    except KeyError:
        raise ParameterError(f"sign_mode: expected one of {[m.name.lower() for m in SignMode]}, got {value!r}") from None


def plan(program, *, fixed: bool, mode: str) -> Plan:
    """Check ``program`` and decide the processes (see module docstring). Pure Python."""
    check_program(program, fixed=fixed, mode=mode)
    groups = {}
    for pop in program.populations.values():
        if pop.is_input:
            groups[pop.name] = [Group(pop.name, np.arange(pop.size), {}, pop.name)]
        else:
            groups[pop.name] = _split_population(pop, fixed)
    blocks = []
    feeding = set()
    for proj in program.projections:
        if proj.nnz == 0:
            continue
        w = proj.weights
        n_post, n_pre = w.shape
        rows = np.repeat(np.arange(n_post), np.diff(w.indptr))
        cols = w.indices.astype(np.int64)
        data, delays = w.data, np.asarray(proj.delays, dtype=np.int64)
        # duplicate (row, col) entries cannot share one dense matrix: give each copy its own layer
        key = rows * n_pre + cols
        order = np.argsort(key, kind="stable")
        sk = key[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sk)) + 1]
        run_start = np.repeat(starts, np.diff(np.r_[starts, sk.size]))
        layer = np.empty_like(key)
        layer[order] = np.arange(sk.size) - run_start
        kwargs = {}
        if fixed:
            kwargs = {"weight_exp": int(proj.extra.get("weight_exp", 0)),
                      "num_weight_bits": int(proj.extra.get("num_weight_bits", 8)),
                      "sign_mode": sign_mode_of(proj.extra.get("sign_mode"), data)}
        # One block per (post group, layer). The pre side is never cut: every group of the
        # pre population sends into the same Dense (Lava sums the spike vectors, which are
        # disjoint), so the fixed-point weight_exp shift floors the sum over the whole
        # projection, as the chip and numpy-fixed do.
        post_gid = np.zeros(n_post, dtype=np.int64)
        for k, g in enumerate(groups[proj.post]):
            post_gid[g.index] = k
        bkey = np.stack([post_gid[rows], layer], axis=1)
        for go, lay in np.unique(bkey, axis=0):
            m = (bkey[:, 0] == go) & (bkey[:, 1] == lay)
            wm = np.zeros((n_post, n_pre), dtype=np.int64 if fixed else np.float64)
            dm = np.ones((n_post, n_pre), dtype=np.int64)
            wm[rows[m], cols[m]] = data[m]
            dm[rows[m], cols[m]] = delays[m]
            blocks.append(Block(proj.name, proj.pre, groups[proj.post][go].name, wm, dm, dict(kwargs)))
        if program.populations[proj.pre].is_input:
            feeding.add(proj.pre)
    inputs = [n for n in program.inputs if n in feeding]
    neurons = [n for n, p in program.populations.items() if not p.is_input]
    return Plan(fixed, groups, inputs, blocks, neurons)


# --------------------------------------------------------------------------- build
@dataclass
class LavaNetwork:
    """The Lava processes of one run and where the recordings are."""

    plan: Plan
    processes: list
    lifs: dict  # group name -> LIF
    recorder: object
    spike_vars: dict  # group name -> Recorder Var name
    state_vars: dict  # (group name, var) -> Recorder Var name

    @property
    def root(self):
        return self.recorder


def build(plan_: Plan, program, *, steps: int, inputs: dict, probes: list) -> LavaNetwork:
    """Create the Lava processes for ``steps`` steps of ``inputs`` (see :func:`plan`)."""
    from lava.proc.dense.process import DelayDense, Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF

    from neuroport.backends.lava.processes.recorder import Recorder

    fixed = plan_.fixed
    processes = []
    senders = {}  # population name -> [OutPort]
    graded = {}
    for name in plan_.inputs:
        data = np.asarray(inputs[name], dtype=np.float64)
        if fixed:
            bad = (data != 0) & (data != 1)
            if bad.any():  # as numpy-fixed: the quantizer has no scale for graded inputs
                t, i = np.argwhere(bad)[0]
                raise InputError(f"input {name!r}: fixed-point runs take spikes (0 or 1) only; got "
                                 f"{data[t, i]!r} at step {t}, neuron {i}")
            data = data.astype(np.int32)
        graded[name] = not np.all((data == 0) | (data == 1))
        src = RingBuffer(data=np.ascontiguousarray(data.T))
        processes.append(src)
        senders[name] = [src.s_out]
    lifs = {}
    for pop_name in plan_.neurons:
        size = program.populations[pop_name].size
        senders[pop_name] = []
        for g in plan_.groups[pop_name]:
            p = g.params
            if fixed:
                lif = LIF(shape=(size,), du=int(p["du"]), dv=int(p["dv"]), vth=int(p["vth"]),
                          bias_mant=p["bias_mant"].astype(np.int32), bias_exp=p["bias_exp"].astype(np.int32))
            else:
                lif = LIF(shape=(size,), du=float(p["du"]), dv=float(p["dv"]), vth=float(p["vth"]),
                          bias_mant=p["bias_mant"].astype(np.float64))
            processes.append(lif)
            lifs[g.name] = lif
            senders[pop_name].append(lif.s_out)
    for b in plan_.blocks:
        bits = GRADED_MESSAGE_BITS if graded.get(b.pre, False) else 0
        weights = b.weights.astype(np.int32) if fixed else b.weights
        if b.kind == "Dense":
            conn = Dense(weights=weights, num_message_bits=bits, **b.kwargs)
        else:
            conn = DelayDense(weights=weights, delays=(b.delays - 1).astype(int), num_message_bits=bits,
                              **b.kwargs)
        for port in senders[b.pre]:
            port.connect(conn.s_in)
        conn.a_out.connect(lifs[b.post].a_in)
        processes.append(conn)
    ports, variables = [], []
    spike_vars, state_vars = {}, {}
    for gname, lif in lifs.items():
        spike_vars[gname] = f"rec_in_{len(ports)}"
        ports.append(lif.s_out)
    probed = {}
    for pop_name, var in probes:
        if not program.populations[pop_name].is_input:
            probed.setdefault(pop_name, []).append(var)
    for pop_name, groups in plan_.groups.items():
        for var in probed.get(pop_name, ()):
            for g in groups:
                state_vars[(g.name, var)] = f"rec_ref_{len(variables)}"
                variables.append(getattr(lifs[g.name], var))
    recorder = Recorder(ports=ports, variables=variables, num_steps=steps)
    recorder.connect_targets(ports, variables)
    processes.append(recorder)
    return LavaNetwork(plan_, processes, lifs, recorder, spike_vars, state_vars)
