"""Re-simulate every interop fixture's exported NIR graph in plain numpy and compare
its spikes with the framework's own, layer by layer (numpy + nir only).

    /work/main/.venv/bin/python tests/data/interop/check_facts.py [framework ...] [-v]

For each fixture (``<framework>/<case>.nir`` + ``.npz``) it runs the graph's
parameters under two readings:

* ``nir``: NIR's nominal semantics, what a reader that knows nothing about the
  exporter would do: forward-Euler of NIR's ODEs at the fixture's ``dt``
  (snnTorch, which writes no dt, assumes 1e-4 s), every edge of a feed-forward
  path within the same step, a recurrent edge one step late, spike when
  ``v > v_threshold``, then ``v = v_reset`` in the same step.
* ``<framework>``: the conventions this checker found for that exporter (the
  ``PROFILES`` table below, one entry per framework, overrides per case in
  ``CASE_OVERRIDES``): reset variant and its timing, ``>`` or ``>=``, spikes per
  step, input convention, tau correction, latency.

and prints, per spiking layer, the fraction of (step, neuron) spike counts equal
to the framework's, and the largest membrane difference where the fixture stores
the membrane in the same convention.  A convention is taken as a FACT only when
it gives 100 % on every layer of every case it applies to; README.md's table is
filled from this output.  Each layer's input is computed from the re-simulated
upstream layers (free-running, as a backend would run it), not from the
framework's recorded spikes.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
from dataclasses import dataclass, field, replace
from typing import Dict, List, Tuple

import numpy as np
import nir

HERE = os.path.dirname(os.path.abspath(__file__))


# --------------------------------------------------------------------------------------
# Conventions
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Convention:
    """How one exporter's neuron nodes are to be stepped (see module docstring).

    dt:        step in seconds used for the Euler factors dt/tau (None: the fixture's dt).
    reset:     "v_reset"       spike -> v = v_reset in the same step (NIR nominal);
               "subtract"      spike -> v -= v_threshold in the same step (decayed next step);
               "subtract_next" snnTorch: the threshold is subtracted in the NEXT step, after
                               that step's decay and input (the subtraction is not decayed);
               "zero_next"     the next step's decayed membrane is zeroed before the input is
                               added (== v_reset = 0 for spikes; v recorded before the reset);
               "zero_hold"     the whole next-step membrane is zeroed, its input included
                               (the synaptic current is kept);
               "snntorch_nodelay" snnTorch's reset_delay=False with subtract: v -= thr in the
                               spiking step, and a step whose previous post-reset v is still
                               above threshold is not subtracted twice (snnTorch's do_reset).
    cmp:       ">" or ">=" for the threshold comparison.
    multi:     several spikes per step: n = floor(v / v_threshold) (with the comparison
               above deciding n >= 1); subtract n * v_threshold.
    cuba_v_uses: "new" or "old" synaptic current in the CubaLIF membrane update.
    syn_input: "euler" i += dt/tau_syn (-i + w_in I); "jump" (Norse's LIFCell): the input
               jumps the current first, i' = i + w_in I, the membrane integrates i', then the
               current decays, i = i' (1 - dt/tau_syn) (the stored i is the decayed one);
               "jump_decay" (Rockpool's LIFTorch): i = exp(-dt/tau_syn) (i + w_in I), and the
               membrane integrates that new i.
    tau_scale: multiply every tau in the graph by this (a tau written dt times too small).
    latency:   extra steps each spiking layer's output takes to reach the next node.
    if_scale:  "dt" IF integrates v += dt r I (NIR nominal); "one": v += r I.
    v_recorded: "post" (after reset) or "pre" (before the step's own reset) for the
               membrane comparison.
    decay:     "euler" v += dt/tau (v_leak - v + r I); "exp" exact (zero-order-hold) step,
               v = v_leak + (v - v_leak) e + (1 - e) r I with e = exp(-dt/tau); "exp_leak"
               (Rockpool): exponential leak, Euler input term, v = v_leak + (v - v_leak) e
               + (dt/tau) r I (Rockpool writes r = tau e / dt so that term is e I).
    r_exp_fix: multiply a spiking node's r by exp(dt/tau_mem) (Rockpool writes
               r = tau e/dt for LIFTorch/LIFNeuronTorch, whose membrane gets the input with
               gain 1: v = e v + I; the written r is e times too small).
    r_from_tau: ignore the written r of LIF nodes and use r = tau/dt (Spyx writes r = beta).
    v_init:    initial membrane, "zero" or "v_leak" (Norse starts its cells at v_leak).
    dtype:     arithmetic of the re-simulation ("float32" as the torch frameworks run: the
               exported float32 tau gives dt/tau exactly as the framework's beta only then).
    """
    dt: float | None = None
    reset: str = "v_reset"
    cmp: str = ">"
    multi: bool = False
    cuba_v_uses: str = "new"
    syn_input: str = "euler"
    tau_scale: float = 1.0
    latency: int = 0
    if_scale: str = "dt"
    v_recorded: str = "post"
    dtype: str = "float64"
    v_init: str = "zero"
    decay: str = "euler"
    r_exp_fix: bool = False
    r_from_tau: bool = False
    notes: str = ""


NIR_NOMINAL = Convention(notes="NIR nominal")

# One entry per framework: what the fixtures showed (see README.md, facts table).
PROFILES: Dict[str, Convention] = {
    "norse": Convention(dt=1e-3, tau_scale=1e3, reset="v_reset", cmp=">", syn_input="jump",
                        if_scale="one", dtype="float32", v_init="v_leak",
                        notes="tau written dt times too small (x1/dt); LIFCell input jumps the current"),
    "rockpool": Convention(dt=1e-3, reset="subtract", cmp=">=", multi=True, decay="exp_leak",
                           syn_input="jump_decay", dtype="float32", r_exp_fix=True,
                           notes="dt 1e-3 (Rockpool default, not written); r = tau exp(-dt/tau)/dt"),
    "spyx": Convention(dt=1.0, reset="subtract_next", cmp=">", latency=1, r_from_tau=True, v_recorded="pre",
                       dtype="float32", notes="dt 1; r written = beta (use tau/dt); spikes one step late"),
    "sinabs": Convention(dt=1.0, reset="subtract", cmp=">=", multi=True, decay="exp", if_scale="one",
                         dtype="float32", notes="dt = 1 step; tau in steps, exact exponential decay"),
    "snntorch": Convention(dt=1e-4, reset="subtract_next", cmp=">", v_recorded="pre", dtype="float32",
                           notes="dt 1e-4 (not written); subtract after the next decay"),
}

# Per-case deviations from the framework's profile, keyed "framework/case"; a "nodes"
# entry holds per-node deviations on top of the case's.  "lost" marks a case whose
# exporter dropped a parameter (the profile cannot reproduce it; not counted as a
# failure) and "patch" gives the dropped values, {node: {param: value}}, for a third
# reading that puts them back to show that nothing else differs.
CASE_OVERRIDES: Dict[str, dict] = {
    "norse/lifbox_vreset": dict(lost="Norse's LIFBoxCell export writes v_reset = 0 whatever v_reset is",
                                patch={"1": {"v_reset": -0.3}}),
    "rockpool/lif_bias": dict(lost="Rockpool's LIFTorch export drops its bias (v_leak written 0)",
                              patch={"1_LIFTorch": {"v_leak": 0.05 / (1 - np.exp(-1e-3 / 20e-3))}}),
    "rockpool/lif_rec": dict(lost="Rockpool's LIFTorch export drops its recurrent weights w_rec"),
    "spyx/rlif": dict(lost="Spyx's RLIF subgraph routes its input through w_rec (edge input -> w_rec, "
                           "none input -> lif)",
                      patch_edges={("layer_1.input", "layer_1.w_rec"): ("layer_1.input", "layer_1.lif")}),
    "sinabs/iaf_single_reset": dict(lost="Sinabs writes the same nir.IF for SingleSpike + MembraneReset",
                                    patch_conv=dict(multi=False, reset="v_reset")),
    "snntorch/leaky_ff_zero": dict(reset="zero_next"),
    "snntorch/synaptic_ff_zero": dict(reset="zero_hold"),
    "snntorch/rleaky_zero": dict(reset="zero_hold", nodes={"lif2": dict(reset="zero_next")}),
    "snntorch/leaky_ff_subtract_nodelay": dict(reset="snntorch_nodelay", v_recorded="post"),
}


# --------------------------------------------------------------------------------------
# Graph flattening and ordering
# --------------------------------------------------------------------------------------
def flatten_graph(g: nir.NIRGraph, prefix: str = "") -> Tuple[Dict[str, nir.NIRNode], List[Tuple[str, str]]]:
    """Inline nested NIRGraph nodes: inner names become ``outer.inner`` (kept as they are
    when the exporter already wrote them so, as Spyx does); an edge to a subgraph goes to
    its Input node(s), an edge from it leaves its Output node(s)."""
    if prefix and all(k.startswith(prefix) for k in g.nodes):
        prefix_inner = ""
    else:
        prefix_inner = prefix
    return _flatten(g, prefix_inner)


def _flatten(g, prefix):
    nodes: Dict[str, nir.NIRNode] = {}
    edges: List[Tuple[str, str]] = []
    ins: Dict[str, List[str]] = {}
    outs: Dict[str, List[str]] = {}
    for name, node in g.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            sub_nodes, sub_edges = flatten_graph(node, full + ".")
            nodes.update(sub_nodes)
            edges.extend(sub_edges)
            ins[full] = [n for n, v in sub_nodes.items() if isinstance(v, nir.Input) and n.rsplit(".", 1)[0] == full]
            outs[full] = [n for n, v in sub_nodes.items() if isinstance(v, nir.Output) and n.rsplit(".", 1)[0] == full]
        else:
            nodes[full] = node
    for a, b in g.edges:
        a_full = [prefix + a] if prefix + a not in outs else outs[prefix + a]
        b_full = [prefix + b] if prefix + b not in ins else ins[prefix + b]
        edges.extend((x, y) for x in a_full for y in b_full)
    return nodes, edges


def order_nodes(nodes, edges):
    """Depth-first from the Input nodes: returns (order, back_edges).  A back edge
    (to a node still on the DFS stack) closes a recurrent loop and is delayed a step."""
    succ: Dict[str, List[str]] = {n: [] for n in nodes}
    for a, b in edges:
        succ[a].append(b)
    state: Dict[str, int] = {}
    post: List[str] = []
    back = set()

    def visit(n):
        state[n] = 1
        for m in succ[n]:
            if state.get(m) == 1:
                back.add((n, m))
            elif m not in state:
                visit(m)
        state[n] = 2
        post.append(n)

    for n, node in nodes.items():
        if isinstance(node, nir.Input) and n.count(".") == 0:
            visit(n)
    for n in nodes:
        if n not in state:
            visit(n)
    return post[::-1], back


# --------------------------------------------------------------------------------------
# Static nodes
# --------------------------------------------------------------------------------------
def _pair(v, n=2):
    a = np.atleast_1d(np.asarray(v)).astype(int).ravel()
    return tuple(int(a[0]) for _ in range(n)) if a.size == 1 else tuple(int(x) for x in a)


def conv2d(x, w, b, stride, padding, dilation, groups):
    """x (C,H,W), w (O, C/groups, kh, kw) -> (O, H', W'), cross-correlation as torch."""
    if isinstance(padding, str):
        raise ValueError(f"string padding {padding!r} not handled by the checker")
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    Ho = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    Wo = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((O, Ho, Wo))
    og = O // groups
    for g in range(groups):
        xs = xp[g * Cg:(g + 1) * Cg]
        ws = w[g * og:(g + 1) * og]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, i * dh: i * dh + sh * (Ho - 1) + 1: sh, j * dw: j * dw + sw * (Wo - 1) + 1: sw]
                out[g * og:(g + 1) * og] += np.einsum("oc,chw->ohw", ws[:, :, i, j], patch)
    if b is not None:
        out += np.asarray(b).reshape(-1, 1, 1)
    return out


def pool2d(x, kernel, stride, padding, mode):
    kh, kw = _pair(kernel)
    sh, sw = _pair(stride) if stride is not None else (kh, kw)
    ph, pw = _pair(padding) if padding is not None else (0, 0)
    xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    C, H, W = xp.shape
    Ho, Wo = (H - kh) // sh + 1, (W - kw) // sw + 1
    out = np.zeros((C, Ho, Wo))
    for i in range(kh):
        for j in range(kw):
            out += xp[:, i: i + sh * (Ho - 1) + 1: sh, j: j + sw * (Wo - 1) + 1: sw]
    return out / (kh * kw) if mode == "avg" else out


def static(node, x):
    if isinstance(node, (nir.Input, nir.Output)):
        return x
    if isinstance(node, nir.Affine):
        return np.asarray(node.weight) @ x.ravel() + np.asarray(node.bias)
    if isinstance(node, nir.Linear):
        return np.asarray(node.weight) @ x.ravel()
    if isinstance(node, nir.Scale):
        return np.asarray(node.scale) * x
    if isinstance(node, nir.Flatten):
        return x.ravel()
    if isinstance(node, nir.Conv2d):
        return conv2d(x, np.asarray(node.weight), np.asarray(node.bias) if node.bias is not None else None,
                      node.stride, node.padding, node.dilation, int(np.asarray(node.groups)))
    if isinstance(node, nir.SumPool2d):
        return pool2d(x, node.kernel_size, node.stride, node.padding, "sum")
    if isinstance(node, nir.AvgPool2d):
        return pool2d(x, node.kernel_size, node.stride, node.padding, "avg")
    raise TypeError(f"checker has no rule for {type(node).__name__}")


# --------------------------------------------------------------------------------------
# Neurons
# --------------------------------------------------------------------------------------
SPIKING = (nir.LIF, nir.CubaLIF, nir.IF)
STATEFUL = SPIKING + (nir.LI,)


class Neuron:
    def __init__(self, node, conv: Convention, dt: float):
        self.node, self.c, self.dt = node, conv, dt
        self.v = None
        self.i = None
        self.s_prev = None

    def p(self, name):
        return np.asarray(getattr(self.node, name), dtype=self.c.dtype)

    def spike(self, v, thr):
        c = self.c
        if c.multi:
            n = np.floor(v / thr)
            hit = v > thr if c.cmp == ">" else v >= thr
            return np.where(hit, np.maximum(n, 1.0), 0.0).astype(c.dtype)
        return (v > thr if c.cmp == ">" else v >= thr).astype(c.dtype)

    def coeffs(self, dt, tau):
        """(leak factor, input factor) of one membrane step, per the decay convention."""
        a = dt / (self.c.tau_scale * tau)
        e = (1 - np.exp(-a)).astype(self.c.dtype)
        fix = np.exp(a).astype(self.c.dtype) if self.c.r_exp_fix and isinstance(self.node, SPIKING) else 1
        if self.c.decay == "euler":
            return a, a * fix
        if self.c.decay == "exp":
            return e, e * fix
        return e, a * fix  # exp_leak

    def step(self, I):
        node, c = self.node, self.c
        dt = np.asarray(self.dt, dtype=c.dtype)
        I = np.asarray(I, dtype=c.dtype)
        if self.v is None:
            self.v = np.zeros_like(I)
            if c.v_init == "v_leak" and hasattr(node, "v_leak"):
                self.v = self.v + self.p("v_leak")
            self.i = np.zeros_like(I)
            self.s_prev = np.zeros_like(I)
        v, i = self.v, self.i
        if isinstance(node, nir.CubaLIF):
            a_syn = dt / (c.tau_scale * self.p("tau_syn"))
            leak, gain = self.coeffs(dt, self.p("tau_mem"))
            w_in = self.p("w_in") if getattr(node, "w_in", None) is not None else np.ones((), c.dtype)
            if c.reset == "zero_next":
                v = v * (1 - self.s_prev)
            if c.syn_input == "euler":
                i_new = i + a_syn * (-i + w_in * I)
                i_used = i_new if c.cuba_v_uses == "new" else i
                v = v + leak * (self.p("v_leak") - v) + gain * self.p("r") * i_used
                i = i_new
            elif c.syn_input == "jump":
                i_jump = i + w_in * I
                v = v + leak * (self.p("v_leak") - v) + gain * self.p("r") * i_jump
                i = i_jump * (1 - a_syn)
            else:  # jump_decay (Rockpool): i = exp(-dt/tau_syn) (i + w_in I), v sees the new i
                i = np.exp(-a_syn).astype(c.dtype) * (i + w_in * I)
                v = v + leak * (self.p("v_leak") - v) + gain * self.p("r") * i
        elif isinstance(node, (nir.LIF, nir.LI)):
            leak, gain = self.coeffs(dt, self.p("tau"))
            r = self.p("tau") * c.tau_scale / dt if c.r_from_tau else self.p("r")
            if c.reset == "zero_next":
                v = v * (1 - self.s_prev)
            v = v + leak * (self.p("v_leak") - v) + gain * r * I
        elif isinstance(node, nir.IF):
            v = v + (dt if c.if_scale == "dt" else np.ones((), c.dtype)) * self.p("r") * I
        else:
            raise TypeError(type(node).__name__)
        if isinstance(node, nir.LI):
            self.v = v
            return v, v, v, i
        thr = self.p("v_threshold")
        if c.reset == "subtract_next":
            v = v - self.s_prev * thr
        elif c.reset == "zero_hold":
            v = v * (1 - self.s_prev)
        elif c.reset == "snntorch_nodelay":
            r_prev = self.spike(self.v, thr)
            v = v - r_prev * thr
        s = self.spike(v, thr)
        v_pre = v
        if c.reset == "v_reset":
            v = np.where(s > 0, self.p("v_reset"), v)
        elif c.reset == "subtract":
            v = v - s * thr
        elif c.reset == "snntorch_nodelay":
            v = v - (s - r_prev) * thr
        self.v, self.i, self.s_prev = v, i, s
        return s, v_pre, v, i


def simulate(graph: nir.NIRGraph, x: np.ndarray, conv: Convention, dt: float, node_conv=None):
    """Run the graph over x (T, *in); returns {node: (spikes, v_pre, v_post, i)} per stateful node.
    ``node_conv`` maps node names to their own Convention (default: ``conv``)."""
    node_conv = node_conv or {}
    nodes, edges = flatten_graph(graph)
    order, back = order_nodes(nodes, edges)
    preds: Dict[str, List[str]] = {n: [] for n in nodes}
    for a, b in edges:
        preds[b].append(a)
    neurons = {n: Neuron(nd, node_conv.get(n, conv), dt) for n, nd in nodes.items() if isinstance(nd, STATEFUL)}
    prev_out: Dict[str, np.ndarray] = {}
    delay_lines: Dict[str, list] = {}
    rec: Dict[str, list] = {n: [] for n in neurons}
    top_inputs = [n for n, nd in nodes.items() if isinstance(nd, nir.Input) and "." not in n]
    succ: Dict[str, set] = {n: set() for n in nodes}
    for a, b in edges:
        succ[a].add(b)

    def reach(n):
        seen, todo = set(), [n]
        while todo:
            for m in succ[todo.pop()]:
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return seen
    reachable = {n: reach(n) for n in nodes}
    raw_out: Dict[str, np.ndarray] = {}
    for t in range(x.shape[0]):
        out: Dict[str, np.ndarray] = {}
        for n in order:
            nd = nodes[n]
            if n in top_inputs:
                inp = x[t]
            else:
                terms = []
                for a in preds[n]:
                    if (a, n) in back:
                        if a in prev_out:
                            terms.append(prev_out[a])
                        elif isinstance(nodes[a], nir.Affine):  # step 0: W @ 0 + bias
                            terms.append(np.asarray(nodes[a].bias, dtype=np.float64))
                    elif a in raw_out and a in reachable.get(n, ()):
                        terms.append(raw_out[a])  # inside a's own loop: no output latency
                    else:
                        terms.append(out[a])
                if not terms:
                    out[n] = None
                    continue
                terms = [tm for tm in terms if tm is not None]
                inp = sum(terms[1:], terms[0]) if terms else None
                if inp is None:
                    out[n] = None
                    continue
            if n in neurons:
                s, v_pre, v_post, i = neurons[n].step(inp)
                if conv.latency and isinstance(nd, SPIKING):
                    raw_out[n] = s
                    # the framework emits a spike `latency` steps after its membrane crossed
                    line = delay_lines.setdefault(n, [np.zeros_like(s)] * conv.latency)
                    line.append(s)
                    s = line.pop(0)
                rec[n].append((s, v_pre, v_post, i))
                out[n] = s
            else:
                out[n] = static(nd, inp)
        for n, o in out.items():
            if o is not None:
                prev_out[n] = o
    return {n: tuple(np.array([r[k] for r in recs]) for k in range(4)) for n, recs in rec.items() if recs}


# --------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------
def load_case(path_nir):
    """(graph, arrays, type_note): nir.read with its type check, else without it."""
    data = np.load(path_nir[:-4] + ".npz")
    arrays = {k: data[k] for k in data.files}
    try:
        return nir.read(path_nir), arrays, ""
    except ValueError as e:
        return nir.read(path_nir, type_check=False), arrays, f"nir.read type check fails ({e}); read unchecked"


def compare(graph, data, conv: Convention, node_conv=None):
    dt_file = float(data["dt"])
    dt = conv.dt if conv.dt is not None else dt_file
    if not np.isfinite(dt):
        raise ValueError("fixture has no dt and the convention gives none")
    sim = simulate(graph, data["input"], conv, dt, node_conv)
    rows = []
    for key in sorted(k for k in data if k.startswith("spikes__")):
        node = key[len("spikes__"):]
        want = data[key]
        if node not in sim:
            rows.append((node, None, None))
            continue
        s, v_pre, v_post, _ = sim[node]
        s = s.reshape(want.shape)
        match = float(np.mean(s == want))
        vdiff = None
        if "v__" + node in data:
            v = (v_pre if (node_conv or {}).get(node, conv).v_recorded == "pre" else v_post).reshape(want.shape)
            vdiff = float(np.max(np.abs(v - data["v__" + node])))
        rows.append((node, match, vdiff))
    for key in sorted(k for k in data if k.startswith("v__") and "spikes__" + k[3:] not in data):
        node = key[3:]  # non-spiking layer (LI readout): membrane only
        if node in sim:
            v = sim[node][1].reshape(data[key].shape)
            rows.append((node + "(v)", 1.0 if np.allclose(v, data[key], rtol=1e-4, atol=1e-5) else 0.0,
                         float(np.max(np.abs(v - data[key])))))
    return rows


def convention_for(framework, case):
    """(case Convention, {node: Convention}) for a fixture, or (None, {})."""
    base = PROFILES.get(framework)
    if base is None:
        return None, {}
    over = dict(CASE_OVERRIDES.get(f"{framework}/{case}", {}))
    nodes = over.pop("nodes", {})
    over.pop("lost", None)
    over.pop("patch", None)
    over.pop("patch_conv", None)
    over.pop("patch_edges", None)
    conv = replace(base, **over)
    return conv, {n: replace(conv, **o) for n, o in nodes.items()}


def threshold_facts(graph, data, conv, node_conv):
    """Evidence for '>' vs '>=': neuron-steps where the re-simulated pre-reset membrane
    (under the framework's convention) equals the threshold exactly, and how many of
    them the framework spiked at.  Returns [(node, n_equal, n_spiked)]."""
    nodes, _ = flatten_graph(graph)
    dt = conv.dt if conv.dt is not None else float(data["dt"])
    sim = simulate(graph, data["input"], conv, dt, node_conv)
    out = []
    for node, (s_sim, v_pre, _, _) in sim.items():
        if "spikes__" + node not in data or not isinstance(nodes[node], SPIKING):
            continue
        want = data["spikes__" + node]
        thr = np.broadcast_to(np.asarray(nodes[node].v_threshold, v_pre.dtype), v_pre.shape[1:])
        eq = (v_pre == thr).reshape(want.shape)
        if eq.any():
            out.append((node, int(eq.sum()), int((want[eq] > 0).sum())))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("frameworks", nargs="*", help="framework folders to check (default: all)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the case's info JSON")
    args = ap.parse_args(argv)
    frameworks = args.frameworks or sorted(d for d in os.listdir(HERE) if os.path.isdir(os.path.join(HERE, d))
                                           and not d.startswith(("_", ".")))
    all_ok = True
    for fw in frameworks:
        for path in sorted(glob.glob(os.path.join(HERE, fw, "*.nir"))):
            case = os.path.basename(path)[:-4]
            graph, data, type_note = load_case(path)
            info = json.loads(str(data["info"]))
            print(f"{fw}/{case}  ({info.get('framework')} {info.get('version')}, nir {info.get('nir_version')}, "
                  f"dt in npz {float(data['dt']):g})")
            if type_note:
                print("   ", type_note)
            if args.verbose:
                print("   ", info.get("constructor"), "|", info.get("notes"))
            readings = [("nir", replace(NIR_NOMINAL, dt=PROFILES[fw].dt if fw in PROFILES else None))]
            conv, node_conv = convention_for(fw, case)
            if conv is not None:
                readings.append((fw, conv))
            extra = CASE_OVERRIDES.get(f"{fw}/{case}", {})
            if "patch" in extra or "patch_conv" in extra or "patch_edges" in extra:
                readings.append(("patched", replace(conv, **extra.get("patch_conv", {}))))
            for label, cv in readings:
                g = graph
                if label == "patched":
                    g = nir.read(path, type_check=False)
                    def fix_edges(graph):
                        graph.edges = [extra["patch_edges"].get(tuple(e), tuple(e)) for e in graph.edges]
                        for sub in graph.nodes.values():
                            if isinstance(sub, nir.NIRGraph):
                                fix_edges(sub)
                    if "patch_edges" in extra:
                        fix_edges(g)
                    for node, params in extra.get("patch", {}).items():
                        for k, val in params.items():
                            setattr(g.nodes[node], k, np.full_like(getattr(g.nodes[node], k), val))
                rows = compare(g, data, cv, node_conv if label != "nir" else None)
                txt = ", ".join(f"{n}: {'missing' if m is None else f'{100*m:.1f}%'}"
                                + ("" if d is None else f" (|dv|max {d:.2g})") for n, m, d in rows)
                ok = all(m == 1.0 for _, m, _ in rows)
                lost = label == fw and "lost" in extra
                if label == fw and not lost:
                    all_ok &= ok
                status = "OK  " if ok else ("LOST" if lost else "DIFF")
                print(f"   {label:9s} {status} {txt}" + (f"  [{extra['lost']}]" if lost else ""))
            if conv is not None:
                for node, n_eq, n_sp in threshold_facts(graph, data, conv, node_conv):
                    print(f"   threshold {node}: v == v_threshold at {n_eq} neuron-steps, spiked at {n_sp} "
                          f"-> {'>=' if n_sp == n_eq else '>' if n_sp == 0 else 'mixed'}")
    print("all framework conventions reproduce every layer" if all_ok else "some cases differ")
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
