"""The NIR paper's three graphs on every backend: wall time per backend, spikes, agreement.

    .venv/bin/python benchmarks/bench_nir_paper.py [--steps 300] [--lava-steps 20] [--cnn-lava-steps 8]
                                                   [--backends numpy,numpy-fixed,...]

Graphs (``tests/data/nir_paper/``), each compiled at dt = 1e-4 s with the import profile of its exporter
and no hand edits:

* ``braille_noDelay_bias_zero`` and ``braille_noDelay_noBias_subtract`` (snnTorch ``RSynaptic`` SRNN):
  ``profile="snntorch", reset=<its reset>, semantics={"reset_delay": False}`` (the paper trained them so);
  Bernoulli input spikes at rate 0.5 on the 12 inputs;
* ``cnn_sinabs`` (Sinabs N-MNIST CNN, 8970 IF neurons): ``profile="sinabs"`` with ``spikes="single"``
  (the fixed-point engines send one spike per step); rate 0.05 on the 2x34x34 inputs.

Timing: the profile's (``ideal``; the fixed-point engines compensate it, a biased population's bias held
until its latency); where a backend refuses it the refusal is printed and the run repeated with
``timing="hardware"``. A backend that refuses the graph altogether prints its reason. Per run: compile +
run wall time, spike count per layer, and agreement with the reference backend over the same program
(numpy for numpy/lava/brian2, numpy-fixed for lava-fixed): ``identical`` or the smallest fraction of
spikes matched within +-1 step over the layers. Lava and Brian2 include their start-up (process
compilation, code generation).
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

import neuroport
from neuroport import backend as registry
from neuroport.compare import compare
from neuroport.errors import CompileError, NeuroportError, QuantizationWarning

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "nir_paper"
DT = 1e-4
BACKENDS = ("numpy", "numpy-fixed", "lava", "lava-fixed", "brian2")
REFERENCE = {"numpy-fixed": "numpy", "lava": "numpy", "brian2": "numpy", "lava-fixed": "numpy-fixed"}

GRAPHS = {
    "braille_noDelay_bias_zero": dict(file="braille_noDelay_bias_zero.nir", inputs=12, rate=0.5,
                                      layers=("lif1.lif", "lif2"),
                                      compile=dict(profile="snntorch", reset="zero",
                                                   semantics={"reset_delay": False})),
    "braille_noDelay_noBias_subtract": dict(file="braille_noDelay_noBias_subtract.nir", inputs=12, rate=0.5,
                                            layers=("lif1.lif", "lif2"),
                                            compile=dict(profile="snntorch", reset="subtract",
                                                         semantics={"reset_delay": False})),
    "cnn_sinabs": dict(file="cnn_sinabs.nir", inputs=2312, rate=0.05, layers=("1", "3", "6", "10", "12"),
                       compile=dict(profile="sinabs", semantics={"spikes": "single"})),
}


def _compile(spec, timing):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return neuroport.compile(neuroport.read(DATA / spec["file"]), dt=DT, timing=timing, **spec["compile"])


def _run(spec, backend, steps, x, timing):
    """``(result, wall s, timing used, note)``; the program is compiled inside the timed region."""
    note = ""
    for attempt in (timing, "hardware"):
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", QuantizationWarning)
                program = _compile(spec, attempt)
                result = neuroport.run(program, backend=backend, steps=steps, inputs={"input": x[:steps]})
            return result, time.perf_counter() - t0, attempt, note
        except CompileError as err:
            if attempt == "hardware" or "cannot be compensated" not in str(err):
                raise
            note = f"timing={timing!r} refused: {str(err).split(': ', 1)[1][:70]}..."


def _agreement(ref, got, layers) -> str:
    rep = compare(ref, got, k=1, populations=layers)
    if all(rep.populations[k].first_divergence is None for k in layers):
        return "identical spikes"
    return "matched +-1: " + f"{min(rep.populations[k].match for k in layers):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300, help="steps for numpy, numpy-fixed and brian2")
    parser.add_argument("--lava-steps", type=int, default=20, help="steps for Lava on the Braille graphs")
    parser.add_argument("--cnn-lava-steps", type=int, default=8, help="steps for Lava on the CNN (~1 s a step)")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--graphs", default=",".join(GRAPHS))
    args = parser.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    print(f"dt = {DT} s; wall time = compile + run (Lava and Brian2 include their start-up)")
    for gname in [g for g in args.graphs.split(",") if g]:
        spec = GRAPHS[gname]
        program = _compile(spec, "ideal")
        n = sum(p.size for p in program.populations.values())
        print(f"\n{gname}: {n} neurons ({spec['inputs']} inputs), {program.n_synapses} synapses, "
              f"{spec['compile']['profile']} profile")
        x = (np.random.default_rng(0).random((args.steps, spec["inputs"])) < spec["rate"]).astype(float)
        done = {}
        for be in backends:
            ok, reason = registry.get(be).available()
            if not ok:
                print(f"  {be:12s} unavailable: {reason}")
                continue
            steps = (args.cnn_lava_steps if gname.startswith("cnn") else args.lava_steps) if be.startswith("lava") \
                else args.steps
            try:
                result, wall, timing, note = _run(spec, be, steps, x, "ideal")
            except NeuroportError as err:
                print(f"  {be:12s} refused: {str(err)[:150]}")
                continue
            done[(be, steps, timing)] = result
            line = (f"  {be:12s} {timing:8s} {steps:4d} steps {wall:7.2f} s ({1e3 * wall / steps:7.2f} ms/step)  "
                    "spikes " + " ".join(f"{k}:{result.spikes[k].count}" for k in spec["layers"]))
            ref_be = REFERENCE.get(be)
            if ref_be in backends and registry.get(ref_be).available()[0]:
                ref = done.get((ref_be, steps, timing))
                if ref is None:
                    ref, *_ = _run(spec, ref_be, steps, x, timing)
                    done[(ref_be, steps, timing)] = ref
                line += f"  vs {ref_be}: {_agreement(ref, result, spec['layers'])}"
            print(line + (f"\n{'':15s}[{note}]" if note else ""))


if __name__ == "__main__":
    main()
