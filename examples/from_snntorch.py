"""Load a network exported by snnTorch's own NIR exporter and run it as snnTorch ran it.

    .venv/bin/python examples/from_snntorch.py [--case synaptic_ff_zero] [--out examples_output]

The shipped export (``tests/data/interop/snntorch/<case>.nir``, with the input snnTorch was fed
and its own spikes in ``<case>.npz``) is read with the ``snntorch`` import profile (dt = 1e-4 s,
snnTorch's reset applied from the stored membrane in the next step; the reset mechanism, which
the exporter does not write, from the constructor the fixture records). It runs on ``numpy``
(float: the framework's spikes, step for step), ``numpy-fixed`` and ``lava-fixed`` (Loihi 2
integers; the ideal timing compensated by delays, each layer shifted by its stated latency and
shifted back here), and writes ``from_snntorch_<case>.png``: one column per backend, one row per
layer, snnTorch's spikes in grey under each.
"""

import argparse
import json
import os
import warnings
from pathlib import Path

import numpy as np

import neuroport
from neuroport import backends
from neuroport.plot import _figure, save
from neuroport.timing import latency

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "tests" / "data" / "interop" / "snntorch"

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--case", default="synaptic_ff_zero", help="a file stem in tests/data/interop/snntorch")
parser.add_argument("--out", default="examples_output")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)

path = DATA / f"{args.case}.nir"
with np.load(path.with_suffix(".npz")) as d:
    arrays = {k: d[k] for k in d.files}
info = json.loads(str(arrays.pop("info")))
reset = info["constructor"].get("reset_mechanism", "subtract")
x = arrays["input"].reshape(arrays["input"].shape[0], -1)
steps = x.shape[0]
layers = [k[len("spikes__"):] for k in arrays if k.startswith("spikes__")]

graph = neuroport.read(path)
program = neuroport.compile(graph, profile="snntorch", reset=reset)
print("\n".join(program.options["notes"]))
inputs = {program.inputs[0]: x}

runs = {}
for mode in ("numpy", "numpy-fixed", "lava-fixed"):
    ok, why = backends.get(mode).available()
    if not ok:
        print(f"{mode}: unavailable ({why})")
        continue
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # quantization notes; the match below says what they cost
            runs[mode] = neuroport.run(program, backend=mode, steps=steps, inputs=inputs)
    except neuroport.NeuroportError as exc:
        print(f"{mode}: refused: {exc}")

for mode, res in runs.items():
    lat = latency(res)
    parts = []
    for node in layers:
        want = arrays[f"spikes__{node}"].reshape(steps, -1) > 0
        shift = lat.get(node, 0)
        got = res.spikes[node].to_dense()[shift:]
        same = np.mean(got == want[: steps - shift])
        parts.append(f"{node}: {same:.1%} of (step, neuron) equal" + (f", shifted by {shift}" if shift else ""))
    print(f"{mode:<12}", "; ".join(parts))
if "numpy-fixed" in runs and "lava-fixed" in runs:
    same = all(np.array_equal(runs["numpy-fixed"].spikes[n].to_dense(), runs["lava-fixed"].spikes[n].to_dense())
               for n in layers)
    print(f"numpy-fixed vs lava-fixed: {'bit-identical' if same else 'DIFFERENT'} spikes")

fig = _figure(3.6 * max(1, len(runs)), 2.4 * len(layers))
for col, (mode, res) in enumerate(runs.items()):
    lat = latency(res)
    for row, node in enumerate(layers):
        ax = fig.add_subplot(len(layers), len(runs), row * len(runs) + col + 1)
        want = arrays[f"spikes__{node}"].reshape(steps, -1)
        t, n = np.nonzero(want)
        ax.scatter(t, n, s=14, c="0.8", marker="s", label="snnTorch")
        tr = res.spikes[node]
        ax.scatter(tr.steps - lat.get(node, 0), tr.neurons, s=3, c="C0" if mode == "numpy" else "C3",
                   label=mode)
        ax.set_title(f"{mode}: {node}", fontsize=9)
        ax.set_xlim(0, steps)
        if row == len(layers) - 1:
            ax.set_xlabel(f"step ({program.dt:g} s)")
        if col == 0:
            ax.set_ylabel("neuron")
        if row == 0 and col == 0:
            ax.legend(fontsize=7, loc="upper right")
fig.tight_layout()
out = save(fig, os.path.join(args.out, f"from_snntorch_{args.case}.png"))
print("wrote", out)
