"""Population coding: tuning curves, spikes, decoded vs true stimulus, error vs population size.

    .venv/bin/python examples/population_coding.py [--out examples_output] [--seeds 5]

A scalar stimulus in [0, 1] is coded by neurons with Gaussian tuning curves
(width 0.1, 100 Hz peak) and an angle in degrees by neurons with cosine
tuning (20 Hz baseline, 60 Hz peak); spikes are Poisson (1 ms steps).
Decoders (neuroport.decoders): rate-weighted (centre of mass; the circular
mean for the angle), Poisson maximum likelihood, and the optimal linear
(ridge) read-out fitted on separate training trials.

Writes ``population_coding.png``:

* the tuning curves of both populations;
* a raster of the Gaussian population coding a slowly varying stimulus, and
  the stimulus decoded from a 100 ms sliding window against the true one;
* decoded against true value over held-out 100 ms trials;
* decoding RMSE against population size (4 .. 128 neurons), averaged over
  seeds, with the Cramer-Rao bound of the Gaussian code;

and ``population_coding_network.png``: the population-coded stimulus
driving a small LIF network (``neuroport.run``, numpy backend): each LIF
neuron pools its neighbours in preferred value, so it inherits a tuning
curve, and the stimulus is decoded again from the network's own spikes.
"""

import argparse
import math
import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import neuroport
from neuroport import decoders, encoders
from neuroport.plot import save

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--out", default="examples_output")
parser.add_argument("--seeds", type=int, default=5, help="repetitions per population size")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)

DT = 1e-3                 # s
TRIAL_STEPS = 100         # 100 ms per held stimulus
WIDTH = 0.1               # Gaussian tuning width, stimulus units
RATE = 100.0              # Hz, Gaussian peak
SIZES = [4, 8, 16, 32, 64, 128]


def held(values, steps_each=TRIAL_STEPS):
    return np.repeat(np.asarray(values, dtype=float), steps_each, axis=0)


def trial_counts(spikes, steps_each=TRIAL_STEPS):
    return spikes.reshape(-1, steps_each, spikes.shape[1]).sum(axis=1)


def gaussian(n):
    return encoders.tuning_curves(n, max_rate_hz=RATE, width=WIDTH)


def cosine(n):
    return encoders.tuning_curves(n, tuning="cosine", value_range=(0, 360), max_rate_hz=60.0,
                                  baseline_rate_hz=20.0)


def cramer_rao_rmse(code, stimuli, window_s):
    """sqrt(mean 1 / Fisher information) of independent Poisson neurons, from the tuning formula."""
    p = code.preferred[:, 0]
    info = []
    for s in stimuli:
        r = RATE * np.exp(-(s - p) ** 2 / (2 * WIDTH ** 2))
        dr = r * (p - s) / WIDTH ** 2
        info.append(window_s * np.sum(dr ** 2 / np.maximum(r, 1e-300)))
    return math.sqrt(np.mean(1.0 / np.array(info)))


rng = np.random.default_rng(0)
train_stim, test_stim = rng.uniform(0.05, 0.95, 300), rng.uniform(0.05, 0.95, 200)
train_angle, test_angle = rng.uniform(0, 360, 300), rng.uniform(0, 360, 200)

# ---------------------------------------------------------------- error vs population size
rmse = {k: [] for k in ("rate-weighted", "likelihood", "linear", "cosine circular mean", "cosine linear")}
crb = []
for n in SIZES:
    code, ccode = gaussian(n), cosine(n)
    errs = {k: [] for k in rmse}
    for seed in range(args.seeds):
        train = trial_counts(code.encode(held(train_stim), dt=DT, seed=1000 + seed))
        test = trial_counts(code.encode(held(test_stim), dt=DT, seed=seed))
        errs["rate-weighted"].append(np.mean((decoders.rate_weighted(test, code)[:, 0] - test_stim) ** 2))
        ml = decoders.maximum_likelihood(test, code, window_s=TRIAL_STEPS * DT, grid_points=1001)[:, 0]
        errs["likelihood"].append(np.mean((ml - test_stim) ** 2))
        lin = decoders.fit_linear_decoder(train, train_stim, code, ridge=1e-3).predict(test)[:, 0]
        errs["linear"].append(np.mean((lin - test_stim) ** 2))
        ctrain = trial_counts(ccode.encode(held(train_angle), dt=DT, seed=2000 + seed))
        ctest = trial_counts(ccode.encode(held(test_angle), dt=DT, seed=3000 + seed))
        base = ccode.baseline_rate_hz * TRIAL_STEPS * DT
        cm = decoders.rate_weighted(ctest, ccode, baseline=base)[:, 0]
        errs["cosine circular mean"].append(np.mean(decoders.circular_difference(cm, test_angle, 360) ** 2))
        clin = decoders.fit_linear_decoder(ctrain, train_angle, ccode, ridge=1e-3).predict(ctest)[:, 0]
        errs["cosine linear"].append(np.mean(decoders.circular_difference(clin, test_angle, 360) ** 2))
    for k in rmse:
        rmse[k].append(math.sqrt(np.mean(errs[k])))
    crb.append(cramer_rao_rmse(code, test_stim, TRIAL_STEPS * DT))

print(f"decoding RMSE over {len(test_stim)} held-out 100 ms trials x {args.seeds} seeds")
print(f"{'neurons':>8} " + " ".join(f"{k:>21}" for k in rmse) + f" {'Cramer-Rao':>11}")
for i, n in enumerate(SIZES):
    print(f"{n:>8} " + " ".join(f"{rmse[k][i]:>21.4f}" for k in rmse) + f" {crb[i]:>11.4f}")
print("(Gaussian columns in stimulus units of a [0, 1] range; cosine columns in degrees)")

# ---------------------------------------------------------------- a time-varying stimulus
N_SHOW, STEPS = 32, 3000
code = gaussian(N_SHOW)
t = np.arange(STEPS) * DT
stimulus = 0.5 + 0.35 * np.sin(2 * np.pi * 0.5 * t) * np.cos(2 * np.pi * 0.17 * t)
spikes = code.encode(stimulus, dt=DT, seed=7)
WINDOW = 100
counts = decoders.sliding_rates(spikes, dt=DT, window_steps=WINDOW) * WINDOW * DT
decoded_ml = decoders.maximum_likelihood(counts, code, window_s=WINDOW * DT, grid_points=501)[:, 0]
decoded_cm = decoders.rate_weighted(counts, code)[:, 0]
lin_train = trial_counts(code.encode(held(train_stim), dt=DT, seed=99))
decoded_lin = decoders.fit_linear_decoder(lin_train, train_stim, code, ridge=1e-3).predict(counts)[:, 0]
for name, d in (("likelihood", decoded_ml), ("rate-weighted", decoded_cm), ("linear", decoded_lin)):
    print(f"time-varying stimulus, {N_SHOW} neurons, {WINDOW} ms sliding window: {name} RMSE "
          f"{math.sqrt(np.mean((d - stimulus) ** 2)):.4f}")

# ---------------------------------------------------------------- figure
fig = Figure(figsize=(15, 10), dpi=110)
FigureCanvasAgg(fig)
grid = fig.add_gridspec(3, 3, hspace=0.45, wspace=0.3)

ax = fig.add_subplot(grid[0, 0])
xs = np.linspace(0, 1, 400)
ax.plot(xs, gaussian(12).rates(xs), lw=1)
ax.set(title="Gaussian tuning, 12 neurons, width 0.1", xlabel="stimulus", ylabel="rate (Hz)")

ax = fig.add_subplot(grid[0, 1])
angles = np.linspace(0, 360, 721)
ax.plot(angles, cosine(12).rates(angles), lw=1)
ax.set(title="cosine tuning, 12 neurons, 20 Hz baseline", xlabel="angle (deg)", ylabel="rate (Hz)",
       xticks=[0, 90, 180, 270, 360])

ax = fig.add_subplot(grid[0, 2])
code16 = gaussian(16)
test16 = trial_counts(code16.encode(held(test_stim), dt=DT, seed=5))
ax.plot(test_stim, decoders.maximum_likelihood(test16, code16, window_s=0.1, grid_points=1001)[:, 0], ".",
        ms=3, label="likelihood")
ax.plot(test_stim, decoders.rate_weighted(test16, code16)[:, 0], ".", ms=3, label="rate-weighted")
ax.plot([0, 1], [0, 1], "k--", lw=0.8)
ax.set(title="decoded vs true, 16 neurons, 100 ms trials", xlabel="true stimulus", ylabel="decoded")
ax.legend(fontsize=8)

ax = fig.add_subplot(grid[1, :2])
st, nj = np.nonzero(spikes)
ax.scatter(st * DT, code.preferred[nj, 0], s=1, c="k", marker="|")
ax.plot(t, stimulus, "r", lw=1.5, label="stimulus")
ax.set(title=f"{N_SHOW} Gaussian neurons coding a varying stimulus (neurons at their preferred value)",
       xlabel="time (s)", ylabel="preferred value")
ax.legend(loc="upper right", fontsize=8)

ax = fig.add_subplot(grid[2, :2])
ax.plot(t, stimulus, "k", lw=2, label="true")
ax.plot(t, decoded_ml, lw=1, label="likelihood")
ax.plot(t, decoded_cm, lw=1, label="rate-weighted")
ax.plot(t, decoded_lin, lw=1, label="linear (ridge)")
ax.set(title=f"decoded from a {WINDOW} ms sliding window", xlabel="time (s)", ylabel="stimulus")
ax.legend(loc="upper right", fontsize=8, ncol=4)

ax = fig.add_subplot(grid[1, 2])
for k in ("rate-weighted", "likelihood", "linear"):
    ax.loglog(SIZES, rmse[k], "o-", label=k)
ax.loglog(SIZES, crb, "k--", label="Cramer-Rao bound")
ax.set(title="Gaussian code: RMSE vs population size", xlabel="neurons", ylabel="RMSE (stimulus units)")
ax.legend(fontsize=8)

ax = fig.add_subplot(grid[2, 2])
for k in ("cosine circular mean", "cosine linear"):
    ax.loglog(SIZES, rmse[k], "o-", label=k.replace("cosine ", ""))
ax.set(title="cosine code: RMSE vs population size", xlabel="neurons", ylabel="RMSE (deg)")
ax.legend(fontsize=8)
print("wrote", save(fig, os.path.join(args.out, "population_coding.png")))

# ---------------------------------------------------------------- driving a network
N_NET = 32
code = gaussian(N_NET)
net = neuroport.Network()
x = net.input(N_NET, name="stimulus")
hidden = net.population(N_NET, neuroport.LIF(tau=0.02, v_threshold=1.0), name="tuned")
pref = code.preferred[:, 0]
pool = 12.0 * np.exp(-(pref[:, None] - pref[None, :]) ** 2 / (2 * 0.03 ** 2))   # (post, pre); x dt/tau = 0.6 per spike
net.connect(x, hidden, weight=pool)
result = neuroport.run(net, dt=DT, steps=STEPS, inputs=spikes, progress=False)
out = result.spikes["tuned"].to_dense()
out_counts = decoders.sliding_rates(out, dt=DT, window_steps=WINDOW) * WINDOW * DT
from_network = decoders.rate_weighted(out_counts, code)[:, 0]
print(f"network: {int(spikes.sum())} input spikes -> {int(out.sum())} LIF spikes; rate-weighted decode from "
      f"the LIF spikes RMSE {math.sqrt(np.mean((from_network - stimulus) ** 2)):.4f} "
      f"(from the input spikes {math.sqrt(np.mean((decoded_cm - stimulus) ** 2)):.4f})")

fig = Figure(figsize=(12, 6), dpi=110)
FigureCanvasAgg(fig)
ax = fig.add_subplot(2, 1, 1)
st, nj = np.nonzero(out)
ax.scatter(st * DT, pref[nj], s=1, c="k", marker="|")
ax.plot(t, stimulus, "r", lw=1.2, label="stimulus")
ax.set(title=f"LIF population driven by the population code ({int(out.sum())} spikes)", ylabel="preferred value")
ax.legend(loc="upper right", fontsize=8)
ax = fig.add_subplot(2, 1, 2)
ax.plot(t, stimulus, "k", lw=2, label="true")
ax.plot(t, decoded_cm, lw=1, label="decoded from the input spikes")
ax.plot(t, from_network, lw=1, label="decoded from the LIF spikes")
ax.set(xlabel="time (s)", ylabel="stimulus", title=f"rate-weighted decode, {WINDOW} ms window")
ax.legend(loc="upper right", fontsize=8, ncol=3)
fig.tight_layout()
print("wrote", save(fig, os.path.join(args.out, "population_coding_network.png")))
