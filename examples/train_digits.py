"""Train the Diehl & Cook (2015) STDP digit classifier, save it, reload it, train on, evaluate.

    .venv/bin/python examples/train_digits.py [--neurons 400] [--epochs 2] [--more 1] [--seed 0]
                                              [--out examples_output]

Unsupervised: the network learns from scikit-learn's bundled 8x8 digits (no
download) without labels; labels only name the neurons afterwards. Writes
into ``--out``: ``digits.nir`` (after ``--epochs``), ``digits_continued.nir``
(reloaded and trained ``--more`` epochs further) and
``digits_receptive_fields.png`` (each neuron's 64 input weights as an 8x8
image). Prints the test accuracy on numpy (float) and numpy-fixed (Loihi 2
arithmetic). With the defaults this takes about 1-2 minutes on 2 cores.
"""

import argparse
import os
import time
import warnings

from neuroport import plot
from neuroport.errors import QuantizationWarning
from neuroport.models.networks import diehl_cook as dc

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--neurons", type=int, default=400)
parser.add_argument("--epochs", type=int, default=2, help="epochs before saving")
parser.add_argument("--more", type=int, default=1, help="epochs after reloading")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--out", default="examples_output")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)

data = dc.load_split()
print(f"digits: {len(data.y_train)} train (learning, then label assignment) / {len(data.y_test)} test")
t0 = time.perf_counter()
model = dc.DiehlCook(dc.Config(neurons=args.neurons), seed=args.seed)
model.fit(data.x_train, data.y_train, epochs=args.epochs)  # y only for the running accuracy on the bar
model.assign(data.x_train, data.y_train)
first = os.path.join(args.out, "digits.nir")
model.save(first)  # weights, thresholds (theta), neuron labels, training state
print(f"{args.epochs} epoch(s): test accuracy {model.accuracy(data.x_test, data.y_test) * 100:.1f} %; wrote {first}")

resumed = dc.DiehlCook.load(first)  # continues exactly where it stopped
resumed.fit(data.x_train, data.y_train, epochs=args.more)
resumed.assign(data.x_train, data.y_train)
second = os.path.join(args.out, "digits_continued.nir")
resumed.save(second)
print(f"trained in {time.perf_counter() - t0:.0f} s; wrote {second}")

acc = resumed.accuracy(data.x_test, data.y_test)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", QuantizationWarning)  # 8-bit weights: lossy by design, measured here
    acc_fixed = resumed.accuracy(data.x_test, data.y_test, backend="numpy-fixed")
print(f"{resumed.epochs_done} epochs, {args.neurons} neurons: test accuracy {acc * 100:.1f} % (numpy), "
      f"{acc_fixed * 100:.1f} % (numpy-fixed), drop {(acc - acc_fixed) * 100:.1f} points")

png = os.path.join(args.out, "digits_receptive_fields.png")
plot.weight_images(resumed.sim.weights["x->exc"], image_shape=(8, 8), path=png, max_images=args.neurons)
print(f"wrote {png}")
