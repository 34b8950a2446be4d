"""Quick start: build a small E/I network, save it as NIR, run it on every available backend.

    .venv/bin/python examples/quickstart.py [--out examples_output]

Each backend is compared with the reference of its own kind: the fixed-point
modes (``lava-fixed``, ``loihi2``) with ``numpy-fixed``, which they must match
bit for bit ("identical: True"); the float modes (``lava``, ``brian2``) and
``numpy-fixed`` itself with float ``numpy``, judged by the equivalence
criteria of :func:`neuroport.compare.criteria` (float vs float: identical; the
continuous-time Brian2 and the quantized engine: within stated tolerances).
Writes ``quickstart.nir``, ``quickstart_raster.png`` and
``quickstart_traces.png`` into ``--out``.
"""

import argparse
import os

import numpy as np

import neuroport
from neuroport import backend as registry
from neuroport import backends, encoders, plot

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--out", default="examples_output")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)

net = neuroport.Network()
x = net.input(50, name="x")
exc = net.population(80, neuroport.LIF(tau=0.02, v_threshold=1.0), name="exc")
inh = net.population(20, neuroport.LIF(tau=0.01, v_threshold=1.0), name="inh")
net.connect(x, exc, weight=8.0, p=0.1, seed=1)
net.connect(x, inh, weight=4.0, p=0.1, seed=2)
net.connect(exc, inh, weight=2.0, p=0.1, seed=3)
net.connect(inh, exc, weight=-4.0, p=0.2, seed=4)
net.probe(exc, "v")

path = os.path.join(args.out, "quickstart.nir")
neuroport.write(path, net, options={"dt": 1e-3})  # records dt: reading it back needs no options
graph = neuroport.read(path)

spikes_in = encoders.poisson(np.full(50, 20.0), steps=500, dt=1e-3, seed=0)
program = neuroport.compile(graph)  # to tell the criteria that the network is recurrent
references = {mode: neuroport.run(graph, backend=mode, duration=0.5, inputs=spikes_in)  # 0.5 s = 500 steps
              for mode in ("numpy", "numpy-fixed")}
reference = references["numpy"]
print(reference)  # a short summary: backend, dt, steps, spikes and rates per population, probes
for mode in backends.available_names():
    if mode == "numpy":
        continue
    result = references.get(mode) or neuroport.run(graph, backend=mode, duration=0.5, inputs=spikes_in)
    fixed = registry.get(mode).level == "fixed" and mode != "numpy-fixed"
    against = "numpy-fixed" if fixed else "numpy"
    report = neuroport.compare.compare(references[against], result)
    rows = neuroport.compare.criteria(report, program=program)
    verdict = "PASS" if all(r["status"] != "FAIL" for r in rows) else "FAIL"
    print(f"{mode}: {result.spike_counts()}  vs {against}: identical: {report.spikes_identical}, "
          f"criteria {verdict} ({len(rows)} rows)")
plot.raster(reference, path=os.path.join(args.out, "quickstart_raster.png"), title="quickstart network (numpy)")
plot.traces(reference, population="exc", path=os.path.join(args.out, "quickstart_traces.png"), threshold=1.0)
print(f"wrote {args.out}/quickstart_raster.png and quickstart_traces.png")
