"""Evolve the weights of a spiking digit classifier with a genetic algorithm, save it, run it everywhere.

    .venv/bin/python examples/evolve_digits.py [--classes 0,1,2] [--generations 100] [--hidden 0]
                                               [--lava-samples 12] [--seed 0] [--out examples_output]

A fixed topology (64 pixels -> Poisson spikes -> one LIF neuron per class; ``--hidden N`` puts N
conductance-based LIF neurons in between) whose weights PyGAD's genetic algorithm evolves; fitness is
the training accuracy on a class subset of scikit-learn's bundled 8x8 digits. Every generation is one
engine run of all 32 genomes x 180 training samples stacked side by side (neuroport.apps.evolve).

Writes into ``--out``: ``evolved_<digits>.nir`` (the best network, plain neuroport ``.nir``) and
``evolved_<digits>.png`` (best and mean fitness per generation; each output neuron's 64 evolved input
weights as an 8x8 image). Prints the held-out accuracy of the re-read file on numpy (float) and
numpy-fixed (Loihi 2 arithmetic) with the drop, and on lava-fixed for the first ``--lava-samples``
test digits (when Lava is installed) against numpy-fixed on the same digits.

Measured with the defaults on the shared 2-core machine (2026-12-04, with the evolution benchmark and
other engineers' jobs running, load average about 12): the whole script 129 s wall, 22 s user CPU
(`/usr/bin/time`); the 100 generations 96.6 s wall / 17.1 s CPU; training accuracy 99.4 %; held-out
97.3 % on numpy and on numpy-fixed (111 test digits, drop 0.0); lava-fixed 12 of 12 on the first 12
test digits, as numpy-fixed (5.1 s). On a quiet machine expect well under a minute. The first run on
a machine also compiles the numba kernels once (about a minute).
"""

import argparse
import os
import time

import numpy as np

import neuroport
from neuroport import backend as registry
from neuroport.apps import evolve as ev

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--classes", default="0,1,2")
parser.add_argument("--generations", type=int, default=100)
parser.add_argument("--hidden", type=int, default=0)
parser.add_argument("--lava-samples", type=int, default=12)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--out", default="examples_output")
args = parser.parse_args()

classes = tuple(int(c) for c in args.classes.split(","))
tag = "".join(map(str, classes))
os.makedirs(args.out, exist_ok=True)
path = os.path.join(args.out, f"evolved_{tag}.nir")

result = ev.evolve(classes, generations=args.generations, hidden=args.hidden, seed=args.seed, out=path,
                   test_backends=())
print(f"{result.generations} generations in {result.wall_s:.1f} s wall / {result.cpu_s:.1f} s CPU "
      f"({result.generations_per_s:.2f} generations/s); training accuracy {result.train_accuracy * 100:.1f} %")

graph = neuroport.read(path)  # everything below uses the file only
acc = {b: ev.evaluate(graph, backend=b) for b in ("numpy", "numpy-fixed")}
print(f"held-out accuracy (re-read {path}): numpy {acc['numpy'] * 100:.1f} %, numpy-fixed "
      f"{acc['numpy-fixed'] * 100:.1f} % (drop {(acc['numpy'] - acc['numpy-fixed']) * 100:+.1f} points)")

if args.lava_samples > 0:
    lava_ok, why = registry.get("lava-fixed").available()
    if lava_ok:
        t0 = time.perf_counter()
        lava = ev.evaluate(graph, backend="lava-fixed", max_samples=args.lava_samples)
        fixed = ev.evaluate(graph, backend="numpy-fixed", max_samples=args.lava_samples)
        print(f"first {args.lava_samples} test digits: lava-fixed {lava * 100:.1f} %, numpy-fixed {fixed * 100:.1f} % "
              f"({time.perf_counter() - t0:.1f} s)")
    else:
        print(f"lava-fixed: not available here ({why})")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

gens = [h["generation"] for h in result.history]
fig = plt.figure(figsize=(3 + 2 * len(classes), 3.2))
ax = fig.add_subplot(1, len(classes) + 2, (1, 2))
ax.plot(gens, [h["best_fitness"] for h in result.history], label="best fitness")
ax.plot(gens, [h["mean_fitness"] for h in result.history], label="mean fitness")
ax.plot(gens, [h["best_accuracy"] for h in result.history], ":", label="best training accuracy")
ax.set_xlabel("generation")
ax.legend(fontsize=7)
weights = ev.split_genome(result.genome, result.config)[0]
if args.hidden == 0:
    lim = np.abs(weights).max()
    for k, digit in enumerate(classes):
        a = fig.add_subplot(1, len(classes) + 2, k + 3)
        a.imshow(weights[k].reshape(8, 8), cmap="RdBu_r", vmin=-lim, vmax=lim)
        a.set_title(f"weights to '{digit}'", fontsize=8)
        a.axis("off")
fig.tight_layout()
png = os.path.join(args.out, f"evolved_{tag}.png")
fig.savefig(png, dpi=110)
print(f"wrote {path} and {png}")
