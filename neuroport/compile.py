"""``compile``: the single place where continuous time becomes discrete time.

See ``docs/semantics.md`` for every formula with a worked example. In short,
per population and step (``v`` shifted so that the reset value is 0):

.. math::

    u[t] = u[t-1] (1 - d_u) + a_{in}[t] + u_{bias}

    v[t] = v[t-1] (1 - d_v) + u[t] + bias

    s[t] = v[t] > v_{th}, \\quad v[t] \\leftarrow 0 \\text{ (or } v - v_{th}) \\text{ where } s[t]

with ``d = dt / tau`` (``scheme="euler"``) or ``1 - exp(-dt / tau)``
(``scheme="exact"``), and every input gain folded into the projection
weights so that ``a_in = W @ out_pre``.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import nir
import numpy as np
import scipy.sparse as sp

from neuroport import limits
from neuroport.errors import CompileError, GraphError, ParameterError, UnsupportedNodeError
from neuroport.naming import did_you_mean, probe_list
from neuroport.program import FloatProgram, Population, Projection
from neuroport.structure import analyse, register_population
from neuroport.discretize import decay_fraction  # noqa: F401  (re-exported)
from neuroport.models import neurons
from neuroport import profiles
from neuroport.profiles import PROFILES  # noqa: F401  (re-exported)
from neuroport.semantics import DEFAULTS as SEM_DEFAULTS, of_node as semantics_of

SCHEMES = ("euler", "exact")
RESETS = ("zero", "subtract", "subtract_undecayed", "zero_hold", "subtract_no_delay")
TIMINGS = ("hardware", "ideal")

# The NIR primitives neuroport lowers to populations, with their model key.
for _t, _m in ((nir.LIF, "lif"), (nir.CubaLIF, "cubalif"), (nir.IF, "if"), (nir.LI, "li"),
               (nir.CubaLI, "cubali"), (nir.I, "integrator"), (nir.Threshold, "threshold")):
    register_population(_t, _m)

def resolve_options(graph=None, *, dt=None, scheme=None, reset=None, timing=None, profile=None) -> dict:
    """Combine explicit options, a named profile and what the graph recorded.

    Precedence: explicit argument > profile > graph metadata > default
    (``scheme="euler"``, ``reset="zero"``, ``timing="hardware"``). ``dt`` has
    no default: a graph that does not record it needs ``dt=`` or ``profile=``.
    """
    recorded = {}
    meta = getattr(graph, "metadata", None) or {}
    for key in ("dt", "scheme", "reset", "timing"):
        val = meta.get(f"neuroport.{key}", meta.get(key))
        if val is not None:
            recorded[key] = val.decode() if isinstance(val, bytes) else val
    prof = {}
    if profile is not None:
        if profile not in PROFILES:
            raise CompileError(f"unknown profile {profile!r}{did_you_mean(profile, PROFILES)}; "
                               f"choose one of: {', '.join(PROFILES)}")
        prof = PROFILES[profile].options()
    explicit = {"dt": dt, "scheme": scheme, "reset": reset, "timing": timing}
    opts = {"scheme": "euler", "reset": "zero", "timing": "hardware"}
    for source in (recorded, prof, {k: v for k, v in explicit.items() if v is not None}):
        opts.update(source)
    if opts.get("dt") is None:
        raise CompileError(
            "no time step: the graph does not record dt. Give one of: compile(graph, dt=1e-3) "
            f"(seconds), a profile (profile=...: {', '.join(PROFILES)}), or "
            "--dt on the command line"
        )
    try:
        opts["dt"] = float(opts["dt"])
    except (TypeError, ValueError):
        raise CompileError(f"dt: expected a number of seconds, got {opts['dt']!r}") from None
    if not (opts["dt"] > 0 and math.isfinite(opts["dt"])):
        raise CompileError(f"dt: must be a positive finite number of seconds, got {opts['dt']!r}")
    for key, valid in (("scheme", SCHEMES), ("reset", RESETS), ("timing", TIMINGS)):
        if not isinstance(opts[key], str) or opts[key] not in valid:  # metadata may hold any array
            raise CompileError(f"{key}: expected one of {', '.join(valid)}, got {opts[key]!r}")
    return opts


def _discretize(pn, opts):
    """Discrete parameters of one population, by its model's ``discretize`` (``neuroport.models``).

    Returns ``(params, input_gain, u_gain, v_offset, emits, extra)``: ``input_gain``
    multiplies the rows of incoming weights, ``u_gain`` the constant bias of
    incoming paths (into ``u_bias`` when the model has a synapse, else ``bias``).
    """
    return neurons.discretize(pn, opts)


def compile(graph, *, dt: float | None = None, scheme: str | None = None, reset: str | None = None,
            timing: str | None = None, profile: str | None = None,
            probes: tuple = (), semantics: Mapping | None = None) -> FloatProgram:
    """Compile a NIR graph into a discrete-time :class:`~neuroport.program.FloatProgram`.

    Parameters
    ----------
    graph : nir.NIRGraph
        Continuous-time network (time constants in seconds).
    dt : float, optional
        Time step in seconds. Required unless the graph records it or a
        ``profile`` states it.
    scheme : {"euler", "exact"}
        Discretisation of the decays (default ``"euler"``).
    reset : {"zero", "subtract", "subtract_undecayed", "zero_hold"}
        ``"zero"`` resets ``v`` to ``v_reset``; ``"subtract"`` subtracts the
        threshold distance ``v_threshold - v_reset``; the other two are the
        deferred resets of :mod:`neuroport.semantics`. Applies to every node
        that does not record its own (node metadata ``neuroport.reset``);
        with a ``profile``, it names the exporter's reset mechanism
        (``profile="snntorch", reset="subtract"``), which the profile
        translates per node.
    timing : {"hardware", "ideal"}
        ``"hardware"``: every projection takes >= 1 step (Lava, Loihi 2).
        ``"ideal"``: feed-forward edges are instantaneous, recurrent edges
        take one step (snnTorch, Norse).
    profile : str, optional
        Conventions of the exporting tool (``"snntorch"``, ``"norse"``,
        ``"lava-dl"``, ``"nir-paper"``).
    probes : iterable of str or (population, variable)
        States to record by default, as ``"exc.v"`` or ``("exc", "v")``.
    semantics : dict, optional
        Per-node conventions for every node (``{"threshold": "ge", "spikes": "multi",
        "input": "jump"}``, :mod:`neuroport.semantics`), or, with a ``profile``, the
        profile's overrides (``{"reset_delay": False}`` for snnTorch).
        Applying a profile may rewrite parameters (Norse's time constants); what it
        changed is in ``program.options["notes"]`` and a :class:`UserWarning`.

    Returns
    -------
    Program

    Examples
    --------
    >>> import neuroport
    >>> net = neuroport.Network()
    >>> x = net.input(2)
    >>> lif = net.population(3, neuroport.LIF(tau=0.01, v_threshold=1.0))
    >>> _ = net.connect(x, lif, weight=0.5)
    >>> program = neuroport.compile(net.to_nir(), dt=1e-3)
    >>> program.populations[lif].params["dv"][0]
    0.1
    """
    limits.check_graph(graph)  # declared shapes, before anything is allocated
    notes = []
    explicit = dict(semantics or {})
    if profile is not None:
        graph, notes = profiles.apply(graph, profile, reset=reset, **explicit)
        explicit = {}
        reset_arg = None
    else:
        reset_arg = reset
        if reset is not None:
            explicit["reset"] = reset
    opts = resolve_options(graph, dt=dt, scheme=scheme, reset=reset_arg, timing=timing, profile=profile)
    structure = analyse(graph)
    probes = tuple(probe_list(probes)) + _recorded_probes(graph)
    if not any(pn.model != "input" for pn in structure.populations.values()):
        raise GraphError("the graph has no neuron population; nothing to simulate")
    empty = [pn.name for pn in structure.populations.values() if pn.size == 0]
    if empty:
        raise GraphError(f"population(s) {', '.join(map(repr, empty))} have 0 neurons (shape "
                         f"{list(structure.populations[empty[0]].shape)}); every input and population needs >= 1")

    pops, gains, u_gains = {}, {}, {}
    for pn in structure.populations.values():
        if pn.model == "input":
            pops[pn.name] = Population(pn.name, pn.size, "input", {}, "state", np.zeros(pn.size), pn.shape)
            continue
        sem = semantics_of(pn.name, pn.node, opts, explicit)
        params, gain, u_gain, v_offset, emits, extra = _discretize(pn, {**opts, **sem})
        if _single_precision(pn.node):
            params, gain, u_gain = _round_to_single(params, gain, u_gain)
        if (sem["reset"] != "zero" or sem["spikes"] == "multi") and emits == "spikes" \
                and not np.all(np.isfinite(params["v_threshold"])):
            raise ParameterError(f"{pn.name}: reset={sem['reset']!r} / spikes={sem['spikes']!r} needs a finite "
                                 "threshold")
        if sem["spikes"] == "multi" and emits == "spikes" and np.any(params["v_threshold"] <= 0):
            raise ParameterError(f"{pn.name}: spikes='multi' needs v_threshold > v_reset (it divides by it)")
        conv = {"reset": sem["reset"]}
        if emits == "spikes":
            conv.update({k: sem[k] for k in ("threshold", "spikes") if sem[k] != SEM_DEFAULTS[k]})
        pops[pn.name] = Population(pn.name, pn.size, pn.model, params, emits, v_offset, pn.shape,
                                   {**conv, **extra})
        gains[pn.name], u_gains[pn.name] = gain, u_gain

    projections = []
    for path in structure.paths:
        post = pops[path.post]
        if post.is_input:
            raise GraphError(f"edge into input node {path.post!r} (from {path.pre!r}); inputs take no edges")
        w = sp.csr_matrix(sp.diags(gains[path.post]) @ path.matrix)
        w.sort_indices()
        delays = _delay_steps(path, w, opts["dt"]) + int(post.extra.get("input_delay", 0))
        extra = {}
        if path.depression is not None:
            node_name, node = path.depression
            extra["depression"] = {
                "node": node_name,
                "recover": decay_fraction(node_name, "tau_rec", node.tau_rec, opts["dt"], opts["scheme"]),
                "u_se": np.asarray(node.u_se, dtype=np.float64),
            }
        if path.plasticity is not None:
            extra["plasticity"] = _plasticity(path, gains[path.post], opts)
        projections.extend(_split_ports(path.name, path.pre, path.post, w, delays, extra,
                                        post.ports,
                                        _port_scales(gains[path.post], post.extra.get("port_gain", {}))))
        if np.any(path.bias):
            params = dict(post.params)
            target = post.extra.get("bias_target", "u_bias" if post.model in ("cubalif", "cubali") else "bias")
            if target is None:
                raise UnsupportedNodeError(
                    f"{path.name}: a constant (Affine bias) input into {post.name!r} ({post.model}) has no "
                    "meaning for this model; remove the bias or use a current-based neuron"
                )
            params[target] = params[target] + u_gains[path.post] * path.bias
            pops[path.post] = post = Population(post.name, post.size, post.model, params, post.emits,
                                                post.v_offset, post.shape, post.extra)

    order, projections = _schedule(pops, projections, opts["timing"])
    return FloatProgram(
        populations={name: pops[name] for name in order},
        projections=tuple(projections),
        inputs=tuple(n for n in order if pops[n].is_input),
        outputs=dict(structure.outputs),
        probes=tuple(dict.fromkeys(probes)),
        options={**opts, **({"notes": tuple(notes)} if notes else {})},
        level="discrete",
        graph=graph,
    )


def _single_precision(node) -> bool:
    """Whether the node's parameters are float32 (as every torch/jax exporter writes them)."""
    return any(isinstance(v, np.ndarray) and v.dtype == np.float32 for v in vars(node).values())


def _round_to_single(params: dict, gain, u_gain):
    """Per-step factors of a float32 node rounded to float32: the parameters carry no more digits,
    and the exporter computed its own step in float32 (snnTorch's ``beta = 0.5`` is written as
    ``tau = 2e-4``, ``r = 2``; ``dt / tau * r`` in float64 is 1.00000003, in float32 exactly 1). The
    decays are rounded as the kept fraction ``1 - d`` (the framework's ``beta`` or ``exp(-dt / tau)``
    in float32: Rockpool's ``exp(-1e-8)`` is exactly 1 there)."""
    def single(x):
        return np.asarray(x, dtype=np.float64).astype(np.float32).astype(np.float64)

    out = dict(params)
    for key in ("du", "dv"):  # the framework's decay factor (beta, exp(-dt/tau)) is the float32 number
        if key in out and np.asarray(out[key]).dtype.kind == "f":
            out[key] = 1.0 - single(1.0 - np.asarray(out[key], dtype=np.float64))
    for key in ("bias", "u_bias"):
        if key in out and np.asarray(out[key]).dtype.kind == "f":
            out[key] = single(out[key])
    return out, single(gain), single(u_gain)


def _plasticity(path, gain: np.ndarray, opts) -> dict:
    """Discretised learning-rule parameters of a plastic projection.

    Rule parameters stay in graph weight units; ``gain`` (shape ``(post,)``)
    converts graph weights to the Program's (``W_program = gain * W_graph``).
    """
    node_name, node = path.plasticity
    if np.any(gain == 0):
        raise ParameterError(f"{node_name}: plastic weights into {path.post!r} have zero input gain")
    params = node.rule_params()
    params.update({
        "node": node_name,
        "gain": np.asarray(gain, dtype=np.float64),
        # graph-unit weights, exactly as stored (dividing the Program's weights by gain
        # would not give them back to the last bit)
        "weight": np.where(node.connectivity, node.weight, 0.0),
        "connectivity": node.connectivity.copy(),
        "pre_decay": float(decay_fraction(node_name, "tau_pre", node.tau_pre, opts["dt"], opts["scheme"])[0]),
        "post_decay": float(decay_fraction(node_name, "tau_post", node.tau_post, opts["dt"], opts["scheme"])[0]),
    })
    return params


def _port_scales(gain: np.ndarray, port_gain: dict) -> dict:
    """Per-port row multipliers turning the default gain into the port's own gain."""
    out = {}
    for port, g in port_gain.items():
        out[port] = np.divide(g, gain, out=np.zeros_like(gain, dtype=np.float64), where=gain != 0)
    return out


def _split_ports(name, pre, post, w, delays, extra, ports, scales=None) -> list:
    """One Projection, or for two-port models (``exc``/``inh``) the positive weights
    to ``exc`` and the magnitudes of the negative ones to ``inh``."""
    if tuple(ports) == ("input",):
        return [Projection(name, pre, post, w, delays, extra)]
    if "plasticity" in extra:
        raise UnsupportedNodeError(f"{name}: plastic projections into two-port neurons ({post}) are not supported")
    out = []
    rows = np.repeat(np.arange(w.shape[0]), np.diff(w.indptr))
    for port, mask, sign in (("exc", w.data >= 0, 1.0), ("inh", w.data < 0, -1.0)):
        if not mask.any():
            continue
        data = sign * w.data[mask]
        if scales and port in scales:
            data = data * scales[port][rows[mask]]
        # a mask keeps the sorted CSR order: row pointers from the kept counts, delays follow their synapses
        indptr = np.zeros(w.shape[0] + 1, dtype=w.indptr.dtype)
        np.cumsum(np.bincount(rows[mask], minlength=w.shape[0]), out=indptr[1:])
        sub = sp.csr_matrix((data, w.indices[mask], indptr), shape=w.shape)
        sub.has_sorted_indices = w.has_sorted_indices
        out.append(Projection(f"{name}:{port}", pre, post, sub, delays[mask], {**extra, "port": port}))
    return out


def _recorded_probes(graph) -> tuple:
    import json

    meta = getattr(graph, "metadata", None) or {}
    raw = meta.get("neuroport.probes") if isinstance(meta, dict) else None
    if raw is None or (isinstance(raw, (str, bytes)) and not raw):
        return ()
    expected = "a JSON list of [population, variable] pairs of strings, e.g. '[[\"lif1\", \"v\"]]'"
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not isinstance(raw, str):
        raise GraphError(f"graph metadata 'neuroport.probes' is a {type(raw).__name__}; expected {expected}")
    try:
        probes = json.loads(raw)
    except ValueError:
        raise GraphError(f"graph metadata 'neuroport.probes' is not valid JSON: {raw[:200]!r}") from None
    if not isinstance(probes, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in probes):
        raise GraphError(f"graph metadata 'neuroport.probes' = {raw[:200]!r}; expected {expected}")
    return tuple(tuple(p) for p in probes)


def _delay_steps(path, w: sp.csr_matrix, dt: float) -> np.ndarray:
    """Per-synapse delay in whole steps (aligned with ``w.data``; int32, 4 bytes per synapse).

    The check and the rounding run on the distinct delays (one scalar, or one
    value per pre or post neuron), then are spread over the synapses."""
    if path.delay_axis == "scalar":
        vec = np.full(1, float(path.delay))
    else:
        vec = np.asarray(path.delay, dtype=np.float64).reshape(-1)
    steps = vec / dt
    rounded = np.rint(steps)
    if np.any(np.abs(steps - rounded) > 1e-6 * np.maximum(1.0, rounded)):
        bad = vec[np.argmax(np.abs(steps - rounded))]
        raise ParameterError(
            f"{path.name}: delay {bad} s is not a whole number of steps of dt = {dt} s; "
            "neuroport supports whole-step delays only"
        )
    if rounded.size and rounded.max() >= 2 ** 31 - 2:
        raise ParameterError(f"{path.name}: delay of {int(rounded.max())} steps is too long (at most 2**31 - 3)")
    per = rounded.astype(np.int32)
    if path.delay_axis == "scalar":
        return np.full(w.nnz, per[0], dtype=np.int32)
    if path.delay_axis == "post":
        return np.repeat(per, np.diff(w.indptr))
    return per[w.indices]


def _schedule(pops: Mapping[str, Population], projections: list, timing: str):
    """Update order and final delays.

    ``hardware``: every delay gets +1 (a spike at ``t`` is seen at ``t + 1``).
    ``ideal``: zero-delay edges that close a cycle (found by depth-first
    search in graph order) get delay 1; the rest stay 0; populations are
    ordered so that zero-delay sources update first.
    """
    names = list(pops)
    if timing == "hardware":
        projections = [Projection(p.name, p.pre, p.post, p.weights, p.delays + 1, p.extra)
                       for p in projections]
        return names, projections
    zero = {n: [] for n in names}
    for i, p in enumerate(projections):
        if p.nnz and p.delays.min() == 0:
            zero[p.pre].append((p.post, i))
    state = {n: 0 for n in names}  # 0 new, 1 on stack, 2 done
    back = set()

    def visit(n):
        stack = [(n, iter(zero[n]))]
        state[n] = 1
        while stack:
            node, it = stack[-1]
            for nxt, idx in it:
                if state[nxt] == 1:
                    back.add(idx)
                elif state[nxt] == 0:
                    state[nxt] = 1
                    stack.append((nxt, iter(zero[nxt])))
                    break
            else:
                state[node] = 2
                stack.pop()

    for n in names:
        if state[n] == 0:
            visit(n)
    # Kahn's algorithm on the remaining zero-delay DAG, ties broken by graph order
    import heapq

    index = {n: i for i, n in enumerate(names)}
    indegree = {n: 0 for n in names}
    for n in names:
        for m, idx in zero[n]:
            if idx not in back:
                indegree[m] += 1
    ready = [index[n] for n in names if indegree[n] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        n = names[heapq.heappop(ready)]
        order.append(n)
        for m, idx in zero[n]:
            if idx not in back:
                indegree[m] -= 1
                if indegree[m] == 0:
                    heapq.heappush(ready, index[m])
    fixed = []
    for i, p in enumerate(projections):
        if i in back:
            p = Projection(p.name, p.pre, p.post, p.weights, np.maximum(p.delays, 1), {**p.extra, "recurrent": True})
        fixed.append(p)
    return order, fixed
