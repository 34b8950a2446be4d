"""Ideal timing on pipelined hardware: compensating delays and per-population latency.

With ``timing="ideal"`` (snnTorch, Norse and the other training frameworks)
a feed-forward projection delivers in the step its source fires (graph delay
``d``, often 0) and a recurrent one one step later. Loihi 2 (and Lava's
``Dense``) needs every projection to take at least one step. :func:`compensate`
turns an ideal-timing Program into a hardware-timing one that computes the
same thing: each population ``p`` gets a latency ``L[p] >= 0`` (inputs 0) and
every synapse of a projection ``pre -> post`` the delay

.. math::

    d_{hw} = d + L[post] - L[pre] \\ge 1,

so that population ``p`` of the hardware program at step ``t + L[p]`` is
exactly population ``p`` of the ideal program at step ``t``: its spikes are
shifted by ``L[p]`` steps, its dynamics are untouched. The smallest latencies
are the longest paths of the constraint ``L[post] >= L[pre] + 1 - min(d)``
(Bellman-Ford): a layered network gets its depth, a skip connection a delay
that waits for the longer branch, and a self-loop (``d = 1``) keeps its
one-step delay (``d_hw = 1``).

No compensation exists, and :func:`compensate` refuses with the reason, when

* a loop takes fewer steps in ideal timing than it has projections: the
  hardware adds a step per projection, which would lengthen the loop (a
  recurrent E -> I -> E loop whose ideal delays sum to 1);
* a population with ``L > 0`` is not at rest without input even with its
  bias held back (an initial state away from the reset value, which moves on
  its own): on the hardware it would start ``L`` steps before its first input
  arrives. A constant bias (an ``Affine`` bias, a leak level other than the
  reset value) is compensated: the population's bias is held at 0 until step
  ``L`` (``extra["bias_onset"]``; every engine, and Lava through neuroport's
  ALIF process, honours it);
* a plastic projection would need a delay other than 1 (``LearningDense``
  has none) or pairs pre and post spikes whose relative timing the latency
  changes.

``program.options["latency"]`` (and ``Result.meta["latency"]``, read by
:func:`latency`) holds ``{population: L}``; :func:`neuroport.compare` shifts
compensated results back by it (:func:`align`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neuroport.errors import CompileError
from neuroport.program import FixedProgram, Projection

__all__ = ["compensate", "latencies", "latency", "align", "for_hardware"]


def _constraints(program) -> list:
    """``(pre, post, weight, projection)``: ``L[post] >= L[pre] + weight`` per projection with synapses."""
    out = []
    for proj in program.projections:
        if proj.nnz:
            out.append((proj.pre, proj.post, 1 - int(proj.delays.min()), proj))
    return out


def _loop(pred: dict, start: str) -> list:
    """The cycle reached by following ``pred`` (population -> projection) back from ``start``."""
    at = start
    for _ in range(len(pred) + 1):  # step back far enough to be on the cycle
        at = pred[at].pre
    loop, node = [], at
    while True:
        proj = pred[node]
        loop.append(proj)
        node = proj.pre
        if node == at:
            break
    return loop[::-1]


def latencies(program) -> dict:
    """The smallest latency (steps) of every population that makes every compensated delay >= 1.

    Raises
    ------
    CompileError
        For a loop the hardware would lengthen (its projections and ideal delays named).
    """
    lat = {name: 0 for name in program.populations}
    pred: dict = {}
    edges = _constraints(program)
    for _ in range(len(lat) + 1):
        changed = None
        for pre, post, w, proj in edges:
            if program.populations[post].is_input:
                continue
            if lat[pre] + w > lat[post]:
                lat[post] = lat[pre] + w
                pred[post] = proj
                changed = post
        if changed is None:
            return lat
    loop = _loop(pred, changed)
    steps = sum(int(p.delays.min()) for p in loop)
    route = " -> ".join([loop[0].pre] + [p.post for p in loop])
    raise CompileError(
        f"timing='ideal' cannot be compensated for the hardware: the loop {route} (projections "
        f"{', '.join(repr(p.name) for p in loop)}) takes {steps} step(s) in ideal timing, but the hardware "
        f"needs at least {len(loop)} (one per projection), so every delay added to keep the layers aligned "
        "would lengthen the loop and change its dynamics. Compile with timing='hardware' (the loop then takes "
        f"{len(loop)} steps), or give the loop's projections delays that sum to >= {len(loop)} steps")


def _arithmetic(program):
    from neuroport.models.arithmetic import FLOAT, LoihiArithmetic

    return LoihiArithmetic(program.hardware) if isinstance(program, FixedProgram) else FLOAT


def _check_at_rest(program, lat: dict) -> None:
    """Every population with a latency must stay at its initial state, silent, without input for that long
    (its bias held back by :func:`_with_bias_onsets`)."""
    from neuroport.models import neurons

    ar = None
    feeds = {p.pre for p in program.projections if p.nnz}
    for name, pop in program.populations.items():
        steps = lat[name]
        if pop.is_input or steps == 0:
            continue
        ar = ar or _arithmetic(program)
        blk = neurons.block(pop, ar)
        start = {k: np.array(v, copy=True) for k, v in blk.state.items()}
        offset = np.zeros(pop.size) if pop.v_offset is None else np.asarray(pop.v_offset, dtype=np.float64)
        for t in range(steps):
            zero = np.zeros(pop.size, dtype=ar.dtype)
            fired = blk.step(zero, np.zeros_like(zero) if pop.two_port else None)
            moved = [k for k, v in blk.state.items() if not np.array_equal(v, start[k])]
            sends = (name in feeds and pop.emits != "spikes"
                     and bool(np.any(np.asarray(blk.state["v"], dtype=np.float64) + offset)))
            if moved or bool(np.any(fired)) or sends:
                what = (f"its {', '.join(moved)} change(s)" if moved else
                        "it spikes" if np.any(fired) else "it sends a non-zero value")
                raise CompileError(
                    f"timing='ideal' cannot be compensated for the hardware: population {name!r} "
                    f"({pop.model}) is not at rest without input: {what} at step {t} with its bias held at 0 "
                    f"(an initial state away from the reset value). Its inputs reach it {steps} step(s) late on "
                    "the hardware, and its state would move on its own for those steps. Start it at its reset "
                    "value (v_init), or compile with timing='hardware'")


def _check_plastic(program, lat: dict, delays: dict) -> None:
    for proj in program.projections:
        if proj.plasticity is None or not proj.nnz:
            continue
        d = delays[proj.name]
        if lat[proj.pre] != 0 or lat[proj.post] != 0 or np.any(d != proj.delays):
            raise CompileError(
                f"timing='ideal' cannot be compensated for the hardware: plastic projection {proj.name!r} "
                f"would need a delay of {int(d.min())}..{int(d.max())} step(s) and its post population "
                f"{proj.post!r} a latency of {lat[proj.post]}: the learning rule pairs pre and post spikes by "
                "their steps, which the latency would shift. Compile with timing='hardware'")


#: the Program parameters that hold a population's constant input (float and fixed point)
_BIAS_PARAMS = ("bias", "u_bias", "bias_mant", "u_bias_mant")


def _with_bias_onsets(program, lat: dict):
    """Populations with a latency ``L > 0`` and a constant bias get ``extra["bias_onset"] = L``: every
    engine holds the bias at 0 for the first ``L`` steps (Lava: the process's ``bias_mant`` is set at
    step ``L``), so the population starts, as in ideal timing, with its first input."""
    pops = dict(program.populations)
    changed = False
    for name, pop in pops.items():
        if pop.is_input or lat.get(name, 0) <= 0:
            continue
        if any(np.any(np.asarray(pop.params[k]) != 0) for k in _BIAS_PARAMS if k in pop.params):
            pops[name] = dataclasses.replace(pop, extra={**pop.extra, "bias_onset": int(lat[name])})
            changed = True
    return program.replace(populations=pops) if changed else program


def compensate(program):
    """The hardware-timing Program (every delay >= 1) equivalent to an ideal-timing one, shifted.

    A Program that already has ``timing="hardware"`` is returned as is.

    Parameters
    ----------
    program : FloatProgram or FixedProgram
        Compiled with ``timing="ideal"`` (and quantized or not).

    Returns
    -------
    Program
        Same level; ``options["timing"] = "hardware"``, ``options["latency"]``
        ``{population: steps}`` and ``options["compensated"] = "ideal"``.
        Each projection's delays are ``d + L[post] - L[pre]``.

    Raises
    ------
    CompileError
        Where no compensation exists (see the module docstring), with the reason.
    """
    if program.timing != "ideal":
        return program
    lat = latencies(program)
    delays = {p.name: p.delays + (lat[p.post] - lat[p.pre]) for p in program.projections}
    _check_plastic(program, lat, delays)
    program = _with_bias_onsets(program, lat)
    _check_at_rest(program, lat)
    projections = tuple(Projection(p.name, p.pre, p.post, p.weights, delays[p.name].astype(np.int64), p.extra)
                        for p in program.projections)
    options = {**program.options, "timing": "hardware", "compensated": "ideal", "latency": dict(lat)}
    return program.replace(projections=projections, options=options)


def for_hardware(program):
    """``program`` ready for a pipelined backend: compensated when it has ``timing="ideal"``."""
    return compensate(program) if program.timing == "ideal" else program


def latency(result) -> dict:
    """``{population: steps}`` by which a Result's spikes and states lag the ideal timing (``{}``: none)."""
    meta = getattr(result, "meta", None) or {}
    return {k: int(v) for k, v in (meta.get("latency") or {}).items()}


def _shifted(result, lat: dict, keep: int):
    from neuroport.result import Result, SpikeTrain

    spikes = {}
    for name, train in result.spikes.items():
        d = lat.get(name, 0)
        steps = train.steps - d
        m = (steps >= 0) & (steps < keep)
        spikes[name] = SpikeTrain(steps[m], train.neurons[m], train.size, keep)
    states = {pop: {var: np.asarray(arr)[lat.get(pop, 0):lat.get(pop, 0) + keep] for var, arr in vs.items()}
              for pop, vs in result.states.items()}
    meta = {**result.meta, "latency": {}, "aligned_from": dict(lat)}
    return dataclasses.replace(result, num_steps=keep, spikes=spikes, states=states, meta=meta) \
        if isinstance(result, Result) else result


def align(a, b) -> tuple:
    """Results ``a`` and ``b`` on the ideal-timing step grid, cut to the steps both cover.

    Each Result's populations are shifted back by their latency
    (:func:`latency`); both are then cut to ``num_steps - max latency`` steps
    (the last steps of a delayed population were not simulated). Results with
    no latency come back unchanged.
    """
    la, lb = latency(a), latency(b)
    if not la and not lb:
        return a, b
    if a.num_steps != b.num_steps:
        return a, b  # compare reports the mismatch
    keep = a.num_steps - max(list(la.values()) + list(lb.values()) + [0])
    if keep <= 0:
        raise CompileError(f"the runs are {a.num_steps} steps, no longer than the latency "
                           f"({max(list(la.values()) + list(lb.values()))} steps) of the compensated ideal "
                           "timing: run more steps")
    return _shifted(a, la, keep), _shifted(b, lb, keep)
