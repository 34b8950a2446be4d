"""The ring E/I network lit by its spikes in three regimes: sub-critical, critical, super-critical.

    .venv/bin/python examples/network_activity.py [--out examples_output] [--steps 300]

The ring network of ``neuroport.models.networks.ei`` (4 layers of 80
excitatory + 20 inhibitory LIF neurons, the last layer feeding the first)
gets a 60 ms Poisson burst (80 Hz on each of 50 inputs into layer 0) and then
no input. ``weight_scale`` multiplies every weight between neurons, as in
``examples/criticality_sweep.py``. Whether activity outlives the burst
(spikes in the last 100 ms of the run) switches at one weight scale; this
script finds that scale by bisection and runs

* sub-critical: 0.4 x the critical scale (activity stays near layer 0 and
  dies with the burst);
* critical: the largest scale found at which activity still dies out (the
  edge of the transition);
* super-critical: 1.5 x the critical scale (self-sustained activity around
  the ring after the burst).

Writes ``network_activity.png`` (one column per regime, one row per time, one
colour scale) and ``network_activity_<regime>.gif`` (the whole run, one frame
per 5 ms) to ``--out``.
"""

import argparse
import os

import numpy as np

import neuroport
from neuroport import activity, encoders, plot
from neuroport.models.networks.ei import ei_network

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--out", default="examples_output")
parser.add_argument("--steps", type=int, default=300, help="1 ms steps per run (>= 200)")
parser.add_argument("--frames", type=int, default=60, help="frames per GIF")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)

DT, BURST_STEPS, WINDOW = 1e-3, 60, 10e-3
burst = encoders.poisson(np.full(50, 80.0), steps=args.steps, dt=DT, seed=2)
burst[BURST_STEPS:] = 0


def run(scale):
    net = ei_network(topology="ring", weight_scale=float(scale), seed=0)
    return net, neuroport.run(net, dt=DT, steps=args.steps, inputs=burst, progress=False)


def late_spikes(result):
    """Spikes of the neuron populations in the last 100 ms (long after the burst)."""
    return sum(int(np.sum(t.steps >= args.steps - 100)) for n, t in result.spikes.items() if n != "input")


lo, hi = 0.5, 5.0  # dies out at lo, persists at hi (checked below)
assert late_spikes(run(lo)[1]) == 0 and late_spikes(run(hi)[1]) > 0, "bracket does not hold"
while hi - lo > 0.02:
    mid = 0.5 * (lo + hi)
    lo, hi = (lo, mid) if late_spikes(run(mid)[1]) else (mid, hi)
critical = round(lo, 3)
print(f"activity outlives the burst above weight scale {critical:.3f} (and at {hi:.3f})")

regimes = {"sub-critical": round(0.4 * critical, 3), "critical": critical, "super-critical": round(1.5 * critical, 3)}
runs = {}
for label, scale in regimes.items():
    net, result = run(scale)
    runs[label] = (net, result)
    counts = {n: t.count for n, t in result.spikes.items() if n != "input"}
    per_layer = [counts[f"e{k}"] + counts[f"i{k}"] for k in range(4)]
    print(f"{label:>15} (weight scale {scale:.3f}): spikes per layer {per_layer}, "
          f"{late_spikes(result)} in the last 100 ms")

# during the burst (early, middle, late), 5 ms after it, and at the end of the run
times = [0.01, 0.03, 0.055, BURST_STEPS * DT + 0.005, (args.steps - 1) * DT]
vmax = 1.0 / WINDOW * 3  # 3 spikes in the 10 ms window: the same colour scale for every panel
fig = activity.side_by_side({f"{label} (weight scale {regimes[label]:g})": pair for label, pair in runs.items()},
                            times=times, window=WINDOW, max_edges=1500, vmax=vmax,
                            title="ring E/I network after a 60 ms input burst (inputs in the middle, e0..e3 outer "
                                  "bands, i0..i3 inner bands)")
path = plot.save(fig, os.path.join(args.out, "network_activity.png"))
print(f"wrote {path}")

for label, (net, result) in runs.items():
    path = os.path.join(args.out, f"network_activity_{label}.gif")
    activity.animate(result, net, path, fps=12, window=WINDOW, frames=args.frames, max_edges=1500, vmax=vmax,
                     title=f"ring E/I, {label} (weight scale {regimes[label]:g})")
    print(f"wrote {path}")
