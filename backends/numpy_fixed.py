"""The fixed-point numpy engine (mode ``numpy-fixed``, int64, level ``fixed``).

It computes exactly what Lava's bit-accurate CPU models compute
(``PyLifModelBitAcc`` for the neurons, ``PyDenseModelBitAcc`` /
``PyDelayDenseModelBitAcc`` for the projections), step for step:

* each projection sums the integer weight mantissas of the spikes its source
  emitted at ``t - d`` (per delay, as ``DelayDense`` does per delay slot) and
  shifts the sum by ``weight_exp`` (``<<`` if positive, arithmetic ``>>`` =
  floor if negative);
* a population's ``a_in`` is the sum of those projection outputs; the neuron
  step is :class:`neuroport.models.fixed.LIFFamilyFixed` (24-bit wrap of
  ``u``, saturation of ``v``, decays rounding toward zero, 6-bit shifts).

Only ``timing="hardware"`` exists (Lava's Dense is pipelined); the Program's
delays already hold the one step of latency. Inputs must be spikes (0/1):
graded values raise :class:`~neuroport.errors.InputError`.

Probed ``v`` and ``u`` are the raw integers Lava holds (``v`` without the
reset offset); ``Result.meta["scale"][pop]`` converts:
``v_float = v_int / scale + v_offset``. ``Result.meta["u_wraps"]`` and
``["v_saturations"]`` count overflow events per population (a
:class:`~neuroport.errors.QuantizationWarning` is emitted when any occurred).
"""

from __future__ import annotations

import warnings

import numpy as np

from neuroport.backends.base import Backend, Result, all_probes, normalize_inputs
from neuroport.backends.numpy import Engine, _check_steps
from neuroport.errors import CompileError, InputError, QuantizationWarning


class FixedEngine(Engine):
    """:class:`~neuroport.backends.numpy.Engine` with Lava's integer arithmetic."""

    dtype = np.int64
    mode = "numpy-fixed"

    def __init__(self, program, hardware):
        self.hardware = hardware
        super().__init__(program)
        self.counters = {}

    def delivery_dtype(self, proj):
        return np.int64

    def prepare_population(self, pop):
        from neuroport.models import fixed

        model = fixed.get(pop.model)
        consts = model.prepare(pop, self.hardware)
        self.counters[pop.name] = consts["counters"]
        return model, model.init_state(pop), consts

    def step_population(self, model, state, a_in, consts):
        return model.step_fixed(state, a_in, consts)

    def finish_delivery(self, delivery, contribution):
        # bincount sums int weights in float64: exact below 2**53
        acc = np.asarray(contribution).astype(np.int64)
        exp = int(delivery.proj.extra.get("weight_exp", 0))
        return np.left_shift(acc, exp) if exp > 0 else np.right_shift(acc, -exp)

    def output_values(self, pop, state, spikes):
        return spikes if spikes is not None else state["v"]

    def report_state(self, pop, state, var):
        return state[var]

    def record_dtype(self, var):
        return np.int64


def hardware_of(program):
    """The :class:`~neuroport.hardware.HardwareSpec` a fixed Program was quantized for."""
    from neuroport import hardware as hw

    spec = program.options.get("hardware_spec")
    if spec is not None:
        return spec
    name = program.options.get("hardware", "loihi2")
    if name != hw.LOIHI2.name:
        raise CompileError(f"fixed Program for hardware {name!r}: its HardwareSpec is not in program.options")
    return hw.LOIHI2


def check_spike_inputs(inputs: dict) -> dict:
    """``{name: bool array}``; raises InputError naming the first value that is not 0 or 1."""
    out = {}
    for name, arr in inputs.items():
        bad = (arr != 0) & (arr != 1)
        if bad.any():
            t, i = np.argwhere(bad)[0]
            raise InputError(
                f"input {name!r}: fixed-point runs take spikes (0 or 1) only; got {arr[t, i]!r} at step {t}, "
                f"neuron {i} (encode graded values as spikes, e.g. neuroport.encoders)"
            )
        out[name] = arr.astype(bool)
    return out


class NumpyFixedBackend(Backend):
    """Bit-accurate Loihi 2 arithmetic (as Lava's CPU models) in vectorised numpy."""

    name = "numpy-fixed"
    level = "fixed"
    timings = ("hardware",)
    engine_class = FixedEngine

    def make_engine(self, program) -> FixedEngine:
        """A fresh :class:`FixedEngine` for ``program`` (used by :class:`neuroport.Simulator`)."""
        return self.engine_class(program, hardware_of(program))

    def check_inputs(self, program, inputs, steps: int) -> dict:
        return check_spike_inputs(normalize_inputs(program, inputs, steps))

    def run(self, program, *, steps: int, inputs=None, probes=(), progress=None, seed: int = 0) -> Result:
        if program.level != self.level:
            raise CompileError(
                f"backend {self.name!r} runs 'fixed' Programs, got a {program.level!r} one; "
                "quantize it first (neuroport.quantize) or use neuroport.run(...), which converts for you"
            )
        if program.timing not in self.timings:
            raise CompileError(f"backend {self.name!r} supports timing='hardware' only, "
                               f"the Program has timing={program.timing!r}")
        for proj in program.projections:
            if proj.nnz and int(proj.delays.min()) < 1:
                raise CompileError(f"projection {proj.name!r}: delay 0 cannot run in fixed point (min 1 step)")
        steps = _check_steps(steps)
        ins = check_spike_inputs(normalize_inputs(program, inputs, steps))
        prb = all_probes(program, probes)
        engine = self.make_engine(program)
        trains, states, wall = engine.run(steps=steps, inputs=ins, probes=prb, progress=progress)
        scale = {n: float(p.extra["scale"]) for n, p in program.populations.items() if "scale" in p.extra}
        wraps = {n: c["u_wraps"] for n, c in engine.counters.items()}
        sats = {n: c["v_saturations"] for n, c in engine.counters.items()}
        over = {n: (wraps[n], sats[n]) for n in wraps if wraps[n] or sats[n]}
        if over:
            warnings.warn(
                "fixed-point state overflow: " + "; ".join(
                    f"{n}: u wrapped {w} time(s), v saturated {s} time(s)" for n, (w, s) in over.items())
                + " (24-bit state; quantize with more headroom_bits)", QuantizationWarning, stacklevel=2)
        options = {k: v for k, v in program.options.items() if k != "hardware_spec"}
        return Result(self.name, program.dt, steps, trains, states, {}, wall,
                      {"level": program.level, **options, "scale": scale, "u_wraps": wraps,
                       "v_saturations": sats})
