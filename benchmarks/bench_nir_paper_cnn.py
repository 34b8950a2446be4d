"""The NIR paper's N-MNIST CNN (tests/data/nir_paper/cnn_sinabs.nir) on every backend: wall time, spikes, agreement.

    .venv/bin/python benchmarks/bench_nir_paper_cnn.py [--steps 300] [--lava-steps 20] [--rate 0.05]

dt = 1e-4 s, seeded Bernoulli input spikes on the 2x34x34 input. The IF nodes get ``r = 1/dt``
(Sinabs' IAF adds its input once per step; the file's ``r = 1`` under NIR's ``dv/dt = r I`` would
never fire at this dt). Prints per backend the compile + run wall time, the spike count of each
layer and the fraction of the reference's spikes matched within +-1 step (numpy for the float
backends, numpy-fixed for lava-fixed, over the steps both ran).
"""

import argparse
import time
import warnings
from pathlib import Path

import nir
import numpy as np

import neuroport
from neuroport import backend as registry
from neuroport.compare import compare
from neuroport.errors import QuantizationWarning

CNN = Path(__file__).resolve().parents[1] / "tests" / "data" / "nir_paper" / "cnn_sinabs.nir"
DT = 1e-4
LAYERS = ["1", "3", "6", "10", "12"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lava-steps", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.05)
    args = parser.parse_args()
    graph = neuroport.read(CNN)
    for node in graph.nodes.values():
        if isinstance(node, nir.IF):
            node.r = np.full(np.shape(node.r), 1.0 / DT)
    rng = np.random.default_rng(0)
    x = (rng.random((args.steps, 2312)) < args.rate).astype(float)
    program = neuroport.compile(graph, dt=DT)
    print(f"CNN: {program.n_neurons} neurons (2312 inputs), {program.n_synapses} synapses, dt={DT}")
    results = {}
    for be in ("numpy", "numpy-fixed", "brian2", "lava", "lava-fixed"):
        ok, reason = registry.get(be).available()
        if not ok:
            print(f"{be:12s} unavailable: {reason}")
            continue
        steps = args.lava_steps if be.startswith("lava") else args.steps
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", QuantizationWarning)
            r = neuroport.run(graph, backend=be, dt=DT, steps=steps, inputs={"input": x[:steps]})
        wall = time.perf_counter() - t0
        results[be] = r
        ref_name = "numpy-fixed" if be == "lava-fixed" else "numpy"
        line = f"{be:12s} {steps:4d} steps {wall:7.2f} s  spikes " + " ".join(
            f"{k}:{r.spikes[k].count}" for k in LAYERS)
        if be != ref_name and ref_name in results:
            ref = results[ref_name]
            if ref.num_steps != steps:
                ref = neuroport.run(graph, backend=ref_name, dt=DT, steps=steps, inputs={"input": x[:steps]})
            rep = compare(ref, r, k=1)
            line += f"  matched vs {ref_name}: " + " ".join(f"{k}:{rep.populations[k].match:.3f}" for k in LAYERS)
        print(line)


if __name__ == "__main__":
    main()
