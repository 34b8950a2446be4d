"""Lowering of a NIR graph to Brian2 objects, from its continuous-time parameters.

The Brian2 backend is the independent check of :func:`neuroport.compile`: it
reads ``program.graph`` (time constants in seconds) through
:func:`neuroport.structure.analyse` (so the topology agrees) and never the
Program's discrete coefficients. From the Program it takes only the options
(``dt``, ``scheme``, ``reset``, ``timing``), the population update order and
``Projection.delays`` (whole-step delays after the timing rule: +1 step per
path for ``timing="hardware"``, 1 step on the zero-delay edges that close a
cycle for ``timing="ideal"``), which are topology, not discretisation.

Every population integrates its NIR ODE with Brian2's own integrator
(``euler`` for ``scheme="euler"``, ``exact`` for ``scheme="exact"``); its
summed input ``J`` (``sum_j W_ij x_j``, an input spike being the value 1.0
in its step) is held constant over the step, i.e. a piecewise-constant
current of height ``w`` for one ``dt``. All per-step work happens in the
``groups`` slot, ordered per population in the Program's update order::

    pathways into P (J += w) -> graded input (J += TimedArray) ->
    [CubaLIF: integrate I, then] integrate v -> J = 0 -> v > v_threshold -> reset

See ``docs/brian2.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from neuroport.errors import GraphError, InputError, ParameterError, UnsupportedNodeError
from neuroport.structure import analyse

#: Models that emit spikes (the rest send their ``v`` on, as graded values).
SPIKING = {"lif", "cubalif", "if", "threshold"}

# Per-population ordering slots inside the ``groups`` slot.
_SLOT_IN, _SLOT_EXT, _SLOT_SYN, _SLOT_SYN_CLEAR, _SLOT_V, _SLOT_CLEAR, _SLOT_TH, _SLOT_RESET = range(8)
_BLOCK = 10

# ---------------------------------------------------------------- model table
_MODELS: dict = {}


def register_model(key: str):
    """Decorator: ``fn(pn, ctx) -> ModelSpec`` lowering a population of model ``key``."""

    def deco(fn):
        _MODELS[key] = fn
        return fn

    return deco


@dataclass
class ModelSpec:
    """Brian2 equations of one population (time in s, voltages in graph units)."""

    equations: str
    params: dict  # name -> array (size,) ; names ending in "_s" carry seconds
    threshold: str | None = None
    v_init: np.ndarray | None = None
    v_reset: np.ndarray | None = None
    v_threshold: np.ndarray | None = None
    syn: "ModelSpec | None" = None  # CubaLIF / CubaLI current, integrated first
    no_ode: str | None = None  # code run instead of an ODE (Threshold: v = Jin)
    #: Brian2 method regardless of the scheme (IF: dv/dt does not depend on v, so Euler is exact)
    method: str | None = None


def _param(pn, field_name: str, default=None) -> np.ndarray:
    value = getattr(pn.node, field_name, None)
    if value is None:
        if default is None:
            raise ParameterError(f"{pn.name}.{field_name}: missing")
        value = default
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size == 1 and pn.size != 1:
        arr = np.full(pn.size, arr[0])
    if arr.size != pn.size:
        raise GraphError(f"{pn.name}.{field_name}: expected {pn.size} values, got shape {np.shape(value)}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{pn.name}.{field_name}: must be finite")
    return arr


def _tau(pn, field_name: str) -> np.ndarray:
    tau = _param(pn, field_name)
    if np.any(tau <= 0):
        raise ParameterError(f"{pn.name}.{field_name}: time constants must be > 0 s, got {tau.min()}")
    return tau


_LEAKY_V = "dv/dt = (v_leak - v + r * {inp}) / tau_s : 1\n"
_PARAMS_LEAKY = "tau_s : second (constant)\nv_leak : 1 (constant)\nr : 1 (constant)\n"
_INPUT_VARS = "J : 1\nJb : 1 (constant)\n"  # + "Jin = J + Jb [+ Jg<k>...] : 1", added by lower()
_SPIKE_VARS = "v_threshold : 1 (constant)\nv_reset : 1 (constant)\n"


def _syn_spec(pn) -> ModelSpec:
    eqs = "dI/dt = (w_in * Jin - I) / tau_syn_s : 1\ntau_syn_s : second (constant)\nw_in : 1 (constant)\n"
    return ModelSpec(eqs + _INPUT_VARS, {"tau_syn_s": _tau(pn, "tau_syn"), "w_in": _param(pn, "w_in", 1.0)})


@register_model("lif")
@register_model("li")
def _leaky(pn) -> ModelSpec:
    spiking = pn.model == "lif"
    params = {"tau_s": _tau(pn, "tau"), "v_leak": _param(pn, "v_leak"), "r": _param(pn, "r")}
    eqs = _LEAKY_V.format(inp="Jin") + _PARAMS_LEAKY + _INPUT_VARS
    return _finish(pn, eqs, params, spiking)


@register_model("cubalif")
@register_model("cubali")
def _cuba(pn) -> ModelSpec:
    spiking = pn.model == "cubalif"
    params = {"tau_s": _tau(pn, "tau_mem"), "v_leak": _param(pn, "v_leak"), "r": _param(pn, "r")}
    eqs = _LEAKY_V.format(inp="I") + _PARAMS_LEAKY + "I : 1 (linked)\n"
    spec = _finish(pn, eqs, params, spiking)
    spec.syn = _syn_spec(pn)
    return spec


@register_model("if")
@register_model("integrator")
def _integrate(pn) -> ModelSpec:
    spiking = pn.model == "if"
    eqs = "dv/dt = r * Jin / second : 1\nr : 1 (constant)\n" + _INPUT_VARS
    spec = _finish(pn, eqs, {"r": _param(pn, "r")}, spiking)
    spec.method = "euler"  # the right-hand side is constant over a step: Euler is exact here
    return spec


@register_model("threshold")
def _threshold(pn) -> ModelSpec:
    spec = ModelSpec("v : 1\n" + _INPUT_VARS + _SPIKE_VARS, {}, "v > v_threshold",
                     np.zeros(pn.size), np.zeros(pn.size), _param(pn, "threshold"))
    spec.no_ode = "v = Jin"
    return spec


def _finish(pn, eqs, params, spiking) -> ModelSpec:
    if not spiking:
        return ModelSpec(eqs, params, None, np.zeros(pn.size))
    v_reset = _param(pn, "v_reset", 0.0)
    return ModelSpec(eqs + _SPIKE_VARS, params, "v > v_threshold", v_reset.copy(), v_reset,
                     _param(pn, "v_threshold"))


def supported_models() -> list:
    return sorted(_MODELS)


# ---------------------------------------------------------------- lowering
@dataclass
class Lowered:
    """Brian2 objects of one run, plus what is needed to read the results back."""

    network: object
    spike_monitors: dict = field(default_factory=dict)  # population -> SpikeMonitor
    state_monitors: dict = field(default_factory=dict)  # (population, var) -> (StateMonitor, attr)
    input_values: dict = field(default_factory=dict)  # input population -> (steps, size)
    meta: dict = field(default_factory=dict)


def _path_delays(path, proj, matrix, dt, timing) -> np.ndarray:
    """Whole-step delay per synapse of ``matrix`` (CSR order), from ``proj.delays``."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    cols = matrix.indices
    if proj is not None and proj.weights.nnz:
        w = proj.weights.tocsr()
        lookup = sp.csr_matrix((proj.delays.astype(np.float64) + 1.0, w.indices, w.indptr), shape=w.shape)
        found = np.asarray(lookup[rows, cols]).reshape(-1) - 1.0
        if np.all(found >= 0):
            return found.astype(np.int64)
    # fallback (an entry the Program dropped): the path's own delay + the timing rule
    if path.delay_axis == "scalar":
        per = np.full(rows.size, float(path.delay))
    else:
        vec = np.asarray(path.delay, dtype=np.float64)
        per = vec[rows] if path.delay_axis == "post" else vec[cols]
    steps = np.rint(per / dt).astype(np.int64)
    return steps + (1 if timing == "hardware" else 0)


def lower(b2, program, *, steps: int, inputs: dict, probes: list):
    """Build the Brian2 ``Network`` for ``program.graph`` (call after ``start_scope()``)."""
    if program.graph is None:
        raise GraphError("backend 'brian2' needs program.graph (the NIR graph); this Program has none")
    opts = program.options
    dt, scheme, reset, timing = float(opts["dt"]), opts.get("scheme", "euler"), \
        opts.get("reset", "zero"), opts.get("timing", "hardware")
    method = {"euler": "euler", "exact": "exact"}[scheme]
    structure = analyse(program.graph)
    order = [n for n in program.populations if n in structure.populations]
    missing = set(structure.populations) - set(order)
    if missing:
        raise GraphError(f"Program and graph disagree: populations {sorted(missing)} missing from the Program")
    pos = {name: (-1 if structure.populations[name].model == "input" else i) for i, name in enumerate(order)}
    projections = {p.name: p for p in program.projections}
    _check_probes(structure, probes)

    objects, groups, syn_groups, specs = [], {}, {}, {}
    lowered = Lowered(network=None)
    Jb = {name: np.zeros(pn.size) for name, pn in structure.populations.items()}
    for path in structure.paths:
        if np.any(path.bias):
            Jb[path.post] = Jb[path.post] + path.bias

    # ---- inputs
    spike_inputs = {}
    for name in order:
        pn = structure.populations[name]
        if pn.model != "input":
            continue
        x = inputs[name]
        lowered.input_values[name] = x
        if np.all((x == 0) | (x == 1)):
            t_idx, n_idx = np.nonzero(x)
            gen = b2.SpikeGeneratorGroup(pn.size, n_idx.astype(np.int64), t_idx * dt * b2.second,
                                         when="groups", order=1, name=f"np_in_{len(spike_inputs)}")
            spike_inputs[name] = gen
            groups[name] = gen
            objects.append(gen)

    # ---- neuron populations
    graded_in = {}  # post -> [path index] of graded edges from non-spiking neuron populations
    for k, path in enumerate(structure.paths):
        pre_model = structure.populations[path.pre].model
        if pre_model != "input" and pre_model not in SPIKING:
            graded_in.setdefault(path.post, []).append(k)
    for idx, name in enumerate(order):
        pn = structure.populations[name]
        if pn.model == "input":
            continue
        fn = _MODELS.get(pn.model)
        if fn is None:
            raise UnsupportedNodeError(
                f"node {name!r}: model {pn.model!r} has no Brian2 lowering; supported: {', '.join(supported_models())}")
        spec = fn(pn)
        specs[name] = spec
        base = _BLOCK * (pos[name] + 1)
        extra = graded_in.get(name, [])
        jin = "Jin = J + Jb" + "".join(f" + Jg{k}" for k in extra) + " : 1\n" + "".join(f"Jg{k} : 1\n" for k in extra)
        eqs = spec.equations + (jin if spec.syn is None else "")
        group = b2.NeuronGroup(pn.size, eqs, method=spec.method or method, threshold=spec.threshold,
                               reset=None if spec.threshold is None else _reset_code(reset),
                               namespace={}, name=f"np_pop_{idx}")
        _set_params(b2, group, spec.params)
        if spec.threshold is not None:
            group.v_threshold = spec.v_threshold
            group.v_reset = spec.v_reset
        group.v = spec.v_init
        target = group
        if spec.syn is not None:
            syn = b2.NeuronGroup(pn.size, spec.syn.equations + jin, method=method, namespace={},
                                 name=f"np_syn_{idx}")
            _set_params(b2, syn, spec.syn.params)
            group.I = b2.linked_var(syn, "I")
            _place(syn.state_updater, base + _SLOT_SYN)
            objects.append(syn)
            objects.append(syn.run_regularly("J = 0", when="groups", order=base + _SLOT_SYN_CLEAR,
                                             name=f"np_syn_clear_{idx}"))
            target = syn
        target.Jb = Jb[name]
        if spec.no_ode is not None:
            objects.append(group.run_regularly(spec.no_ode, when="groups", order=base + _SLOT_V,
                                               name=f"np_set_{idx}"))
        else:
            _place(group.state_updater, base + _SLOT_V)
        if spec.syn is None:
            objects.append(group.run_regularly("J = 0", when="groups", order=base + _SLOT_CLEAR,
                                               name=f"np_clear_{idx}"))
        if spec.threshold is not None:
            _place(group.thresholder["spike"], base + _SLOT_TH)
            _place(group.resetter["spike"], base + _SLOT_RESET)
        groups[name] = group
        syn_groups[name] = target if target is not group else None
        objects.append(group)

    # ---- projections
    graded = {}  # post -> (steps, size) contribution of graded inputs
    n_syn = 0
    for k, path in enumerate(structure.paths):
        pre_pn, post_pn = structure.populations[path.pre], structure.populations[path.post]
        if post_pn.model == "input":
            raise GraphError(f"edge into input node {path.post!r} (from {path.pre!r}); inputs take no edges")
        matrix = sp.csr_matrix(path.matrix)
        matrix.sort_indices()
        if matrix.nnz == 0:
            continue
        delays = _path_delays(path, projections.get(path.name), matrix, dt, timing)
        target = syn_groups[path.post] or groups[path.post]
        base = _BLOCK * (pos[path.post] + 1)
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        cols = matrix.indices.astype(np.int64)
        if pre_pn.model == "input" and path.pre not in spike_inputs:
            # graded input: precompute sum_d W_d @ x[t - d] per step (a TimedArray)
            x = inputs[path.pre]
            contrib = graded.setdefault(path.post, np.zeros((steps, post_pn.size)))
            for d in np.unique(delays):
                m = delays == d
                w_d = sp.csr_matrix((matrix.data[m], (rows[m], cols[m])), shape=matrix.shape)
                if d < steps:
                    contrib[d:] += np.asarray(w_d @ x[:steps - d].T).T
            continue
        # zero-delay sources updated later this step are seen one step late by construction
        late = 1 if pos[path.pre] >= pos[path.post] else 0
        eff = delays - late
        if np.any(eff < 0):
            raise GraphError(f"{path.name}: a zero-delay edge closes a cycle; compile with a timing mode "
                             "that gives it a delay")
        if pre_pn.model in SPIKING or pre_pn.model == "input":
            syn = b2.Synapses(groups[path.pre], target, "w : 1 (constant)", on_pre="J_post += w",
                              name=f"np_proj_{k}")
            syn.connect(i=cols, j=rows)
            syn.w = matrix.data
            syn.delay = eff * dt * b2.second
            _place(syn.pre, base + _SLOT_IN)
        else:
            syn = _graded_synapses(b2, groups[path.pre], target, path, cols, rows, matrix.data, eff, base, k,
                                   structure.populations[path.post])
        objects.append(syn)
        n_syn += matrix.nnz
    for idx, name in enumerate(order):
        if name in graded:
            ta = b2.TimedArray(graded[name], dt=dt * b2.second, name=f"np_ext_{idx}")
            target = syn_groups[name] or groups[name]
            objects.append(_ext_runner(b2, target, ta, _BLOCK * (pos[name] + 1) + _SLOT_EXT, idx))

    # ---- monitors
    for name in order:
        pn = structure.populations[name]
        if pn.model != "input" and specs[name].threshold is not None:
            mon = b2.SpikeMonitor(groups[name], name=f"np_spikes_{len(lowered.spike_monitors)}")
            lowered.spike_monitors[name] = mon
            objects.append(mon)
    for pop, var in probes:
        if structure.populations[pop].model == "input":
            continue
        source = syn_groups[pop] if var == "I" else groups[pop]
        mon = b2.StateMonitor(source, var, record=True, when="end", name=f"np_state_{len(lowered.state_monitors)}")
        lowered.state_monitors[(pop, var)] = (mon, var)
        objects.append(mon)
    lowered.network = b2.Network(*objects)
    lowered.meta = {"method": method, "n_synapses": n_syn, "order": order}
    return lowered


def _check_probes(structure, probes) -> None:
    """Refuse unknown probes before any Brian2 object exists."""
    for pop, var in probes:
        pn = structure.populations.get(pop)
        if pn is None:
            raise InputError(f"probe {pop}.{var}: no population {pop!r}")
        if pn.model == "input":
            if var not in ("v", "x", "value"):
                raise InputError(f"probe {pop}.{var}: an input population has only its value")
            continue
        states = ("v", "I") if pn.model in ("cubalif", "cubali") else ("v",)
        if var not in states:
            raise InputError(f"probe {pop}.{var}: backend 'brian2' records {', '.join(states)} for {pn.model} "
                             "(continuous-time states; the discrete 'u' has no Brian2 counterpart)")


def _ext_runner(b2, target, ta, order, idx):
    target.namespace[f"ext_{idx}"] = ta
    return target.run_regularly(f"J += ext_{idx}(t, i)", when="groups", order=order, name=f"np_ext_run_{idx}")


def _graded_synapses(b2, pre_group, target, path, cols, rows, data, eff, base, k, post_pn):
    """Graded (``v``) output of a non-spiking population: a summed variable, delay 0 or 1 only."""
    uniq = np.unique(eff)
    if uniq.size != 1 or int(uniq[0]) not in (0, 1):
        raise UnsupportedNodeError(
            f"{path.name}: backend 'brian2' sends the graded output of {path.pre!r} with a delay of 0 or 1 "
            f"step only, got {sorted(set(int(d) for d in uniq))} (after the timing rule)")
    var = f"Jg{k}"
    syn = b2.Synapses(pre_group, target, f"w : 1 (constant)\n{var}_post = w * v_pre : 1 (summed)",
                      name=f"np_proj_{k}")
    syn.connect(i=cols, j=rows)
    syn.w = data
    updater = syn.summed_updaters[f"{var}_post"]
    # delay 0: read v_pre after its update this step; delay 1: read it before (start of the step)
    _place(updater, base + _SLOT_IN if int(uniq[0]) == 0 else 2)
    return syn


def _reset_code(reset: str) -> str:
    return "v = v_reset" if reset == "zero" else "v -= (v_threshold - v_reset)"


def _place(obj, order: int) -> None:
    obj.when = "groups"
    obj.order = order


def _set_params(b2, group, params: dict) -> None:
    for key, value in params.items():
        setattr(group, key, value * b2.second if key.endswith("_s") else value)
