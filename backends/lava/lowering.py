"""Lowering of a Program to Lava processes.

Two stages, so that the plan can be inspected (and counted, for
``loihi2 --dry-run``) without Lava:

:func:`plan`  (pure Python)
    checks that Lava can express every population, picks its process
    (:func:`process_kind`: Lava's ``LIF``, or neuroport's ``ALIF`` / ``CondLIF``
    for what the LIF cannot run), splits each ``LIF`` population into groups of
    neurons that share the per-process parameters (``du``, ``dv``, ``vth`` are
    one value per Lava ``LIF``; the custom processes take every parameter per
    neuron and are never split), and cuts each projection into blocks, one per
    post group (the pre side is not cut, see :func:`plan`). A projection with
    short-term depression is fed through a ``Depression`` process.
:func:`neuroport.backends.lava.building.build` (needs lava-nc)
    creates the processes: one ``RingBuffer`` per input that feeds something,
    one ``LIF`` per group (spanning its population) or one ``ALIF`` / ``CondLIF``
    per population, one ``Depression`` per (source, depression node), one
    ``Dense`` (all delays 1) or ``DelayDense`` (delays 1..64, given to Lava as
    ``delay - 1``) per block, and one ``Recorder`` (``processes/recorder.py``)
    that records every group's spikes and the probed states. A large, sparse
    block with all delays 1 (a lowered convolution, :mod:`neuroport.conv`)
    becomes Lava's ``Sparse`` instead of ``Dense`` (:data:`SPARSE_MIN_ENTRIES`,
    :data:`SPARSE_MAX_DENSITY`): the same arithmetic (``clip_weights``,
    ``truncate_weights``, the ``weight_exp`` shift of the summed input; see
    ``lava/proc/sparse/models.py``), with memory for the synapses only.

Timing: Lava's ``Dense`` is pipelined (a spike sent at ``t`` is received at
``t + 1``), which is the Program's ``delay = 1`` of ``timing="hardware"``.
``DelayDense`` with delay ``k`` delivers at ``t + 1 + k``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from neuroport.backends.lava import learning
from neuroport.errors import CompileError, ParameterError, UnsupportedNodeError
from neuroport.hardware import LOIHI2
from neuroport.mapping import cpu_only, custom_features
from neuroport.models import neurons

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
        hardware = LOIHI2
    return {"du": hardware.decay_range, "dv": hardware.decay_range, "vth": hardware.vth_range,
            "bias_mant": hardware.bias_mant_range, "bias_exp": tuple(hardware.bias_exp_range)}

#: A block becomes Lava's ``Sparse`` (CSR weights) instead of ``Dense`` when its dense matrix
#: would have at least this many entries and at most SPARSE_MAX_DENSITY of them are synapses.
SPARSE_MIN_ENTRIES = 1 << 16
SPARSE_MAX_DENSITY = 0.25

#: Graded messages (non-binary inputs, depressed spikes) use this many bits.
GRADED_MESSAGE_BITS = 24
#: neuroport's own Lava processes (``processes/<name>/``), CPU only.
CUSTOM_KINDS = ("ALIF", "CondLIF")
#: Model keys neuroport's own processes run (the LIF family goes to ALIF when Lava's LIF cannot run it).
CUSTOM_MODELS = {"alif": "ALIF", "condlif": "CondLIF"}
#: InPort of the neuron process that each Program input port feeds.
PORTS = {"input": "a_in", "exc": "a_in", "inh": "a_inh"}


def process_kind(pop) -> str:
    """``"LIF"`` (Lava's), ``"ALIF"`` or ``"CondLIF"`` (neuroport's) for a non-input population.

    LIF-family populations with features Lava's LIF lacks
    (:func:`neuroport.mapping.custom_features`: refractoriness, subtractive
    reset, ``u_bias``) run on ``ALIF``, whose step reduces to theirs.
    """
    if pop.model in CUSTOM_MODELS:
        return CUSTOM_MODELS[pop.model]
    if pop.model in LIF_MODELS + NON_SPIKING_MODELS and custom_features(pop):
        return "ALIF"
    return "LIF"


# --------------------------------------------------------------------------- plan
@dataclass
class Group:
    """Neurons ``index`` of ``population`` that share one Lava LIF (which spans the population)."""

    population: str
    index: np.ndarray
    params: dict  # LIF: du, dv, vth (scalars), bias_mant, bias_exp (population-size arrays, 0 outside)
    name: str = ""
    kind: str = "LIF"  # or a CUSTOM_KINDS process (one group, all neurons, params built in build())


@dataclass
class Block:
    """The synapses of one projection between one pre group and one post group."""

    projection: str
    pre: str  # population name (all its groups send into the block)
    post: str  # group name
    weights: np.ndarray  # (post.size, pre.size); rows outside the post group are 0 (CSR when sparse)
    delays: np.ndarray  # same shape: Program delays (>= 1; 1 where no synapse); all 1 when sparse
    kwargs: dict = field(default_factory=dict)  # fixed point: weight_exp, num_weight_bits, sign_mode
    port: str = "a_in"  # InPort of the post process (PORTS)
    source: str = ""  # Depression key when the spikes pass through short-term depression
    rows: np.ndarray = None  # post neurons of the block's group
    learning: object = None  # learning.LearningSpec of a plastic projection (a LearningDense)
    sparse: bool = False  # weights (and delays) are scipy CSR matrices: a Lava Sparse

    @property
    def kind(self) -> str:
        if self.learning is not None:
            return "LearningDense"
        if self.sparse:
            return "Sparse"
        return "Dense" if np.all(self.delays <= 1) else "DelayDense"


@dataclass
class Plan:
    """What :func:`build` will create."""

    fixed: bool
    groups: dict  # population -> [Group]
    inputs: list  # input populations that feed at least one block
    blocks: list
    neurons: list = field(default_factory=list)  # non-input populations, in Program order
    depressions: dict = field(default_factory=dict)  # key -> (pre population, Program depression dict)
    cpu_only: dict = field(default_factory=dict)  # neuroport.mapping.cpu_only(program)

    @property
    def process_counts(self) -> dict:
        counts = {"RingBuffer": len(self.inputs), "LIF": 0, "ALIF": 0, "CondLIF": 0,
                  "Depression": len(self.depressions), "Dense": 0, "DelayDense": 0, "Sparse": 0,
                  "LearningDense": 0,
                  "WeightWatch": int(any(b.learning is not None and (b.learning.lo is not None
                                                                     or b.learning.hi is not None)
                                         for b in self.blocks)),
                  "Recorder": 1}
        for n in self.neurons:
            for g in self.groups[n]:
                counts[g.kind] += 1
        for b in self.blocks:
            counts[b.kind] += 1
        return counts

    @property
    def custom_processes(self) -> dict:
        """What runs on neuroport's own (CPU-only) processes: ``{what: why}``."""
        return dict(self.cpu_only)

    @property
    def n_processes(self) -> int:
        return sum(self.process_counts.values())


def check_program(program, *, fixed: bool, mode: str) -> None:
    """Refuse what Lava (LIF, neuroport's processes, Dense, DelayDense) cannot run, naming the object and why."""
    level = "fixed" if fixed else "discrete"
    if program.level != level:
        raise CompileError(f"backend {mode!r} runs {level!r} Programs, got a {program.level!r} one; "
                           "use neuroport.run(...), which converts for you")
    if program.timing != "hardware":
        raise CompileError(
            f"backend {mode!r} supports only timing='hardware' (Lava's Dense delivers a spike one step "
            f"after it is sent); the Program was compiled with timing={program.timing!r}: "
            "recompile with neuroport.compile(graph, dt=..., timing='hardware')")
    known = LIF_MODELS + NON_SPIKING_MODELS + tuple(CUSTOM_MODELS)
    for pop in program.populations.values():
        if pop.is_input:
            continue
        where = f"backend {mode!r}: population {pop.name!r} ({pop.model})"
        if pop.model not in known:
            raise UnsupportedNodeError(f"{where}: the Lava backends run only {', '.join(known)} neurons")
        if pop.multi_spike:
            raise UnsupportedNodeError(
                f"{where}: spikes='multi' (several spikes per step) cannot run on Lava: its LIF and neuroport's "
                "ALIF processes send one binary spike per step (as Loihi 2's neurons do); compile with "
                "semantics={'spikes': 'single'} or run it on numpy")
        if pop.emits != "spikes":
            feeds = [p.name for p in program.outgoing(pop.name) if p.nnz]
            if feeds:
                raise UnsupportedNodeError(
                    f"{where}: non-spiking (emits {pop.emits!r}) and feeds {', '.join(feeds)}; Lava's LIF "
                    "sends only spikes (graded outputs need a custom process)")
        kind = process_kind(pop)
        if kind != "LIF":
            if fixed:
                _check_fixed_custom(pop, kind, where, program.hardware)
            continue
        if fixed:
            for key, (lo, hi) in fixed_ranges(program.hardware).items():
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
        if proj.extra.get("learning_rule") is not None:
            raise UnsupportedNodeError(f"backend {mode!r}: projection {proj.name!r}: 'learning_rule' is not a "
                                       "neuroport plasticity field (Projection.extra['plasticity'] is)")
        if proj.plasticity is not None:
            learning.check_projection(proj, program, fixed=fixed, mode=mode)
        if proj.depression is not None and fixed:
            _check_fixed_depression(proj, mode)
        port = proj.port
        post = program.populations[proj.post]
        ports = post.ports
        if port not in ports or port not in PORTS:
            raise UnsupportedNodeError(f"backend {mode!r}: projection {proj.name!r} targets input port "
                                       f"{port!r} of {proj.post!r}, whose ports are {ports}")
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


def _check_fixed_custom(pop, kind, where, hardware=None) -> None:
    """Fixed Programs: the population's integer model and fields must be there and in range."""
    if not neurons.supported(pop.model):
        raise UnsupportedNodeError(f"{where}: needs neuroport's {kind} process, and the model has no "
                                   "fixed-point step")
    for key in ("dv", "vth"):
        if key not in pop.params:
            raise CompileError(f"{where}: the fixed Program has no {key!r}; params: {sorted(pop.params)}")
    for key, val in pop.params.items():
        val = np.asarray(val)
        if val.size and val.dtype.kind == "f" and np.any(val != np.round(val)):
            raise ParameterError(f"{where}.{key}: needs integers, got values in [{val.min()}, {val.max()}]")
    for key, (lo, hi) in custom_fixed_ranges(hardware).items():
        if key in pop.params:
            val = np.asarray(pop.params[key])
            if val.size and (val.min() < lo or val.max() > hi):
                raise ParameterError(f"{where}.{key}: needs integers in [{lo}, {hi}], got [{val.min()}, {val.max()}]")
    if kind == "CondLIF":
        g = np.asarray(pop.param("g_shift", 0))
        if g.size and np.any(g != g[0]):
            raise ParameterError(f"{where}.g_shift: one value per population, got {sorted(set(g.tolist()))}")


def custom_fixed_ranges(hardware=None) -> dict:
    """``{field: (low, high)}`` of the fixed-point fields of ALIF and CondLIF (from the HardwareSpec)."""
    hw = hardware_or_default(hardware)
    out = {k: hw.decay_range for k in ("du", "du_inh", "dv", "theta_decay", "w_decay", "de", "di", "da")}
    out.update({"vth": hw.vth_range, "bias_mant": hw.bias_mant_range, "u_bias_mant": hw.bias_mant_range,
                "bias_exp": tuple(hw.bias_exp_range), "u_bias_exp": tuple(hw.bias_exp_range),
                "refractory": hw.refractory_range, "g_shift": (0, hw.cond_frac_bits_max)})
    out.update({k: hw.state_range for k in ("theta_plus", "w_plus", "v_init", "theta_init", "e_exc", "e_inh",
                                             "e_adapt", "b_adapt", "g_exc_init", "g_inh_init")})
    return out


def _check_fixed_depression(proj, mode) -> None:
    dep = proj.extra["depression"]
    for key in ("recover", "u_se"):
        val = np.asarray(dep.get(key, np.nan))
        if val.dtype.kind == "f" and not np.all(val == np.round(val)):
            raise ParameterError(f"backend {mode!r}: projection {proj.name!r}: depression.{key} must be the "
                                 "fixed Program's integers (quantize the Program first)")


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


def plan(program, *, fixed: bool, mode: str, strict: bool = False) -> Plan:
    """Check ``program`` and decide the processes (see module docstring). Pure Python.

    Plastic projections become one ``LearningDense`` per post group
    (:mod:`neuroport.backends.lava.learning`); rounding a float rule's
    coefficient warns (``QuantizationWarning``), or raises when ``strict``.
    """
    check_program(program, fixed=fixed, mode=mode)
    groups = {}
    for pop in program.populations.values():
        kind = "input" if pop.is_input else process_kind(pop)
        if kind == "LIF":
            groups[pop.name] = _split_population(pop, fixed)
        else:
            groups[pop.name] = [Group(pop.name, np.arange(pop.size), {}, pop.name, kind)]
    blocks = []
    feeding = set()
    depressions = {}
    for proj in program.projections:
        if proj.nnz == 0:
            continue
        source = _depression_key(depressions, proj)
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
            group = groups[proj.post][go]
            spec = _learning(proj, group.index, fixed=fixed, mode=mode, strict=strict)
            dtype = np.int64 if fixed else np.float64
            if (spec is None and n_post * n_pre >= SPARSE_MIN_ENTRIES
                    and np.count_nonzero(m) <= SPARSE_MAX_DENSITY * n_post * n_pre and np.all(delays[m] <= 1)):
                wm = sp.csr_matrix((data[m].astype(dtype), (rows[m], cols[m])), shape=(n_post, n_pre))
                dm = sp.csr_matrix((np.ones(np.count_nonzero(m), dtype=np.int64), (rows[m], cols[m])),
                                   shape=(n_post, n_pre))
                blocks.append(Block(proj.name, proj.pre, group.name, wm, dm, dict(kwargs), PORTS[proj.port],
                                    source, group.index, None, sparse=True))
                continue
            wm = np.zeros((n_post, n_pre), dtype=dtype)
            dm = np.ones((n_post, n_pre), dtype=np.int64)
            wm[rows[m], cols[m]] = data[m]
            dm[rows[m], cols[m]] = delays[m]
            blocks.append(Block(proj.name, proj.pre, group.name, wm, dm, dict(kwargs),
                                PORTS[proj.port], source, group.index, spec))
        if program.populations[proj.pre].is_input:
            feeding.add(proj.pre)
    inputs = [n for n in program.inputs if n in feeding]
    neuron_pops = [n for n, p in program.populations.items() if not p.is_input]
    return Plan(fixed, groups, inputs, blocks, neuron_pops, depressions, cpu_only(program))


def _learning(proj, rows, *, fixed: bool, mode: str, strict: bool):
    if proj.extra.get("plasticity") is None:
        return None
    if fixed:
        return learning.fixed_rule(proj, rows, mode=mode)
    return learning.float_rule(proj, rows, strict=strict, mode=mode)


def _depression_key(depressions: dict, proj) -> str:
    """Key of the Depression process ``proj``'s spikes pass through ("" if none).

    The two halves of a projection into a two-port neuron (``name:exc``,
    ``name:inh``) carry the same depression node and the same spikes, so their
    resources evolve identically: they share one process.
    """
    dep = proj.extra.get("depression")
    if dep is None:
        return ""
    base = f"{proj.pre}~{dep.get('node', proj.name)}"
    key, k = base, 1
    while key in depressions:
        pre, other = depressions[key]
        if pre == proj.pre and all(np.array_equal(np.asarray(other.get(f)), np.asarray(dep.get(f)))
                                   for f in set(other) | set(dep) if f != "node"):
            return key
        k += 1
        key = f"{base}#{k}"
    depressions[key] = (proj.pre, dep)
    return key


def state_names(pop, *, fixed: bool) -> tuple:
    """States a probe may name for ``pop`` on the Lava backends (those the numpy engines hold)."""
    if process_kind(pop) == "LIF":
        return ("u", "v")
    return neurons.state_names(pop)


def hardware_or_default(hardware):
    """``hardware``, or :data:`~neuroport.hardware.LOIHI2` when None."""
    if hardware is None:
        return LOIHI2
    return hardware
