"""Train the Diehl & Cook (2015) STDP digit classifier, save it, reload it, train on, evaluate.

    .venv/bin/python examples/train_digits.py [--neurons 400] [--epochs 2] [--more 1] [--seed 0]
                                              [--backend numpy|numpy-fixed] [--lava-samples 20]
                                              [--out examples_output]

Unsupervised: the network learns from scikit-learn's bundled 8x8 digits (no
download) without labels; labels only name the neurons afterwards. Writes
into ``--out``: ``digits.nir`` (after ``--epochs``), ``digits_continued.nir``
(reloaded and trained ``--more`` epochs further) and
``digits_receptive_fields.png`` (each neuron's 64 input weights as an 8x8
image, labelled and framed in the colour of the digit it was assigned).
``--backend numpy-fixed`` trains in fixed point (the emulation of Loihi 2's
learning engine: integer weights, 7-bit traces). Prints the test
accuracy on numpy (float) and numpy-fixed (Loihi 2 arithmetic), then runs the
frozen network on Lava (``lava-fixed``) for the first ``--lava-samples`` test
digits and compares it with numpy-fixed (bit-exact: identical predictions).
Measured with the defaults on a shared 2-core machine (2026-12-04, load average
3-25 from other jobs): 15 min wall clock in all (`/usr/bin/time -v`), of which
training, labelling and the first evaluation 792 s; Lava 3.9 s per digit.
Expect 10-20 minutes on 2 cores; ``--neurons 100 --epochs 1 --more 0
--lava-samples 5`` is a quick look.
"""

import argparse
import os
import time
import warnings

import numpy as np

from neuroport import backend as registry
from neuroport import plot
from neuroport.apps import diehl_cook as dc
from neuroport.errors import QuantizationWarning

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--neurons", type=int, default=400)
parser.add_argument("--epochs", type=int, default=2, help="epochs before saving")
parser.add_argument("--more", type=int, default=1, help="epochs after reloading")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--backend", default="numpy", choices=dc.TRAIN_BACKENDS, help="training engine")
parser.add_argument("--lava-samples", type=int, default=20, help="test digits run on lava-fixed (0: skip)")
parser.add_argument("--out", default="examples_output")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
# lava-nc sets the multiprocessing start method on import: import it before anything fixes one
lava_ok, lava_why = registry.get("lava-fixed").available() if args.lava_samples > 0 else (False, "--lava-samples 0")


def quiet_count(fn, *a, **kw):
    """fn(*a, **kw) and the number of QuantizationWarnings it raised (lossy by design: 8-bit weights)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", QuantizationWarning)
        value = fn(*a, **kw)
    return value, sum(issubclass(w.category, QuantizationWarning) for w in caught)


data = dc.load_split()
print(f"digits: {len(data.y_train)} train (learning, then label assignment) / {len(data.y_test)} test")
t0 = time.perf_counter()
model, _ = quiet_count(dc.DiehlCook, dc.Config(neurons=args.neurons), seed=args.seed, backend=args.backend)
for message in model.quantization_warnings:  # numpy-fixed: the learning rule's rounding (eta: 1 mantissa bit)
    print("quantization warning (training network): " + " ".join(message.split()))
model.fit(data.x_train, data.y_train, epochs=args.epochs)  # y only for the running accuracy on the bar
quiet_count(model.assign, data.x_train, data.y_train)  # on the training engine
first = os.path.join(args.out, "digits.nir")
model.save(first)  # weights, thresholds (theta), neuron labels, training state (and engine)
acc, _ = quiet_count(model.accuracy, data.x_test, data.y_test)
print(f"{args.epochs} epoch(s) on {args.backend}: test accuracy {acc * 100:.1f} %; wrote {first}")

resumed, _ = quiet_count(dc.DiehlCook.load, first)  # continues exactly where it stopped, on the same engine
resumed.fit(data.x_train, data.y_train, epochs=args.more)
quiet_count(resumed.assign, data.x_train, data.y_train)
second = os.path.join(args.out, "digits_continued.nir")
resumed.save(second)
print(f"trained in {time.perf_counter() - t0:.0f} s; wrote {second}")

acc = resumed.accuracy(data.x_test, data.y_test, backend="numpy")
acc_fixed, lossy = quiet_count(resumed.accuracy, data.x_test, data.y_test, backend="numpy-fixed")
print(f"{resumed.epochs_done} epochs on {args.backend}, {args.neurons} neurons: test accuracy {acc * 100:.1f} % "
      f"(numpy), {acc_fixed * 100:.1f} % (numpy-fixed, {lossy} quantization warning(s)), "
      f"drop {(acc - acc_fixed) * 100:.1f} points")

if lava_ok:
    n = args.lava_samples
    x, y = data.x_test[:n], data.y_test[:n]
    # AdaptiveLIF kept (theta frozen): folded thresholds would make one Lava LIF process per neuron
    ref, _ = quiet_count(resumed.responses, x, backend="numpy-fixed", fold_theta=False, phase=2)
    t1 = time.perf_counter()
    lava, _ = quiet_count(resumed.responses, x, backend="lava-fixed", fold_theta=False, phase=2)
    per = (time.perf_counter() - t1) / n
    p_ref, p_lava = dc.vote(ref, resumed.labels), dc.vote(lava, resumed.labels)
    print(f"lava-fixed, first {n} test digits: accuracy {np.mean(p_lava == y) * 100:.1f} % "
          f"(numpy-fixed {np.mean(p_ref == y) * 100:.1f} %), {int(np.sum(p_lava == p_ref))}/{n} identical "
          f"predictions, {int(np.sum(np.all(lava == ref, axis=1)))}/{n} identical spike counts, "
          f"{per:.2f} s per digit")
else:
    print(f"lava-fixed skipped: {lava_why}")

png = os.path.join(args.out, "digits_receptive_fields.png")
plot.weight_images(resumed.sim.weights["x->exc"], image_shape=(8, 8), path=png, max_images=args.neurons,
                   labels=resumed.labels)  # each tile titled with its neuron's assigned digit
print(f"wrote {png}")
