"""Lowering of a NIR graph to Brian2 objects, from its continuous-time parameters.

The Brian2 backend is the independent check of :func:`neuroport.compile`: it
reads ``program.graph`` (time constants in seconds) through
:func:`neuroport.structure.analyse` (so the topology agrees) and never the
Program's discrete coefficients. From the Program it takes only the options
(``dt``, ``scheme``, ``reset``, ``timing``), the population update order and
``Projection.delays`` (whole-step delays after the timing rule: +1 step per
path for ``timing="hardware"``, 1 step on the zero-delay edges that close a
cycle for ``timing="ideal"``), which are topology, not discretisation.

Every population integrates its ODEs (its neuron model's ``equations``, looked
up by :mod:`.lowering_models`) with Brian2's
own integrator (``euler`` for ``scheme="euler"``, ``exact`` for
``scheme="exact"``); its summed input ``J`` (``sum_j W_ij x_j``, an input
spike being the value 1.0 in its step) is held constant over the step, i.e. a
piecewise-constant current of height ``w`` for one ``dt``; conductances jump
by ``|w|`` instead. All per-step work happens in the ``groups`` slot, ordered
per population in the Program's update order::

    pathways into P (J += w) -> graded input (J += TimedArray) ->
    [integrate the first group (I, g, adaptation), conductance jumps] ->
    integrate v -> J = 0 -> threshold -> reset

and after every population, the learning of plastic projections
(:mod:`.lowering_synapses`). See ``docs/brian2.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from neuroport.backends.brian2 import lowering_synapses as synapses
from neuroport.backends.brian2.lowering_models import build_spec
from neuroport.errors import GraphError, InputError, UnsupportedNodeError
from neuroport.models import neurons
from neuroport.structure import analyse

#: Models that emit spikes (the rest send their ``v`` on, as graded values).

# Per-population ordering slots inside the ``groups`` slot.
(_SLOT_IN, _SLOT_EXT, _SLOT_SYN, _SLOT_SYN_CLEAR, _SLOT_JUMP, _SLOT_V, _SLOT_CLEAR, _SLOT_TH,
 _SLOT_RESET) = range(9)
_BLOCK = 10


@dataclass
class Lowered:
    """Brian2 objects of one run, plus what is needed to read the results back."""

    network: object
    spike_monitors: dict = field(default_factory=dict)  # population -> SpikeMonitor
    state_monitors: dict = field(default_factory=dict)  # (population, var) -> (StateMonitor, attr)
    input_values: dict = field(default_factory=dict)  # input population -> (steps, size)
    plastic: dict = field(default_factory=dict)  # projection name -> (Synapses, (post, pre))
    meta: dict = field(default_factory=dict)

    def weights(self) -> dict:
        """Final weights of the plastic projections: dense ``(post, pre)`` arrays in graph units."""
        out = {}
        for name, (syn, shape) in self.plastic.items():
            w = np.zeros(shape)
            w[np.asarray(syn.j[:]), np.asarray(syn.i[:])] = np.asarray(syn.w[:])
            out[name] = w
        return out


def _spiking(model: str) -> bool:
    """Whether a population of ``model`` sends spikes (its model says; inputs are not neurons)."""
    return model != "input" and neurons.supported(model) and neurons.get(model).emits_spikes(model)


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


def _port_matrices(path, spec):
    """``[(port, brian2 var, kind, csr matrix >= 0)]``: two-port models split weights by sign."""
    if path.plasticity is not None:
        node = path.plasticity[1]
        rows, cols = np.nonzero(node.connectivity)
        matrix = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=node.weight.shape)
        matrix.data = np.asarray(node.weight[rows, cols], dtype=np.float64)  # explicit zeros kept
    else:
        matrix = sp.csr_matrix(path.matrix)
    matrix.sort_indices()
    if tuple(spec.ports) == ("input",):
        var, kind = spec.ports["input"]
        return [("input", var, kind, matrix)]
    if path.plasticity is not None:
        raise UnsupportedNodeError(f"{path.name}: plastic projections into two-port neurons ({path.post}) "
                                   "are not supported")
    coo = matrix.tocoo()
    out = []
    for port, mask, sign in (("exc", coo.data >= 0, 1.0), ("inh", coo.data < 0, -1.0)):
        if mask.any():
            sub = sp.csr_matrix((sign * coo.data[mask], (coo.row[mask], coo.col[mask])), shape=matrix.shape)
            sub.sort_indices()
            out.append((port, *spec.ports[port], sub))
    return out


#: Models whose input convention ``jump`` (the weighted input added to ``v`` as it is, no ``dt`` factor) has
#: a continuous-time form: ``IF``'s ``dv/dt = r I`` driven by a Dirac current ``I = sum_k w x_k delta(t - t_k)``
#: steps ``v`` by ``r w`` per arriving spike, whatever the integrator (no leak), and a constant bias ``b`` under
#: the same convention adds ``r b`` per step, i.e. the current ``b / dt``.
_JUMP_MODELS = ("if",)


def _jump_input(pop) -> bool:
    """Whether the population takes its input by the ``jump`` convention (and Brian2 can run it)."""
    return pop.extra.get("input", "euler") == "jump" and pop.model in _JUMP_MODELS


#: snnTorch's deferred resets (:mod:`neuroport.semantics`), run as discrete-time rules next to the
#: continuous-time equations: a per-neuron flag ``pending`` and one statement per step (slot, code).
#: ``subtract_undecayed``: the spike sets ``pending``; the next step subtracts the threshold after the
#: decay and input (``v[t] = beta v[t-1] + x[t] - s[t-1] v_th``); ``zero_hold``: the next step's
#: integrated ``v`` is set to ``v_reset`` (the next input never reaches it); ``subtract_no_delay``:
#: ``pending = v > v_th`` on the stored ``v`` before the step, the spike test is
#: ``v - pending v_th > v_th`` and a spike subtracts one threshold (so the stored value is
#: ``beta v[t-1] + x[t] - s[t] v_th``, as numpy's subtract-then-take-back computes it).
_DEFERRED = ("subtract_undecayed", "zero_hold", "subtract_no_delay")


def _deferred_rule(pop, spec):
    """``(threshold, reset_code, [(slot, code)])`` of population ``pop``'s deferred reset (its
    ``spec``: the model's Brian2 equations), refused where the rule would meet a refractory period or
    an adaptive threshold (the numpy step orders those in ways with no Brian2 slot)."""
    if spec.refractory_s is not None or "theta" in spec.threshold:
        raise UnsupportedNodeError(
            f"population {pop.name!r}: reset {pop.reset!r} together with a refractory period or an adaptive "
            "threshold is not supported by backend 'brian2'; run it on numpy")
    amount = f"({spec.subtract})"
    op = ">=" if pop.threshold_ge else ">"
    if pop.reset == "subtract_no_delay":
        return (f"v - pending * {amount} > v_threshold", f"v -= {amount}\n" + spec.reset_extra,
                [(_SLOT_IN, f"pending = int(v {op} v_threshold)")])
    after = (f"v -= pending * {amount}" if pop.reset == "subtract_undecayed"
             else "v = pending * v_reset + (1 - pending) * v")
    return spec.threshold, "pending = 1\n" + spec.reset_extra, [(_SLOT_CLEAR, after + "\npending = 0")]


def _node_reset(pop, graph) -> str:
    """The population's reset (``zero``/``subtract`` or a deferred variant, per node); conventions that
    only exist in discrete time with no Brian2 form (:mod:`neuroport.semantics`) are refused with the
    reason."""
    conv = [c for c in pop.conventions if c != "threshold '>='" and not
            (pop.reset in _DEFERRED and c == f"reset={pop.reset!r}")]
    if pop.extra.get("input", "euler") != "euler" and not _jump_input(pop):
        conv.append(f"input convention {pop.extra['input']!r}")
    if conv:
        raise UnsupportedNodeError(
            f"population {pop.name!r}: {', '.join(conv)} is a discrete-time convention of the exporter "
            "(neuroport.semantics) with no continuous-time equation; backend 'brian2' integrates the "
            "graph's NIR equations, so it runs reset 'zero' / 'subtract' (and snnTorch's deferred resets "
            f"{', '.join(_DEFERRED)}), threshold '>' / '>=' and input 'jump' into IF nodes only; run it on "
            "numpy (or compile with those conventions)")
    return pop.reset


def _comparison(threshold, pop):
    """The threshold condition with ``>=`` where the node's convention says so."""
    if threshold is None or not pop.threshold_ge:
        return threshold
    return threshold.replace(">", ">=", 1)


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
    resets = {name: _node_reset(program.populations[name], program.graph) for name in order
              if structure.populations[name].model != "input"}
    specs = {name: build_spec(structure.populations[name], reset=resets[name], dt=dt)
             for name in order if structure.populations[name].model != "input"}
    _check_probes(structure, specs, probes)

    objects, groups, syn_groups = [], {}, {}
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
        if pre_model != "input" and not _spiking(pre_model):
            graded_in.setdefault(path.post, []).append(k)
    for idx, name in enumerate(order):
        pn = structure.populations[name]
        if pn.model == "input":
            continue
        spec = specs[name]
        base = _BLOCK * (pos[name] + 1)
        extra = graded_in.get(name, [])
        in_syn = spec.syn is not None and spec.input_group == "syn"
        holds_j = "J" in [var for var, _ in spec.ports.values()]
        if extra and not holds_j:
            raise UnsupportedNodeError(f"node {name!r} ({pn.model}): graded input from a non-spiking population "
                                       "is not supported by backend 'brian2'")
        jin = ("Jin = J + Jb" + "".join(f" + Jg{k}" for k in extra) + " : 1\n"
               + "".join(f"Jg{k} : 1\n" for k in extra)) if holds_j else ""
        ref = spec.refractory_s
        ref_eq = "ref_s : second (constant)\n" if ref is not None else ""
        threshold = spec.threshold
        reset_code = None if threshold is None else spec.reset_code(resets[name])
        rules, pending_eq = [], ""
        if threshold is not None and resets[name] in _DEFERRED:
            threshold, reset_code, rules = _deferred_rule(program.populations[name], spec)
            pending_eq = "pending : 1\n"
        group = b2.NeuronGroup(pn.size, spec.equations + ref_eq + pending_eq + ("" if in_syn else jin),
                               method=spec.method or method,
                               threshold=_comparison(threshold, program.populations[name]),
                               reset=reset_code,
                               refractory="ref_s" if ref is not None else False,
                               namespace={}, name=f"np_pop_{idx}")
        if ref is not None:
            group.ref_s = ref * b2.second
        _set_params(b2, group, spec.params)
        if spec.threshold is not None:
            group.v_threshold = spec.v_threshold
            group.v_reset = spec.v_reset
        group.v = spec.v_init
        target, syn = group, None
        if spec.syn is not None:
            syn = b2.NeuronGroup(pn.size, spec.syn.equations + (jin if in_syn else ""), method=method,
                                 namespace={}, name=f"np_syn_{idx}")
            _set_params(b2, syn, spec.syn.params)
            for var in spec.linked:
                setattr(group, var, b2.linked_var(syn, var))
            _place(syn.state_updater, base + _SLOT_SYN)
            objects.append(syn)
            if in_syn and spec.clear_vars:
                objects.append(syn.run_regularly("\n".join(f"{v} = 0" for v in spec.clear_vars), when="groups",
                                                 order=base + _SLOT_SYN_CLEAR, name=f"np_syn_clear_{idx}"))
            if in_syn:
                target = syn
        for (where, var), values in spec.init.items():
            setattr(syn if where == "syn" else group, var, values)
        if holds_j:
            # jump input: the bias enters as r b per step, i.e. as the current b / dt held over the step
            target.Jb = Jb[name] / dt if _jump_input(program.populations[name]) else Jb[name]
        elif np.any(Jb[name]):
            raise UnsupportedNodeError(f"node {name!r} ({pn.model}): a constant (Affine bias) input has no meaning")
        if spec.no_ode is not None:
            objects.append(group.run_regularly(spec.no_ode, when="groups", order=base + _SLOT_V,
                                               name=f"np_set_{idx}"))
        else:
            _place(group.state_updater, base + _SLOT_V)
        if not in_syn and spec.clear_vars:
            objects.append(group.run_regularly("\n".join(f"{v} = 0" for v in spec.clear_vars), when="groups",
                                               order=base + _SLOT_CLEAR, name=f"np_clear_{idx}"))
        for k, (slot, code) in enumerate(rules):
            objects.append(group.run_regularly(code, when="groups", order=base + slot,
                                               name=f"np_deferred_{idx}_{k}"))
        if spec.threshold is not None:
            _place(group.thresholder["spike"], base + _SLOT_TH)
            _place(group.resetter["spike"], base + _SLOT_RESET)
        groups[name] = group
        syn_groups[name] = syn if spec.syn is not None else None
        objects.append(group)

    def input_target(name):
        spec = specs[name]
        return syn_groups[name] if spec.syn is not None and spec.input_group == "syn" else groups[name]

    # ---- projections
    graded = {}  # (post, var, kind) -> (steps, size) contribution of graded inputs
    n_syn = 0
    learn_base = _BLOCK * (len(order) + 1)
    for k, path in enumerate(structure.paths):
        pre_pn, post_pn = structure.populations[path.pre], structure.populations[path.post]
        if post_pn.model == "input":
            raise GraphError(f"edge into input node {path.post!r} (from {path.pre!r}); inputs take no edges")
        if path.depression is not None and path.plasticity is not None:
            raise UnsupportedNodeError(f"{path.name}: depression and plasticity on one projection are not supported")
        spec = specs[path.post]
        target = input_target(path.post)
        base = _BLOCK * (pos[path.post] + 1)
        ports = _port_matrices(path, spec)
        if _jump_input(program.populations[path.post]):
            # a spike adds r w to v right away (slot _SLOT_JUMP, before the integration and the threshold)
            if path.plasticity is not None or path.depression is not None:
                raise UnsupportedNodeError(f"{path.name}: input convention 'jump' on a plastic or depressing "
                                           "projection is not supported by backend 'brian2'")
            r = np.asarray(spec.params["r"], dtype=np.float64)
            ports = [(port, "v", "jump", sp.csr_matrix(sp.diags(r) @ matrix)) for port, _var, _kind, matrix in ports]
            for _port, _var, _kind, matrix in ports:
                matrix.sort_indices()
        for port, var, kind, matrix in ports:
            if matrix.nnz == 0:
                continue
            pname = path.name if port == "input" else f"{path.name}:{port}"
            delays = _path_delays(path, projections.get(pname), matrix, dt, timing)
            rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
            cols = matrix.indices.astype(np.int64)
            slot = base + (_SLOT_JUMP if kind == "jump" else _SLOT_IN)
            tag = f"np_proj_{k}" + ("" if port == "input" else f"_{port}")
            if pre_pn.model == "input" and path.pre not in spike_inputs:
                if path.depression is not None or path.plasticity is not None:
                    raise UnsupportedNodeError(f"{path.name}: backend 'brian2' supports depression and plasticity "
                                               "on spike inputs only (0/1 values), not on graded input")
                # graded input: precompute sum_d W_d @ x[t - d] per step (a TimedArray)
                x = inputs[path.pre]
                contrib = graded.setdefault((path.post, var, kind), np.zeros((steps, post_pn.size)))
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
            if _spiking(pre_pn.model) or pre_pn.model == "input":
                if path.plasticity is not None:
                    uniq = np.unique(delays)
                    if uniq.size != 1:
                        raise UnsupportedNodeError(f"{pname}: a plastic projection needs one delay for all "
                                                   f"synapses, got {uniq.tolist()}")
                    syn, apply = synapses.plastic(b2, groups[path.pre], target, var, cols, rows, path.plasticity[1],
                                                  eff, int(uniq[0]), dt, slot, learn_base, tag, method)
                    learn_base += _BLOCK
                    lowered.plastic[pname] = (syn, matrix.shape)
                    objects.append(apply)
                elif path.depression is not None:
                    syn = synapses.depressed(b2, groups[path.pre], target, var, cols, rows, matrix.data, eff, dt,
                                             slot, tag, path.depression[1], method)
                else:
                    syn = synapses.static(b2, groups[path.pre], target, var, cols, rows, matrix.data, eff, dt,
                                          slot, tag)
            else:
                if path.depression is not None or path.plasticity is not None:
                    raise UnsupportedNodeError(f"{path.name}: depression/plasticity of graded (non-spike) output "
                                               "is not supported by backend 'brian2'")
                syn = synapses.graded(b2, groups[path.pre], target, path, cols, rows, matrix.data, eff,
                                      base + _SLOT_IN, k)
            objects.append(syn)
            n_syn += matrix.nnz
    for n, ((name, var, kind), values) in enumerate(graded.items()):
        ta = b2.TimedArray(values, dt=dt * b2.second, name=f"np_ext_{n}")
        target = input_target(name)
        slot = _BLOCK * (pos[name] + 1) + (_SLOT_JUMP if kind == "jump" else _SLOT_EXT)
        target.namespace[f"ext_{n}"] = ta
        objects.append(target.run_regularly(f"{var} += ext_{n}(t, i)", when="groups", order=slot,
                                            name=f"np_ext_run_{n}"))

    # ---- monitors
    for name in order:
        if name in specs and specs[name].threshold is not None:
            mon = b2.SpikeMonitor(groups[name], name=f"np_spikes_{len(lowered.spike_monitors)}")
            lowered.spike_monitors[name] = mon
            objects.append(mon)
    for pop, var in probes:
        if structure.populations[pop].model == "input":
            continue
        where, attr = specs[pop].probes[var]
        source = syn_groups[pop] if where == "syn" else groups[pop]
        mon = b2.StateMonitor(source, attr, record=True, when="end", name=f"np_state_{len(lowered.state_monitors)}")
        lowered.state_monitors[(pop, var)] = (mon, attr)
        objects.append(mon)
    lowered.network = b2.Network(*objects)
    lowered.meta = {"method": method, "n_synapses": n_syn, "order": order}
    return lowered


def _check_probes(structure, specs, probes) -> None:
    """Refuse unknown probes before any Brian2 object exists."""
    for pop, var in probes:
        pn = structure.populations.get(pop)
        if pn is None:
            raise InputError(f"probe {pop}.{var}: no population {pop!r}")
        if pn.model == "input":
            if var not in ("v", "x", "value"):
                raise InputError(f"probe {pop}.{var}: an input population has only its value")
            continue
        states = tuple(specs[pop].probes)
        if var not in states:
            raise InputError(f"probe {pop}.{var}: backend 'brian2' records {', '.join(states)} for {pn.model} "
                             "(continuous-time states; the discrete 'u' has no Brian2 counterpart)")


def _place(obj, order: int) -> None:
    obj.when = "groups"
    obj.order = order


def _set_params(b2, group, params: dict) -> None:
    for key, value in params.items():
        if key.endswith("_s"):
            value = value * b2.second
        elif key.endswith("_hz"):
            value = value * b2.Hz
        setattr(group, key, value)
