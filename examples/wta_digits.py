"""Three-layer WTA digit classifier against Diehl & Cook, trained on the same images for the same budget.

    .venv/bin/python examples/wta_digits.py [--train 500] [--test 359] [--neurons 100] [--hidden 300]
                                            [--steps 100] [--seed 0] [--out examples_output]

Both networks learn one epoch, without labels, from the first ``--train``
training images of scikit-learn's bundled digits (the fixed split of
``neuroport.apps.diehl_cook.load_split``), with ``--neurons`` output neurons
and ``--steps`` steps per image; each neuron is then labelled from the frozen
network's responses to those same images, and both vote on the first
``--test`` test images (never seen before). The WTA network is input ->
``--hidden`` heterogeneous adaptive LIF neurons (static random weights) ->
plastic (Diehl & Cook's STDP rule) -> WTA output with uniform lateral
inhibition; Diehl & Cook is input -> plastic -> excitatory layer with
lateral inhibition. Writes ``wta_digits.nir`` (the trained WTA network, its
labels in the metadata) and ``wta_vs_diehl_cook.json`` (accuracies, times)
into ``--out``. See docs/wta.md for the measured numbers.
"""

import argparse
import os
import time

from neuroport.apps import wta_digits as wd
from neuroport.fileutil import write_json

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--train", type=int, default=500, help="training images (one epoch, both networks)")
parser.add_argument("--test", type=int, default=359, help="test images")
parser.add_argument("--neurons", type=int, default=100, help="output / excitatory neurons (both networks)")
parser.add_argument("--hidden", type=int, default=300, help="hidden neurons of the WTA network")
parser.add_argument("--steps", type=int, default=100, help="steps of 1 ms per image")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--out", default="examples_output")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)

t0 = time.perf_counter()
config = wd.Config(neurons=args.neurons, hidden=args.hidden, steps=args.steps)
result = wd.compare(n_train=args.train, n_test=args.test, seed=args.seed, wta_config=config, progress=True,
                    keep_models=True)
models = result.pop("models")
models["wta"].save(os.path.join(args.out, "wta_digits.nir"))
result["total_s"] = time.perf_counter() - t0
result["config"] = {"train": args.train, "test": args.test, "neurons": args.neurons, "hidden": args.hidden,
                    "steps": args.steps, "seed": args.seed}
write_json(os.path.join(args.out, "wta_vs_diehl_cook.json"), result)

print(f"{result['n_train']} training images (1 epoch, then label assignment), {result['n_test']} test images")
print(f"{'network':<12} {'accuracy':>8} {'train s':>8} {'assign s':>9} {'test s':>7} {'unlabelled':>10}")
for name in ("wta", "diehl_cook"):
    r = result[name]
    print(f"{name:<12} {r['accuracy']:>8.3f} {r['train_s']:>8.1f} {r['assign_s']:>9.1f} {r['test_s']:>7.1f} "
          f"{r['silent_neurons']:>10d}")
print(f"wrote {args.out}/wta_digits.nir and {args.out}/wta_vs_diehl_cook.json ({result['total_s']:.0f} s in all)")
