"""The Diehl & Cook digit classifier at full size: accuracy, neuron count, training time.

Runs the command line exactly as a user would and times the training command:

    neuroport train --out MODEL.nir --neurons 400 --epochs 3 --seed 0
    neuroport evaluate MODEL.nir --backend numpy,numpy-fixed
    neuroport evaluate MODEL.nir --backend numpy-fixed --keep-adaptive   (if fixed AdaptiveLIF exists)

    python benchmarks/bench_digits.py [--neurons 400] [--epochs 3] [--seed 0] [--out bench_output]

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
parser.add_argument("--neurons", type=int, default=400)
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--seed", type=int, default=0)
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
call(["train", "--out", model, "--neurons", str(args.neurons), "--epochs", str(args.epochs),
      "--seed", str(args.seed), "--no-progress"])
t_train = time.perf_counter() - t0
text = call(["evaluate", model, "--backend", "numpy,numpy-fixed"])
acc = {b: float(a) for b, a in re.findall(r"^(numpy(?:-fixed)?)\s+accuracy ([\d.]+) %", text, re.M)}
drop = re.search(r"fixed - float: ([+-][\d.]+) points", text)
from neuroport.models import fixed  # noqa: E402

if fixed.supported("alif"):
    text = call(["evaluate", model, "--backend", "numpy-fixed", "--keep-adaptive"])
    acc["numpy-fixed (AdaptiveLIF)"] = float(re.search(r"accuracy ([\d.]+) %", text).group(1))
print()
print(f"excitatory neurons       {args.neurons}")
print(f"epochs                   {args.epochs}")
print(f"training command (s)     {t_train:.1f}   (train + label assignment + test, {os.cpu_count()} CPUs)")
for backend, value in acc.items():
    print(f"test accuracy {backend:<26} {value:.1f} %")
if drop:
    print(f"fixed - float (points)   {drop.group(1)}")
