"""Quick start: build a small E/I network, save it as NIR, run it on every available backend.

    .venv/bin/python examples/quickstart.py [--out examples_output]

Writes ``quickstart.nir`` and ``quickstart_raster.png`` into ``--out``.
"""

import argparse
import os

import numpy as np

import neuroport
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
reference = neuroport.run(graph, backend="numpy", steps=500, inputs=spikes_in)
print(f"numpy: {reference.spike_counts()}")
for mode in backends.available_names():
    if mode == "numpy":
        continue
    result = neuroport.run(graph, backend=mode, steps=500, inputs=spikes_in)
    report = neuroport.compare.compare(reference, result)
    print(f"{mode}: {result.spike_counts()}  identical to numpy: {report.spikes_identical}")
plot.raster(reference, path=os.path.join(args.out, "quickstart_raster.png"), title="quickstart network (numpy)")
plot.traces(reference, population="exc", path=os.path.join(args.out, "quickstart_traces.png"), threshold=1.0)
print(f"wrote {args.out}/quickstart_raster.png and quickstart_traces.png")
