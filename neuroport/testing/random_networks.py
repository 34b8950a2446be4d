"""Seeded random integer (fixed-level) Programs, for bit-identity tests and benchmarks.

:func:`random_fixed_program` builds a Program directly at ``level="fixed"``
(no quantizer), so that it reaches corners a quantizer avoids: ``u``
wrapping, ``v`` saturating, every sign mode, ``num_weight_bits`` 1..8,
``weight_exp`` -8..7, biases with exponents, delays 1..10, populations with
several thresholds. With ``models=`` it also makes neuroport's extension
models (``alif`` with one or two ports, ``condlif``, LIF-family populations
with refractoriness, subtractive reset or a bias on ``u``) and, with
``depression=``, projections with short-term depression, all with the
integer fields of :mod:`neuroport.models`.

Used by ``tests/test_lava.py``, ``tests/test_lava_models.py`` and
``benchmarks/bench_lava.py``; plain numpy, no backend needed.

Examples
--------
>>> from neuroport.testing.random_networks import random_fixed_program, random_inputs
>>> program = random_fixed_program(0, models=("lif", "alif", "condlif"), depression=0.3)
>>> inputs = random_inputs(program, 20, 0)
>>> program.level, sorted(inputs) == sorted(program.inputs)
('fixed', True)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from neuroport.fixed_format import truncate_weights
from neuroport.hardware import LOIHI2
from neuroport.hardware import SIGN_MODES  # noqa: F401  (re-exported in __all__)
from neuroport.models import neurons
from neuroport.program import Population, Program, Projection

FIXED_OPTIONS = {"dt": 1e-3, "scheme": "euler", "reset": "zero", "timing": "hardware", "hardware": "loihi2"}
#: Population kinds :func:`random_fixed_program` can make.
KINDS = ("lif", "lif_ext", "alif", "condlif")
#: Fraction bits of the fixed-point depression (``HardwareSpec.depression_bits``).
DEPRESSION_BITS = 16
_SIGNED24 = (1 << 23) - 1


def random_fixed_program(seed: int, *, max_neurons: int = 200, aligned: bool = True, models=("lif",),
                         depression: float = 0.0) -> Program:
    """A seeded random integer Program.

    Parameters
    ----------
    seed : int
    max_neurons : int
        Upper bound on the neurons of all populations together.
    aligned : bool
        ``True`` gives weight mantissas that Lava's ``clip_weights`` /
        ``truncate_weights`` keep unchanged (what ``neuroport.quantize`` makes);
        ``False`` gives raw 9-bit values that Lava clips and truncates.
    models : tuple of str
        Kinds the populations are drawn from (:data:`KINDS`). The default
        ``("lif",)`` gives exactly the networks of earlier versions (same seeds,
        same networks): 1-4 LIF populations (5-80 neurons), random
        ``du``/``dv``/``vth``/biases (a third with two thresholds), E, I and
        mixed projections, recurrent edges, per-synapse delays 1..10.
    depression : float
        Probability that a projection has short-term depression (integer
        ``recover``/``u_se`` in ``[0, 2**16]``, ``weight_exp`` lowered by 16 as
        the quantizer does).

    Returns
    -------
    Program
        ``level="fixed"``, probing every state of every population.
    """
    unknown = set(models) - set(KINDS)
    if unknown:
        raise ValueError(f"models: unknown kind(s) {sorted(unknown)}; choose from {KINDS}")
    rng = np.random.default_rng(seed)
    ext = np.random.default_rng([seed, 7919])  # extension draws: the base networks stay as they were
    n_in = int(rng.integers(5, 31))
    sizes = []
    for _ in range(int(rng.integers(1, 5))):
        n = int(rng.integers(5, 81))
        if sum(sizes) + n > max_neurons:
            break
        sizes.append(n)
    sizes = sizes or [int(rng.integers(5, 41))]
    pops = {"x": Population("x", n_in, "input", {}, "state", np.zeros(n_in), (n_in,))}
    names = []
    for k, n in enumerate(sizes):
        name = f"p{k}"
        vth = np.full(n, int(np.exp(rng.uniform(np.log(20), np.log(30000)))))
        if rng.random() < 0.33:
            vth[rng.random(n) < 0.5] = int(rng.integers(20, 3000))
        bias = (rng.integers(-300, 600, n) if rng.random() < 0.4 else np.zeros(n, np.int64))
        params = {
            "du": np.full(n, int(rng.choice([0, rng.integers(0, 4096), 4095]))),
            "dv": np.full(n, int(rng.choice([0, rng.integers(0, 600), rng.integers(0, 4096)]))),
            "vth": vth.astype(np.int64),
            "bias_mant": bias.astype(np.int64),
            "bias_exp": rng.integers(0, 8, n).astype(np.int64),
            "refractory": np.zeros(n, np.int64),
        }
        kind = "lif" if tuple(models) == ("lif",) else str(ext.choice(list(models)))
        pops[name] = _population(name, n, kind, params, ext)
        names.append(name)
    projections = []
    for post in names:
        sources = ["x"] + [p for p in names if rng.random() < 0.5]
        for pre in sources:
            n_post, n_pre = pops[post].size, pops[pre].size
            mask = rng.random((n_post, n_pre)) < rng.uniform(0.05, 0.6)
            if pre == post:
                np.fill_diagonal(mask, False)
            if not mask.any():
                continue
            mode = SIGN_MODES[0] if pre == "x" else str(rng.choice(SIGN_MODES))
            nwb = int(rng.integers(1, 9))
            if aligned:
                w = _aligned(rng.integers(*{"EXCITATORY": (0, 256), "INHIBITORY": (-255, 1),
                                            "MIXED": (-256, 256)}[mode], mask.sum()), mode, nwb)
            else:
                w = rng.integers(-400, 400, mask.sum())
                if mode == "EXCITATORY":
                    w = np.abs(w)
                elif mode == "INHIBITORY":
                    w = -np.abs(w)
            rows, cols = np.nonzero(mask)
            weights = sp.csr_matrix((w.astype(np.int64), (rows, cols)), shape=(n_post, n_pre))
            weights.sort_indices()
            delays = rng.integers(1, 11, weights.nnz) if rng.random() < 0.6 else np.ones(weights.nnz, np.int64)
            extra = {"weight_exp": int(rng.integers(-8, 8)) if pre != "x" else int(rng.integers(0, 8)),
                     "num_weight_bits": nwb, "sign_mode": mode}
            projections += _extend_projection(f"{pre}->{post}", pre, post, weights, delays.astype(np.int64),
                                              extra, pops, depression, aligned, ext)
    order = {n: pops[n] for n in names + ["x"]}
    probes = tuple((n, v) for n in names for v in _states(pops[n]))
    return Program(order, tuple(projections), ("x",), {names[-1]: names[-1]}, probes, dict(FIXED_OPTIONS), "fixed")


def _aligned(w: np.ndarray, mode: str, nwb: int) -> np.ndarray:
    """Mantissas that Lava's clip_weights / truncate_weights leave unchanged."""
    return truncate_weights(w, mode, nwb, LOIHI2)


def _states(pop) -> tuple:
    return neurons.state_names(pop)


def _population(name, n, kind, params, ext) -> Population:
    """A fixed Population of ``kind`` (the LIF draws in ``params`` are reused where they fit)."""
    extra = {"reset": "zero", "scale": 1.0}
    if kind == "lif":
        return Population(name, n, "lif", params, "spikes", np.zeros(n), (n,), extra)
    p = dict(params)
    vth = ext.integers(20, 30000, n).astype(np.int64)  # per neuron: the custom processes are never split
    p["vth"] = vth
    extra["reset"] = "subtract" if ext.random() < 0.4 else "zero"
    p["refractory"] = ext.integers(0, 6, n).astype(np.int64) if ext.random() < 0.6 else np.zeros(n, np.int64)
    if kind == "lif_ext":
        if ext.random() < 0.4:
            p["u_bias_mant"] = ext.integers(-200, 200, n).astype(np.int64)
            p["u_bias_exp"] = ext.integers(0, 8, n).astype(np.int64)
        elif extra["reset"] == "zero" and not p["refractory"].any():
            p["refractory"][:] = 1 + ext.integers(0, 4, n)
        return Population(name, n, str(ext.choice(["lif", "cubalif"])), p, "spikes", np.zeros(n), (n,), extra)
    scale = vth << 6
    p["theta_decay"] = ext.choice([0, ext.integers(1, 600), 4095], n).astype(np.int64)
    p["theta_plus"] = (scale * ext.uniform(-0.1, 0.6, n)).astype(np.int64)
    p["theta_init"] = (scale * ext.uniform(0, 0.5, n)).astype(np.int64) if ext.random() < 0.5 else np.zeros(n, np.int64)
    p["v_init"] = (scale * ext.uniform(-0.5, 1.0, n)).astype(np.int64) if ext.random() < 0.5 else np.zeros(n, np.int64)
    if kind == "alif":
        p["du_inh"] = ext.choice([0, ext.integers(0, 4096), 4095], n).astype(np.int64)
        p["w_decay"] = ext.choice([0, ext.integers(1, 600)], n).astype(np.int64)
        p["w_plus"] = (scale * ext.uniform(-0.2, 0.5, n)).astype(np.int64)
        p["u_bias_mant"] = ext.integers(-100, 100, n).astype(np.int64) if ext.random() < 0.3 else np.zeros(n, np.int64)
        p["u_bias_exp"] = ext.integers(0, 8, n).astype(np.int64)
        if ext.random() < 0.5:
            extra["ports"] = ("exc", "inh")
        return Population(name, n, "alif", p, "spikes", np.zeros(n), (n,), extra)
    # condlif: conductances G = dv * g * 2**F with F = g_shift; reversal potentials in v units
    p.pop("du")
    f = int(ext.integers(12, 24))
    p.update({
        "de": ext.integers(1, 4096, n).astype(np.int64), "di": ext.integers(1, 4096, n).astype(np.int64),
        "da": ext.choice([0, ext.integers(1, 400)], n).astype(np.int64),
        "g_shift": np.full(n, f, dtype=np.int64),
        "e_exc": np.minimum(scale * ext.uniform(1.2, 4.0, n), _SIGNED24).astype(np.int64),
        "e_inh": (-scale * ext.uniform(0.0, 2.0, n)).astype(np.int64),
        "e_adapt": (-scale * ext.uniform(0.0, 2.0, n)).astype(np.int64),
        "b_adapt": ((1 << f) * ext.uniform(0, 0.2, n)).astype(np.int64),
        "g_exc_init": ((1 << f) * ext.uniform(-0.1, 0.3, n)).astype(np.int64) if ext.random() < 0.4
        else np.zeros(n, np.int64),
        "g_inh_init": ((1 << f) * ext.uniform(-0.1, 0.3, n)).astype(np.int64) if ext.random() < 0.4
        else np.zeros(n, np.int64),
    })
    extra["ports"] = ("exc", "inh")
    return Population(name, n, "condlif", p, "spikes", np.zeros(n), (n,), extra)


def _extend_projection(name, pre, post, weights, delays, extra, pops, depression, aligned, ext) -> list:
    """One projection, or its ``exc``/``inh`` halves for a two-port post; maybe with depression."""
    post_pop = pops[post]
    if post_pop.model == "condlif":  # conductance increments: keep G well below 2**g_shift per spike
        extra["weight_exp"] = int(ext.integers(-8, 1))
    if depression and ext.random() < depression:
        n_pre = pops[pre].size
        unity = 1 << DEPRESSION_BITS
        extra["depression"] = {"node": f"{name}.depression", "bits": DEPRESSION_BITS,
                               "recover": ext.integers(0, unity // 4, n_pre).astype(np.int64),
                               "u_se": ext.integers(1, unity + 1, n_pre).astype(np.int64)}
        extra["weight_exp"] = int(extra["weight_exp"]) - DEPRESSION_BITS
    ports = post_pop.ports
    if ports == ("input",):
        return [Projection(name, pre, post, weights, delays, extra)]
    out = []
    rows = np.repeat(np.arange(weights.shape[0]), np.diff(weights.indptr))
    nwb = int(extra["num_weight_bits"])
    for port, keep, sign in (("exc", weights.data >= 0, 1), ("inh", weights.data < 0, -1)):
        if not keep.any():
            continue
        mag = np.minimum(sign * weights.data[keep], 255)
        if aligned:
            mag = _aligned(mag, "EXCITATORY", nwb)
        order = np.lexsort((weights.indices[keep], rows[keep]))
        sub = sp.csr_matrix((mag[order], (rows[keep][order], weights.indices[keep][order])), shape=weights.shape)
        out.append(Projection(f"{name}:{port}", pre, post, sub, delays[keep][order],
                              {**extra, "port": port, "sign_mode": "EXCITATORY"}))
    return out


def random_inputs(program, steps: int, seed: int) -> dict:
    """Seeded 0/1 spike inputs ``{input name: (steps, size)}`` at one random rate in [0.05, 0.5]."""
    rng = np.random.default_rng(seed + 10_000)
    rate = rng.uniform(0.05, 0.5)
    return {name: (rng.random((steps, program.populations[name].size)) < rate).astype(float)
            for name in program.inputs}


def union(programs) -> Program:
    """Several Programs as one (names prefixed ``n<k>/``): one Lava start-up for all."""
    pops, projs, inputs, probes = {}, [], [], []
    for k, p in enumerate(programs):
        pre = f"n{k}/"
        for pop in p.populations.values():
            pops[pre + pop.name] = Population(pre + pop.name, pop.size, pop.model, pop.params, pop.emits,
                                              pop.v_offset, pop.shape, pop.extra)
        for q in p.projections:
            extra = dict(q.extra)
            if extra.get("depression") is not None:
                extra["depression"] = {**extra["depression"], "node": pre + str(extra["depression"].get("node"))}
            projs.append(Projection(pre + q.name, pre + q.pre, pre + q.post, q.weights, q.delays, extra))
        inputs += [pre + n for n in p.inputs]
        probes += [(pre + n, v) for n, v in p.probes]
    first = programs[0]
    return Program(pops, tuple(projs), tuple(inputs), {}, tuple(probes), dict(first.options), first.level)


def union_inputs(programs, inputs_list) -> dict:
    """The inputs of :func:`union` ``(programs)``."""
    return {f"n{k}/{name}": arr for k, ins in enumerate(inputs_list) for name, arr in ins.items()}


__all__ = ["random_fixed_program", "random_inputs", "union", "union_inputs", "FIXED_OPTIONS", "SIGN_MODES", "KINDS"]
