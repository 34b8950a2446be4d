"""Picture -> spikes -> picture: Poisson rate, latency and population codes, and their error vs window.

    .venv/bin/python examples/image_round_trip.py [--out examples_output] [--image china|digit]

The picture is scikit-learn's bundled ``china.jpg`` (grey, block-averaged to
53 x 80 pixels) or the first 8 x 8 digit of ``load_digits`` (both ship with
scikit-learn, no download). It is encoded over 300 steps of 1 ms three ways
(neuroport.encoders):

* Poisson rate code: a pixel of intensity x fires at x * 200 Hz;
* latency code: each pixel fires once, at step (1 - x) * 299, black never;
* population code: 8 neurons per pixel with Gaussian tuning over intensity
  (width 1/7, 200 Hz peak).

Each is reconstructed (neuroport.decoders) from the first W steps only, for
W from 5 to 300 ms. Writes ``image_round_trip.png``: the picture, a raster of
each code, reconstructions at three windows, and RMSE against the window
(the Poisson code's predicted RMSE, sqrt(mean x (1 - x r dt) / (r W)), dashed).
"""

import argparse
import math
import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from neuroport import decoders, encoders
from neuroport.plot import save

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--out", default="examples_output")
parser.add_argument("--image", choices=["china", "digit"], default="china")
parser.add_argument("--seeds", type=int, default=3, help="encodings averaged per window (Poisson, population)")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)

DT, STEPS, RATE, N_POP = 1e-3, 300, 200.0, 8
WINDOWS = [5, 10, 20, 50, 100, 200, 300]
SHOWN = [10, 50, 300]

if args.image == "china":
    from sklearn.datasets import load_sample_image
    grey = load_sample_image("china.jpg").mean(axis=2)               # (427, 640), 0..255
    block = 8
    h, w = grey.shape[0] // block, grey.shape[1] // block
    image = grey[:h * block, :w * block].reshape(h, block, w, block).mean(axis=(1, 3))
    value_range = (0.0, 255.0)
else:
    from sklearn.datasets import load_digits
    image = load_digits().images[0]
    value_range = (0.0, 16.0)
shape = image.shape
truth = encoders.image_to_unit(image, value_range=value_range).reshape(shape)


def encode(method, seed):
    if method == "poisson":
        return encoders.image_poisson(image, max_rate_hz=RATE, steps=STEPS, dt=DT, value_range=value_range,
                                      seed=seed)
    if method == "latency":
        return encoders.image_latency(image, steps=STEPS, value_range=value_range)
    return encoders.image_population(image, n_neurons=N_POP, max_rate_hz=RATE, steps=STEPS, dt=DT,
                                     value_range=value_range, seed=seed)


def reconstruct(method, spikes, window):
    if method == "poisson":
        return decoders.reconstruct_poisson(spikes, shape=shape, max_rate_hz=RATE, dt=DT, window_steps=window)
    if method == "latency":
        return decoders.reconstruct_latency(spikes, shape=shape, window_steps=window)
    return decoders.reconstruct_population(spikes, shape=shape, n_neurons=N_POP, max_rate_hz=RATE, dt=DT,
                                           window_steps=window)


METHODS = ["poisson", "latency", "population"]
rmse = {m: [] for m in METHODS}
shown = {m: {} for m in METHODS}
first = {}
for m in METHODS:
    seeds = [0] if m == "latency" else range(args.seeds)         # the latency code is deterministic
    encoded = [encode(m, seed) for seed in seeds]
    first[m] = encoded[0]
    for w in WINDOWS:
        recs = [reconstruct(m, s, w) for s in encoded]
        rmse[m].append(math.sqrt(np.mean([np.mean((r - truth) ** 2) for r in recs])))
        if w in SHOWN:
            shown[m][w] = recs[0]
predicted = [math.sqrt(np.mean(truth * (1 - truth * RATE * DT)) / (RATE * w * DT)) for w in WINDOWS]

print(f"image {args.image} {shape}, {truth.size} pixels; RMSE of the reconstruction (intensity in [0, 1])")
print(f"{'window (ms)':>12} " + " ".join(f"{m:>11}" for m in METHODS) + f" {'Poisson pred.':>14}")
for i, w in enumerate(WINDOWS):
    print(f"{w:>12} " + " ".join(f"{rmse[m][i]:>11.4f}" for m in METHODS) + f" {predicted[i]:>14.4f}")
for m in METHODS:
    print(f"{m}: {int(first[m].sum())} spikes in {STEPS} ms from {first[m].shape[1]} neurons")

# ---------------------------------------------------------------- figure
fig = Figure(figsize=(16, 14), dpi=100)
FigureCanvasAgg(fig)
grid = fig.add_gridspec(4, 5, hspace=0.5, wspace=0.3, width_ratios=[1.4, 1.4, 1, 1, 1])
ax = fig.add_subplot(grid[0, 0])
ax.imshow(truth, cmap="gray", vmin=0, vmax=1)
ax.set(title=f"picture {shape[0]}x{shape[1]}", xticks=[], yticks=[])

ax = fig.add_subplot(grid[0, 2:])
for m in METHODS:
    per_pixel = first[m].sum() / truth.size
    ax.loglog(WINDOWS, rmse[m], "o-", label=f"{m} ({per_pixel:.0f} spikes per pixel in {STEPS} ms)")
ax.loglog(WINDOWS, predicted, "k--", lw=0.8, label="Poisson predicted (no clipping)")
ax.set(title="reconstruction RMSE vs window", xlabel="window (ms)", ylabel="RMSE (intensity)")
ax.legend(fontsize=8)

row_of_pixels = shape[0] // 2                                   # raster: the pixels of the middle row
cols = np.arange(row_of_pixels * shape[1], (row_of_pixels + 1) * shape[1])
for r, m in enumerate(METHODS, start=1):
    ax = fig.add_subplot(grid[r, :2])
    spikes = first[m]
    if m == "population":
        neurons = (cols[:, None] * N_POP + np.arange(N_POP)[None, :]).reshape(-1)
        label = f"neuron ({N_POP} per pixel)"
    else:
        neurons = cols
        label = "pixel (column)"
    t_idx, j = np.nonzero(spikes[:, neurons])
    ax.scatter(t_idx * DT * 1e3, j, s=1, c="k", marker="|")
    ax.set(title=f"{m} code: spikes of image row {row_of_pixels}", xlabel="time (ms)", ylabel=label,
           xlim=(0, STEPS))
    for c, w in enumerate(SHOWN):
        ax = fig.add_subplot(grid[r, 2 + c])
        rec = shown[m][w]
        ax.imshow(rec, cmap="gray", vmin=0, vmax=1)
        ax.set(title=f"{m}, first {w} ms\nRMSE {math.sqrt(np.mean((rec - truth) ** 2)):.3f}",
               xticks=[], yticks=[])
print("wrote", save(fig, os.path.join(args.out, "image_round_trip.png")))
