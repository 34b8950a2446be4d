"""Lowering of a NIR graph to NEST nodes and connections, from its continuous-time parameters.

Like the Brian2 backend, this reads ``program.graph`` through
:func:`neuroport.structure.analyse` (so the topology agrees) and never the
Program's discrete coefficients; from the Program it takes the options
(``dt``, ``reset``, ``timing``) and ``Projection.delays`` (whole steps after
the timing rule), which are topology. Each population's NEST model and
parameters come from its neuron model's equations
(:mod:`.lowering_models`).

Time grid: neuroport's step ``k`` is NEST's step ``((k + 1) dt, (k + 2) dt]``;
NEST's first step ``(0, dt]`` runs with every neuron frozen (``frozen=True``),
so that an input spike of step 0 can be sent before step 0 starts. An input
spike in step ``t`` is a ``spike_generator`` spike at ``(t + 2) dt`` for a
delta-synapse target (it is added to ``v`` at the end of its arrival step, as
neuroport adds it) and at ``(t + 1) dt`` for a current- or conductance-based
target (the synaptic state jumps at the start of the arrival step and the
membrane integrates it during the step, as neuroport's step does).

A projection of ``d`` steps (``d >= 1``: ``timing="hardware"``, one step for
the discrete order plus the graph's delay) between neurons has NEST delay
``d dt`` into a delta-synapse neuron (the spike of step ``k``, stamped at
the end of step ``k``, arrives at the end of step ``k + d``) and ``(d - 1) dt``
into a current- or conductance-based one (it arrives at the start of step
``k + d``): the graph's own delay. NEST's smallest delay is one ``dt``, so
where the graph's delay is 0 (``d = 1``) such a spike acts one step later
than in neuroport's discrete step; ``Lowered.late_synapses`` counts them
(``Result.meta["late_synapses"]``, docs/nest.md).
A NEST spike at time ``T`` is step ``T / dt - 2``; the multimeter samples
the end of every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neuroport.backends.brian2.lowering import _path_delays, _port_matrices
from neuroport.backends.nest.lowering_models import MS, translate
from neuroport.errors import CompileError, GraphError, InputError, ParameterError, UnsupportedNodeError
from neuroport.models import neurons
from neuroport.structure import analyse


@dataclass
class Lowered:
    """NEST objects of one run (the kernel is global), plus what is needed to read the results back."""

    populations: dict = field(default_factory=dict)  # name -> NodeCollection of neurons
    first_id: dict = field(default_factory=dict)  # name -> global id of neuron 0
    recorders: dict = field(default_factory=dict)  # name -> spike_recorder
    multimeters: dict = field(default_factory=dict)  # (name, var) -> (multimeter, recordable, factor (size,))
    input_values: dict = field(default_factory=dict)  # input name -> (steps, size)
    models: dict = field(default_factory=dict)  # name -> NEST model name
    n_synapses: int = 0
    late_synapses: int = 0  # neuron -> current/conductance synapses with graph delay 0: one step late in NEST


def _reset_of(pop) -> str:
    """The population's reset; discrete-time conventions (neuroport.semantics) refused with the reason."""
    conv = [c for c in pop.conventions if c != "threshold '>='"]
    if pop.extra.get("input", "euler") != "euler":
        conv.append(f"input convention {pop.extra['input']!r}")
    if conv:
        raise UnsupportedNodeError(
            f"population {pop.name!r}: {', '.join(conv)} is a discrete-time convention of the exporter "
            "(neuroport.semantics) with no continuous-time equation; backend 'nest' integrates the graph's "
            "NIR equations with reset 'zero' only; run it on numpy (or compile without those conventions)")
    return pop.reset


#: NEST's tic grids tried for a dt, in order: its default 1000 tics per ms (1 us), then powers of two
#: (a dt such as 2**-10 s, which makes Lava's decays exact, is 1000 tics of 1/1024 ms)
TIC_GRIDS = (1000,) + tuple(2 ** k for k in range(10, 21))


def tics_per_ms(dt: float) -> int:
    """The ``tics_per_ms`` NEST runs ``dt`` (s) at: the first of :data:`TIC_GRIDS` of which ``dt`` is a whole
    number of tics; refused (ParameterError) when there is none.

    >>> tics_per_ms(1e-4), tics_per_ms(2.0 ** -10)
    (1000, 1024)
    """
    dt_ms = float(dt) * MS
    for tics in TIC_GRIDS:
        n = dt_ms * tics
        if dt_ms > 0 and round(n) >= 1 and abs(n - round(n)) <= 1e-9 * n:
            return tics
    raise ParameterError(f"dt = {dt!r} s: NEST's resolution must be a whole number of its tics: of 1 us (the "
                         f"default 1000 tics per ms) or of 1/2**k ms (k = 10..20); compile with such a dt")


def check_dt(dt: float) -> float:
    """``dt`` (s) as NEST's resolution in ms, a whole number of :func:`tics_per_ms` tics (else ParameterError)."""
    tics = tics_per_ms(dt)
    return round(float(dt) * MS * tics) / tics


def lower(nest, program, *, steps: int, inputs: dict, probes: list) -> Lowered:
    """Create every NEST node and connection of ``program.graph`` (after ``ResetKernel``)."""
    if program.graph is None:
        raise GraphError("backend 'nest' needs program.graph (the NIR graph); this Program has none")
    opts = program.options
    dt, timing = float(opts["dt"]), opts.get("timing", "hardware")
    dt_ms = check_dt(dt)
    structure = analyse(program.graph)
    order = [n for n in program.populations if n in structure.populations]
    projections = {p.name: p for p in program.projections}
    nodes = {name: structure.populations[name] for name in order}
    specs = {name: translate(pn, reset=_reset_of(program.populations[name]), dt=dt)
             for name, pn in nodes.items() if pn.model != "input"}
    _check_probes(nodes, specs, probes)
    for path in structure.paths:
        _check_path(path, nodes)

    low = Lowered()
    bias = {name: np.zeros(pn.size) for name, pn in nodes.items()}
    for path in structure.paths:
        if np.any(path.bias):
            bias[path.post] = bias[path.post] + path.bias

    # ---- neurons
    for name, pn in nodes.items():
        if pn.model == "input":
            continue
        spec = specs[name]
        params = {key: np.broadcast_to(np.asarray(val, dtype=np.float64), (pn.size,)).tolist()
                  for key, val in spec.params.items()}
        if np.any(bias[name]):
            if spec.bias_scale is None:
                raise UnsupportedNodeError(f"node {name!r} ({pn.model}): a constant (Affine bias) input into a "
                                           "conductance-based neuron has no meaning; remove the bias")
            params["I_e"] = (bias[name] * spec.bias_scale).tolist()
        # one dict per neuron: PyNEST expands a dict of lists only when every node is local (not on MPI ranks)
        pop = nest.Create(spec.model, pn.size, params=[{key: val[i] for key, val in params.items()}
                                                       for i in range(pn.size)])
        low.populations[name] = pop
        low.first_id[name] = int(pop[0].global_id)
        low.models[name] = spec.model
        pop.set(frozen=True)  # NEST's first step is before neuroport's step 0 (module docstring)
        rec = nest.Create("spike_recorder")
        nest.Connect(pop, rec)
        low.recorders[name] = rec

    # ---- spike inputs: generators per input neuron, spikes at the start (early) or end of their step
    generators = {}

    def generator(name, early: bool) -> int:
        """Global id of neuron 0's generator of input ``name``, created on first use."""
        if (name, early) not in generators:
            x = low.input_values[name]
            gens = nest.Create("spike_generator", nodes[name].size)
            offset = 1 if early else 2
            gens.set([{"spike_times": ((np.flatnonzero(x[:, i]) + offset) * dt_ms).tolist()}
                      for i in range(nodes[name].size)])
            generators[(name, early)] = int(gens[0].global_id)
        return generators[(name, early)]

    parrots = {}

    def parrot(name) -> int:
        """Global id of neuron 0's parrot_neuron repeating input ``name`` (NEST sends a device's spikes through
        static synapses only): the early generator's spike at ``(t + 1) dt`` is repeated at ``(t + 2) dt``."""
        if name not in parrots:
            size = nodes[name].size
            par = nest.Create("parrot_neuron", size)
            gen0 = generator(name, True)
            nest.Connect(np.arange(gen0, gen0 + size, dtype=np.int64), np.asarray(par.global_id, dtype=np.int64)
                         if size > 1 else np.asarray([par.global_id], dtype=np.int64), conn_spec="one_to_one",
                         syn_spec={"synapse_model": "static_synapse", "weight": np.ones(size),
                                   "delay": np.full(size, dt_ms)})
            parrots[name] = int(par[0].global_id)
        return parrots[name]

    for name, pn in nodes.items():
        if pn.model != "input":
            continue
        x = inputs[name]
        low.input_values[name] = x
        if not np.all((x == 0) | (x == 1)):
            raise UnsupportedNodeError(f"input {name!r}: backend 'nest' takes spike inputs only (0/1 per step); "
                                       "graded input values have no spike_generator form; encode them as spikes "
                                       "(neuroport.encoders) or run on numpy or brian2")

    # ---- projections
    for path in structure.paths:
        spec = specs[path.post]
        post_eq = neurons.get(nodes[path.post].model).equations(nodes[path.post], program.populations[path.post].reset)
        post0 = low.first_id[path.post]
        from_input = nodes[path.pre].model == "input"
        depressed = path.depression is not None
        if from_input:
            pre0 = parrot(path.pre) if depressed else generator(path.pre, spec.input_at_start)
        else:
            pre0 = low.first_id[path.pre]
        for port, _var, _kind, matrix in _port_matrices(path, post_eq):
            if matrix.nnz == 0:
                continue
            sign = -1.0 if port == "inh" else 1.0
            pname = path.name if port == "input" else f"{path.name}:{port}"
            delays = _path_delays(path, projections.get(pname), matrix, dt, timing)
            if np.any(delays < 1):
                raise CompileError(f"{pname}: NEST needs every delay >= one step (dt); compile with "
                                   "timing='hardware' (each projection one step)")
            rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
            cols = matrix.indices.astype(np.int64)
            w = sign * matrix.data
            keep = w != 0
            rows, cols, w, delays = rows[keep], cols[keep], w[keep], delays[keep]
            scale = np.where(w >= 0, spec.weight_scale["exc"][rows], spec.weight_scale["inh"][rows])
            if spec.input_at_start and from_input and depressed:  # the parrot's spike is one step after the generator's
                if np.any(delays < 2):
                    raise UnsupportedNodeError(
                        f"{pname}: depression on spikes of input {path.pre!r} into {path.post!r} ({spec.model}) needs a "
                        "graph delay >= dt in NEST (its spikes pass a parrot_neuron, one step); give the projection "
                        "a delay, or run it on numpy or brian2")
                delays = delays - 1
            elif spec.input_at_start and not from_input:
                low.late_synapses += int(np.sum(delays == 1))
                delays = np.maximum(delays - 1, 1)
            syn = {"synapse_model": "static_synapse", "weight": w * scale, "delay": delays.astype(np.float64) * dt_ms}
            if depressed:
                syn.update(_tsodyks2(path.depression[1], cols))
            nest.Connect(np.asarray(cols + pre0, dtype=np.int64), np.asarray(rows + post0, dtype=np.int64),
                         conn_spec="one_to_one", syn_spec=syn)
            low.n_synapses += int(w.size)

    # ---- multimeters, one per (population, variable), sampling the end of every step
    for pop, var in probes:
        if nodes[pop].model == "input":
            continue
        recordable, factor = specs[pop].probes[var]
        mm = nest.Create("multimeter", params={"record_from": [recordable], "interval": dt_ms})
        nest.Connect(mm, low.populations[pop])
        low.multimeters[(pop, var)] = (mm, recordable, factor)
    return low


def _tsodyks2(dep, cols: np.ndarray) -> dict:
    """tsodyks2_synapse parameters of the synapses from pre neurons ``cols`` of a Depression node.

    ``tau_fac = 0`` (no facilitation) keeps NEST's ``u = U``; its first spike sends ``u x w = U w`` (``x = 1``),
    each later one, ``h`` ms after the previous, ``U x w`` with ``x = 1 - (1 - x_prev (1 - U)) exp(-h / tau_rec)``
    (NEST 3.10's tsodyks2_synapse.h): neuroport's Depression (resources ``x``, recovery, release ``U x``) solved
    between spikes. Every synapse of a pre neuron sees its spikes, so NEST's per-synapse state equals its per-channel one.
    """
    n, u_se = cols.size, np.asarray(dep.u_se, dtype=np.float64)[cols]
    return {"synapse_model": "tsodyks2_synapse", "U": u_se, "u": u_se, "x": np.ones(n), "tau_fac": np.zeros(n),
            "tau_rec": np.asarray(dep.tau_rec, dtype=np.float64)[cols] * MS}


def _check_path(path, nodes) -> None:
    pre, post = nodes[path.pre], nodes[path.post]
    if post.model == "input":
        raise GraphError(f"edge into input node {path.post!r} (from {path.pre!r}); inputs take no edges")
    if path.plasticity is not None:
        raise UnsupportedNodeError(
            f"{path.name}: plastic projections (STDP) are not lowered by backend 'nest' yet (NEST's stdp_synapse "
            "applies potentiation at the next pre spike and pairs spikes on their arrival times, not as neuroport's "
            "rule does; docs/nest.md); run learning on numpy or brian2 and run the trained weights on nest")
    if pre.model != "input" and not neurons.get(pre.model).emits_spikes(pre.model):
        raise UnsupportedNodeError(f"{path.name}: graded output of {path.pre!r} ({pre.model}) has no NEST form "
                                   "(NEST connections carry spikes); run it on numpy or brian2")


def _check_probes(nodes, specs, probes) -> None:
    """Refuse unknown probes before any NEST object exists."""
    for pop, var in probes:
        pn = nodes.get(pop)
        if pn is None:
            raise InputError(f"probe {pop}.{var}: no population {pop!r}")
        if pn.model == "input":
            if var not in ("v", "x", "value"):
                raise InputError(f"probe {pop}.{var}: an input population has only its value")
            continue
        states = tuple(specs[pop].probes)
        if var not in states:
            raise InputError(f"probe {pop}.{var}: backend 'nest' records {', '.join(states)} for {pn.model} "
                             f"(as NEST model {specs[pop].model}); the discrete 'u' has no NEST counterpart")
