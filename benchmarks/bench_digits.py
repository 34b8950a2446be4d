"""The Diehl & Cook digit classifier at full size: accuracy, neuron count, training time.

Runs the command line exactly as a user would and times the training command:

    neuroport train --out MODEL.nir --neurons 400 --epochs 3 --seed 0 --backend BACKEND
    neuroport evaluate MODEL.nir --backend numpy,numpy-fixed
    neuroport evaluate MODEL.nir --backend numpy-fixed --keep-adaptive   (if fixed AdaptiveLIF exists)
    neuroport evaluate MODEL.nir --backend numpy-fixed,lava-fixed --keep-adaptive --test-samples 50

    python benchmarks/bench_digits.py [--backend numpy|numpy-fixed] [--neurons 400] [--epochs 3] [--seed 0]
                                      [--lava-samples 50] [--out bench_output]

``--backend numpy-fixed`` trains in fixed point (Loihi 2 learning-engine
emulation); the labels and the training command's accuracy then come from
numpy-fixed as well. The lava-fixed run (skipped when Lava is unavailable or
``--lava-samples 0``) evaluates the frozen network on the first test digits
and counts how often it agrees with numpy-fixed (bit-exact engines: all).

Targets: test accuracy >= 90 % with <= 400 neurons, training < 10 min on 2
cores, fixed point within 2 points of float.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--backend", default="numpy", choices=("numpy", "numpy-fixed"), help="training engine")
parser.add_argument("--neurons", type=int, default=400)
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--lava-samples", type=int, default=50, help="test digits evaluated on lava-fixed (0: skip)")
parser.add_argument("--out", default="bench_output")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
model = os.path.join(args.out, "digits.nir")
cli = [sys.executable, "-m", "neuroport.cli"]


def call(argv):
    print("$ neuroport " + " ".join(argv), flush=True)
    proc = subprocess.run(cli + argv, capture_output=True, text=True)
    print(proc.stdout, end="")
    if proc.returncode:
        print(proc.stderr, file=sys.stderr)
        sys.exit(proc.returncode)
    return proc.stdout


t0 = time.perf_counter()
text_train = call(["train", "--out", model, "--neurons", str(args.neurons), "--epochs", str(args.epochs),
                   "--seed", str(args.seed), "--backend", args.backend, "--no-progress"])
t_train = time.perf_counter() - t0
t_fit = float(re.search(r"epoch\(s\) \(now \d+\) in ([\d.]+) s", text_train).group(1))
text = call(["evaluate", model, "--backend", "numpy,numpy-fixed"])
acc = {b: float(a) for b, a in re.findall(r"^(numpy(?:-fixed)?)\s+accuracy ([\d.]+) %", text, re.M)}
drop = re.search(r"fixed - float: ([+-][\d.]+) points", text)
from neuroport.models import neurons as fixed  # noqa: E402

if fixed.supported("alif"):
    text = call(["evaluate", model, "--backend", "numpy-fixed", "--keep-adaptive"])
    acc["numpy-fixed (AdaptiveLIF)"] = float(re.search(r"accuracy ([\d.]+) %", text).group(1))
lava = None
if args.lava_samples > 0:
    from neuroport import backend as registry  # noqa: E402

    ok, why = registry.get("lava-fixed").available()
    if not ok:
        print(f"lava-fixed skipped: {why}")
    else:
        text = call(["evaluate", model, "--backend", "numpy-fixed,lava-fixed", "--keep-adaptive",
                     "--test-samples", str(args.lava_samples)])
        lava = {
            "n": args.lava_samples,
            "numpy-fixed": float(re.search(r"^numpy-fixed\s+accuracy ([\d.]+) %", text, re.M).group(1)),
            "lava-fixed": float(re.search(r"^lava-fixed\s+accuracy ([\d.]+) %", text, re.M).group(1)),
            "ms": float(re.search(r"^lava-fixed .*?([\d.]+) ms/sample", text, re.M).group(1)),
            "agree": re.search(r"(\d+/\d+) identical predictions, (\d+/\d+) samples", text).groups(),
        }
print()
print(f"training engine          {args.backend}")
print(f"excitatory neurons       {args.neurons}")
print(f"epochs                   {args.epochs}")
print(f"training command (s)     {t_train:.1f}   (train + label assignment + test, {os.cpu_count()} CPUs)")
print(f"learning (s)             {t_fit:.1f}")
for backend, value in acc.items():
    print(f"test accuracy {backend:<26} {value:.1f} %")
if drop:
    print(f"fixed - float (points)   {drop.group(1)}")
if lava:
    print(f"lava-fixed, first {lava['n']} test digits (AdaptiveLIF kept): accuracy {lava['lava-fixed']:.1f} % "
          f"(numpy-fixed {lava['numpy-fixed']:.1f} %), {lava['agree'][0]} identical predictions, "
          f"{lava['agree'][1]} identical spike counts, {lava['ms']:.0f} ms per sample")
