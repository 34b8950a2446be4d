"""Import profiles: the conventions of the tool that exported a NIR graph.

NIR records no time step and none of the per-node conventions of
:mod:`neuroport.semantics`. A profile states them for one exporter and
:func:`apply` writes them into a copy of the graph, node by node (node
metadata ``neuroport.reset`` and friends), so the compiled Program, and any
file written from the graph, say exactly what ran. Where an exporter writes
parameters in a unit of its own (Norse's time constants), the profile
rewrites them and says so (the returned notes and a :class:`UserWarning`);
it never changes a parameter silently.

``compile(graph, profile="snntorch", reset="zero")`` applies a profile with
an override: ``reset`` names the *exporter's* reset mechanism, which the
profile translates per node (snnTorch's ``zero`` is NIR's reset on ``Leaky``
but ``zero_hold`` on ``Synaptic``/``RLeaky``/``RSynaptic``).
:func:`detect` recognises exporters by the fingerprints their files carry
(``neuroport info`` prints its suggestion).
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from typing import Callable

import nir
import numpy as np

from neuroport.errors import CompileError
from neuroport import semantics

#: NIR neuron node types a profile gives conventions to.
NEURONS = (nir.LIF, nir.CubaLIF, nir.IF, nir.LI, nir.CubaLI, nir.I)
_TAU_FIELDS = ("tau", "tau_mem", "tau_syn")


@dataclass(frozen=True)
class Profile:
    """One exporter's conventions.

    Attributes
    ----------
    name, doc : str
    dt : float
        The step (s) the exporter's parameters assume.
    scheme, timing, reset : str
        Compile options (``reset``: the exporter's default reset mechanism, before :attr:`rules`).
    rules : callable
        ``rules(kind, recurrent, reset, overrides) -> dict`` of per-node conventions for a neuron
        node of NIR type name ``kind`` (``recurrent``: it feeds itself through a weight node).
    tau_correction : callable or None
        ``tau_correction(tau_values, dt) -> factor`` (1.0: none) for exporters that write time
        constants in another unit.
    corrections : callable or None
        ``corrections(kind, node, dt) -> ({field: values}, reason)`` for exporters whose written
        gains (``r``, ``w_in``) do not give the per-step input their framework computes (recognised by
        the exporter's formula, so a graph written otherwise is left alone); the fields are replaced,
        warned and recorded (node metadata ``neuroport.corrected``).
    overrides : tuple of str
        Keyword overrides the profile understands besides ``reset``.
    """

    name: str
    doc: str
    dt: float
    scheme: str = "euler"
    timing: str = "ideal"
    reset: str = "zero"
    rules: Callable = None
    tau_correction: Callable | None = None
    overrides: tuple = ()
    resets: tuple = ("zero", "subtract")
    corrections: Callable | None = None
    verified: dict = field(default_factory=dict)

    def options(self) -> dict:
        """The compile options the profile sets (``dt``, ``scheme``, ``reset``, ``timing``)."""
        return {"dt": self.dt, "scheme": self.scheme, "reset": "zero", "timing": self.timing}

    def __getitem__(self, key):  # old code read PROFILES[name]["dt"] / ["doc"]
        return {"doc": self.doc, **self.options()}[key]


def _nir_rules(kind, recurrent, reset, o):
    return {"reset": reset}


def _snntorch_rules(kind, recurrent, reset, o):
    """snnTorch 0.9/1.0 (``reset_delay=True``, its default): the reset is applied at the next step
    from the stored, unreset membrane; ``Leaky``'s ``zero`` zeroes ``v`` before the decay (NIR's
    reset), ``Synaptic``/``RLeaky``/``RSynaptic``'s zeroes the whole next value."""
    if not o.get("reset_delay", True):  # the spike's own step resets; snnTorch's correction for subtract
        return {"reset": "subtract_no_delay" if reset == "subtract" else reset}
    if reset == "subtract":
        return {"reset": "subtract_undecayed"}
    if reset == "zero" and (kind == "CubaLIF" or recurrent):
        return {"reset": "zero_hold"}
    return {"reset": reset}


def _norse_rules(kind, recurrent, reset, o):
    """Norse 1.1 (measured, tests/data/interop/README.md): ``LIFCell`` (exported as ``CubaLIF``) adds
    its input to the current as a jump (no ``dt / tau_syn``) and the membrane integrates that current
    in the same step; ``IAFCell`` (``IF``) adds its input to ``v`` as it is; ``LIFBoxCell`` /
    ``LIBoxCell`` integrate by Euler; reset to ``v_reset``, spike where ``v > v_th``."""
    return {"reset": reset, "input": "jump" if kind in ("CubaLIF", "CubaLI", "IF", "I") else "euler"}


def _norse_tau(tau, dt):
    """Norse 1.1 writes ``tau = dt / tau_inv`` (dt times too small; Norse issue 411): a node whose every
    time constant is below one step cannot be meant, and is scaled by ``1 / dt``."""
    return 1.0 / dt if tau.size and float(np.max(tau)) < dt else 1.0


def _sinabs_rules(kind, recurrent, reset, o):
    """Sinabs 3.x ``IAF``/``LIF`` (measured, tests/data/interop/README.md): ``MultiSpike``
    (``floor(v / v_th)`` spikes, so ``v >= v_th`` fires) and ``MembraneSubtract`` by default; ``IAF``
    adds its input to ``v`` as it is; ``LIF`` decays exactly, ``v = e v + (1 - e) I`` with ``e = exp(-1 /
    tau_mem)`` and ``tau_mem`` in steps (the profile's ``dt = 1`` and ``scheme="exact"``)."""
    return {"reset": reset, "spikes": o.get("spikes", "multi"), "threshold": "ge",
            "input": "jump" if kind in ("IF", "I") else "euler"}


def _rockpool_rules(kind, recurrent, reset, o):
    """Rockpool 3.1 ``LIFTorch`` / ``LIFNeuronTorch`` / ``ExpSynTorch`` (measured): exponential decay
    (``scheme="exact"``), subtractive reset, ``v >= v_th`` fires, up to ``floor(v / v_th)`` spikes per step;
    the written gains are corrected by :func:`_rockpool_gains`."""
    return {"reset": reset, "spikes": o.get("spikes", "multi"), "threshold": "ge", "input": "euler"}


def _tau(node, field):
    return np.asarray(getattr(node, field), dtype=np.float64)


def _rockpool_gains(kind, node, dt):
    """Rockpool writes ``r = tau e / dt`` (``e = exp(-dt / tau)``) and ``w_in = 1``, while its modules
    compute ``v = e v + I`` (``LIFNeuronTorch``), ``i = a (i + I)``, ``v = e v + i`` (``LIFTorch``, ``a =
    exp(-dt / tau_syn)``) and ``v = e (v + I)`` (``ExpSynTorch``). Under NIR's exact step
    (``v = e v + (1 - e) r I``, ``i = a i + (1 - a) w_in I``) those are ``r = 1 / (1 - e)`` for the
    spiking nodes, ``r = e / (1 - e)`` for the leaky integrator and ``w_in = a / (1 - a)``. A node whose
    ``r`` is not Rockpool's ``tau e / dt`` (to float32 precision) is left as written."""
    tau_field = "tau_mem" if kind in ("CubaLIF", "CubaLI") else "tau"
    if not hasattr(node, tau_field) or getattr(node, "r", None) is None:
        return {}, ""
    tau = _tau(node, tau_field)
    e = np.exp(-dt / tau)
    if not np.allclose(np.asarray(node.r, dtype=np.float64), tau * e / dt, rtol=1e-5):
        return {}, ""
    one_minus_e = -np.expm1(-dt / tau)
    out = {"r": (1.0 if kind in ("LIF", "CubaLIF") else e) / one_minus_e}
    if kind in ("CubaLIF", "CubaLI"):
        if not np.allclose(np.asarray(node.w_in, dtype=np.float64), 1.0):
            return {}, ""
        a_syn = np.exp(-dt / _tau(node, "tau_syn"))
        out["w_in"] = a_syn / -np.expm1(-dt / _tau(node, "tau_syn"))
    why = ("Rockpool writes r = tau exp(-dt/tau) / dt" + (" and w_in = 1" if "w_in" in out else "")
           + "; its module computes " + {"LIF": "v = e v + I", "CubaLIF": "i = a (i + I), v = e v + i",
                                         "LI": "v = e (v + I)", "CubaLI": "i = a (i + I), v = e v + i"}[kind])
    return out, why


def _spyx_rules(kind, recurrent, reset, o):
    """Spyx 1.0 (measured): snnTorch's membrane (``V = beta V + I - thr s``, the subtraction not
    decayed), each layer's spike taken from the previous step's membrane (one step per layer: the
    profile's ``timing="hardware"``); ``IF`` with ``r = 1`` adds its input as it is."""
    return {"reset": "subtract_undecayed" if reset == "subtract" else reset,
            "input": "jump" if kind in ("IF", "I") else "euler"}


def _spyx_gains(kind, node, dt):
    """Spyx writes ``tau = dt / (1 - beta)`` but ``r = beta``; its membrane adds the input with gain 1,
    which NIR's Euler step gives with ``r = tau / dt``. A node whose ``r`` is not ``1 - dt / tau`` is left
    as written."""
    if kind not in ("LIF", "CubaLIF", "LI", "CubaLI"):
        return {}, ""
    tau = _tau(node, "tau" if hasattr(node, "tau") else "tau_mem")
    if not np.allclose(np.asarray(node.r, dtype=np.float64), 1.0 - dt / tau, rtol=1e-5):
        return {}, ""
    return {"r": tau / dt}, "Spyx writes r = beta = 1 - dt/tau; its membrane adds the input with gain 1"


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("nir-paper", "NIR paper reference: forward Euler, dt = 0.1 ms, reset to v_reset, feed-forward "
            "edges in the same step", 1e-4, rules=_nir_rules),
    Profile("snntorch", "snnTorch export_to_nir: dt = 1e-4 s (tau = dt / (1 - beta), r = tau / dt, "
            "w_in = tau_syn / dt), reset applied from the stored membrane in the next step "
            "(reset_delay=True); reset mechanism 'subtract' (snnTorch's default) unless reset='zero'",
            1e-4, reset="subtract", rules=_snntorch_rules, overrides=("reset_delay",)),
    Profile("norse", "Norse 1.1 to_nir: dt = 1 ms, reset to v_reset, LIFCell's input jumps into the "
            "current and IAFCell's into v; time constants written dt times too small are corrected", 1e-3,
            rules=_norse_rules, tau_correction=_norse_tau),
    Profile("sinabs", "Sinabs to_nir: dt = 1 step (tau_mem in steps), exact exponential decay, IAF adds its "
            "input to v, several spikes per step (MultiSpike, v >= v_th), reset by subtraction; "
            "spikes='single' and reset='zero' for SingleSpike / MembraneReset, which the file does not record",
            1.0, scheme="exact", reset="subtract", rules=_sinabs_rules, overrides=("spikes",)),
    Profile("rockpool", "Rockpool to_nir: dt = 1 ms (not written), exponential decay, v >= v_th, several spikes "
            "per step, reset by subtraction; the written r and w_in are corrected to the modules' input gains",
            1e-3, scheme="exact", reset="subtract", rules=_rockpool_rules, overrides=("spikes",),
            corrections=_rockpool_gains),
    Profile("spyx", "Spyx to_nir: dt = 1 step, snnTorch's undecayed subtractive reset, one step of latency per "
            "layer (hardware timing: the spikes come out at the framework's own steps), r = beta corrected "
            "to tau / dt", 1.0, timing="hardware", reset="subtract", rules=_spyx_rules, corrections=_spyx_gains),
    Profile("lava-dl", "lava-dl netx export: 1 ms steps, one step of latency per layer (hardware timing), "
            "reset to zero", 1e-3, timing="hardware", rules=_nir_rules),
)}


def get(name: str) -> Profile:
    """The profile ``name`` (:class:`~neuroport.errors.CompileError` naming the known ones otherwise)."""
    try:
        return PROFILES[name]
    except KeyError:
        raise CompileError(f"unknown profile {name!r}; choose one of: {', '.join(PROFILES)}") from None


def _recurrent(name: str, flat_nodes: dict, flat_edges: list) -> bool:
    """Whether node ``name`` reaches itself through non-neuron nodes (``lif1.lif -> lif1.w_rec -> lif1.lif``)."""
    succ = {}
    for a, b in flat_edges:
        succ.setdefault(a, []).append(b)
    seen, todo = set(), list(succ.get(name, []))
    while todo:
        n = todo.pop()
        if n == name:
            return True
        if n in seen or n not in flat_nodes:
            continue
        seen.add(n)
        if not isinstance(flat_nodes[n], NEURONS):
            todo.extend(succ.get(n, []))
    return False


def apply(graph, name: str, *, reset: str | None = None, **overrides):
    """A copy of ``graph`` with profile ``name``'s conventions written into every neuron node.

    Parameters
    ----------
    graph : nir.NIRGraph
    name : str
        A key of :data:`PROFILES`.
    reset : str, optional
        The exporter's reset mechanism (``"zero"``, ``"subtract"``), translated per node by the
        profile; or one of :data:`neuroport.semantics.RESETS` applied to every node as it is.
    **overrides
        Profile-specific (``reset_delay=False`` for snnTorch, ``spikes="single"`` for Sinabs), or
        conventions applied to every neuron node as they are (``threshold="ge"``, ``input="jump"``).

    Returns
    -------
    (nir.NIRGraph, list of str)
        The annotated copy and what was set or rewritten (one line per change of parameters).

    Nodes that already record a convention (a graph neuroport wrote) keep it unless it is overridden.
    """
    from neuroport.structure import inline_subgraphs

    prof = get(name)
    known = set(prof.overrides) | set(semantics.VALUES)
    bad = sorted(set(overrides) - known)
    if bad:
        raise CompileError(f"profile {name!r}: unknown override(s) {', '.join(bad)}; it takes reset= and "
                           f"{', '.join(sorted(known - {'reset'}))}")
    exact = reset in semantics.RESETS and reset not in prof.resets
    mechanism = prof.reset if reset is None or exact else reset
    if mechanism not in prof.resets:
        raise CompileError(f"profile {name!r}: reset={reset!r}; the exporter's mechanisms are "
                           f"{', '.join(prof.resets)} (or one of {', '.join(semantics.RESETS)} for every node)")
    graph = copy.deepcopy(graph)
    flat_nodes, flat_edges = inline_subgraphs(graph)
    notes, rewritten = [f"profile {name!r}: {prof.doc}"], []
    for full, node in flat_nodes.items():
        if not isinstance(node, NEURONS):
            continue
        kind = type(node).__name__
        conv = prof.rules(kind, _recurrent(full, flat_nodes, flat_edges), mechanism, overrides)
        if exact:
            conv["reset"] = reset
        for key in semantics.VALUES:
            if key in overrides and key in semantics.VALUES and overrides[key] is not None:
                conv[key] = overrides[key]
        have = semantics.recorded(node)
        explicit = ({"reset"} if reset is not None else set()) | {k for k in overrides if k in semantics.VALUES}
        conv = {k: v for k, v in conv.items() if k not in have or k in explicit}
        if kind in ("LI", "CubaLI", "I"):
            conv.pop("reset", None)
            conv.pop("spikes", None)
            conv.pop("threshold", None)
        semantics.annotate(node, **conv)
        if prof.tau_correction is not None and "neuroport.tau_scale" not in (node.metadata or {}):
            taus = np.concatenate([np.asarray(getattr(node, f), dtype=float).reshape(-1)
                                   for f in _TAU_FIELDS if getattr(node, f, None) is not None] or [np.zeros(0)])
            factor = prof.tau_correction(taus, prof.dt)
            if factor != 1.0:
                for f in _TAU_FIELDS:
                    if getattr(node, f, None) is not None:
                        setattr(node, f, np.asarray(getattr(node, f), dtype=float) * factor)
                semantics.annotate(node, tau_scale=factor)
                rewritten.append(f"{full}: time constants multiplied by {factor:g} (written "
                                 f"{taus.min():.3g}..{taus.max():.3g} s, below one step of {prof.dt} s)")
        if prof.corrections is not None and "neuroport.corrected" not in (node.metadata or {}):
            values, why = prof.corrections(kind, node, prof.dt)
            for f, value in values.items():  # float64: a float32 copy would lose the gain's last digit
                written = np.asarray(getattr(node, f), dtype=np.float64)
                setattr(node, f, np.broadcast_to(value, written.shape).astype(np.float64))
                rewritten.append(f"{full}: {f} {written.min():.6g}..{written.max():.6g} replaced by "
                                 f"{np.min(value):.6g}..{np.max(value):.6g}")
            if values:
                node.metadata = {**(node.metadata or {}), "neuroport.corrected": ",".join(values)}
                rewritten[-1] += f" ({why})"
        if conv:
            notes.append(f"{full} ({kind}): {semantics.describe({**semantics.DEFAULTS, **conv})}")
    if rewritten:
        warnings.warn(f"profile {name!r} rewrote parameters: " + "; ".join(rewritten), UserWarning, stacklevel=3)
    return graph, notes + rewritten


# ----------------------------------------------------------------- fingerprints
def detect(graph, *, nir_version: str | None = None) -> list:
    """``[(profile name, reason), ...]`` the graph's parameters point to, most likely first.

    Fingerprints (each measured on the exporter's own files, ``tests/data/interop``): snnTorch's
    ``r = tau / 1e-4`` (and ``w_in = tau_syn / 1e-4``) and its flattened recurrent names (``lif1.w_rec``);
    Rockpool's ``r = tau exp(-1e-3 / tau) / 1e-3``; Spyx's ``r = 1 - 1 / tau`` (``r = beta`` at dt = 1) and
    its nested ``NIRGraph`` nodes; Norse's ``r = 1`` with sub-millisecond time constants (or ``IF`` in a
    file of nir > 1.0.4); Sinabs' ``r = 1`` with time constants in steps (>= 1) or ``IF`` nodes, numbered
    node names and files of nir <= 1.0.4 (Sinabs 3.1 pins it).
    """
    from neuroport.structure import inline_subgraphs

    nodes, _ = inline_subgraphs(graph)
    lifs = {n: v for n, v in nodes.items() if isinstance(v, (nir.LIF, nir.CubaLIF))}
    ifs = {n: v for n, v in nodes.items() if isinstance(v, nir.IF)}
    nested = any(isinstance(v, nir.NIRGraph) for v in graph.nodes.values())
    old = None if nir_version is None else _version_tuple(nir_version) <= (1, 0, 4)
    numbered = all(n.split(".")[-1].isdigit() or isinstance(nodes[n], (nir.Input, nir.Output)) for n in nodes)
    found = []  # (score, name, reason)

    def arr(node, f):
        return np.asarray(getattr(node, f, np.nan), dtype=float).reshape(-1)

    def close(a, b):
        return bool(a.size and b.size and np.allclose(a, b, rtol=1e-3))

    def tau(v):
        return arr(v, "tau" if isinstance(v, nir.LIF) else "tau_mem")

    def every(pred):
        return bool(lifs) and all(pred(v) for v in lifs.values())

    if every(lambda v: close(arr(v, "r"), tau(v) / 1e-4)
             and (isinstance(v, nir.LIF) or close(arr(v, "w_in"), arr(v, "tau_syn") / 1e-4))):
        dotted = [n for n in nodes if n.endswith(".w_rec")]
        found.append((3, "snntorch", "every LIF/CubaLIF has r = tau / 1e-4 s" + (" and w_in = tau_syn / 1e-4 s"
                      if any(isinstance(v, nir.CubaLIF) for v in lifs.values()) else "")
                      + (f"; recurrent layers flattened as {dotted[0]}" if dotted else "")
                      + "; the reset mechanism is not recorded (snnTorch's default: subtract)"))
    if every(lambda v: close(arr(v, "r"), tau(v) * np.exp(-1e-3 / tau(v)) / 1e-3)):
        found.append((3, "rockpool", "every LIF/CubaLIF has r = tau exp(-dt/tau) / dt with dt = 1 ms: "
                      "Rockpool folds its decay into r (the profile puts the modules' gains back)"))
    if every(lambda v: np.all(tau(v) > 1) and close(arr(v, "r"), 1.0 - 1.0 / tau(v))):
        found.append((3 + nested, "spyx", "every LIF has r = 1 - 1/tau (Spyx writes r = beta, dt = 1 step)"
                      + ("; a nested NIRGraph node (Spyx nests its recurrent layers)" if nested else "")))
    elif nested:
        found.append((1, "spyx", "a nested NIRGraph node (Spyx nests its recurrent layers)"))
    if every(lambda v: np.all(arr(v, "r") == 1)):
        taus = np.concatenate([arr(v, f) for v in lifs.values() for f in _TAU_FIELDS if hasattr(v, f)])
        if taus.size and taus.max() < 1e-3:
            found.append((3, "norse", f"r = 1 and sub-millisecond time constants ({taus.min():.3g}.."
                          f"{taus.max():.3g} s): Norse 1.1 writes tau = dt / tau_inv (the profile corrects it)"))
        elif taus.size and taus.min() >= 1:
            found.append((2 + bool(old) + numbered, "sinabs", f"r = 1 and time constants of {taus.min():.3g}.."
                          f"{taus.max():.3g}: Sinabs writes tau_mem in steps" + (", numbered node names" if numbered else "")))
        else:
            found.append((1, "norse", "r = 1 (and w_in = 1): Norse's parameters"))
    if ifs and all(np.all(arr(v, "r") == 1) for v in ifs.values()) and not lifs:
        why = "IF nodes with r = 1 (an input added per step)" + (", numbered node names" if numbered else "")
        if old:
            found.append((3, "sinabs", why + f", written by nir {nir_version} (Sinabs pins nir <= 1.0.4)"))
        elif old is False:
            found.append((2, "norse", why + f", written by nir {nir_version} (Norse's IAFCell; Sinabs 3.1 "
                          "writes nir <= 1.0.4)"))
            found.append((1, "sinabs", why))
        else:
            found.append((2, "sinabs", why))
            found.append((1, "norse", why + " (Norse's IAFCell)"))
    if not found and lifs:
        found.append((0, "nir-paper", "no exporter fingerprint: NIR's reference conventions"))
    found.sort(key=lambda f: -f[0])  # stable: ties keep the order above
    out, seen = [], set()
    for _, name, why in found:
        if name not in seen:
            seen.add(name)
            out.append((name, why))
    return out


def _version_tuple(text: str) -> tuple:
    parts = []
    for piece in str(text).split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)
