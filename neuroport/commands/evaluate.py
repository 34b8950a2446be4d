"""``neuroport evaluate``: test accuracy of a trained Diehl & Cook model, float or fixed point (numpy, Lava)."""

from __future__ import annotations

import time
import warnings

import numpy as np

from neuroport.apps import diehl_cook as dc
from neuroport.errors import InputError, QuantizationWarning, UsageError
from neuroport.commands.common import add_progress, backend_list, int_range

BACKENDS = ("numpy", "numpy-fixed", "lava-fixed")


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate", help="test accuracy of a model from 'neuroport train' (numpy, numpy-fixed or lava-fixed)",
        description="Reads a Diehl & Cook model written by 'neuroport train', freezes it (plastic weights become a "
                    "plain weight matrix, thresholds stop adapting) and classifies the held-out test split "
                    "of scikit-learn's digits with the neuron labels stored in the file. "
                    "--backend numpy-fixed runs the quantized network (Loihi 2 arithmetic), lava-fixed the same "
                    "on Lava (slow: one Lava run per presentation; use --test-samples and --keep-adaptive); "
                    "a comma-separated list runs each, prints the accuracy drop and how often the fixed-point "
                    "engines agree.",
    )
    p.add_argument("model", help="a .nir file written by 'neuroport train'")
    p.add_argument("--backend", default="numpy",
                   help="numpy, numpy-fixed, lava-fixed, or several comma-separated (default numpy)")
    p.add_argument("--test-samples", type=int_range(1), default=None, metavar="K",
                   help="use only the first K test samples (quick runs; lava-fixed took 3.9 s per sample on a busy 2-core machine)")
    p.add_argument("--keep-adaptive", action="store_true",
                   help="run the excitatory layer as AdaptiveLIF with frozen theta instead of folding theta "
                        "into a plain LIF threshold (the default; lava-fixed needs this: Lava's LIF holds one "
                        "threshold per process)")
    add_progress(p, default=False)
    p.set_defaults(func=run)


def run(args) -> int:
    backends = backend_list(args.backend, "--backend")
    for b in backends:
        if b not in BACKENDS:
            raise InputError(f"--backend: expected {', '.join(BACKENDS)}, got {b!r}")
    if "lava-fixed" in backends and not args.keep_adaptive:
        raise InputError("--backend lava-fixed needs --keep-adaptive: folding theta gives every neuron its own "
                         "LIF threshold, and Lava's LIF holds one threshold per process (one process per neuron)")
    with warnings.catch_warnings(record=True):  # the training network's quantization: not what is evaluated
        warnings.simplefilter("always", QuantizationWarning)
        model = dc.DiehlCook.load(args.model)
    if model.labels is None:
        raise InputError(f"{args.model}: the neurons have no labels (metadata {dc.LABELS_KEY!r} missing)")
    data = dc.load_split(model.config.test_fraction)
    x, y = data.x_test, data.y_test
    if args.test_samples is not None:
        if args.test_samples > len(y):
            raise UsageError(f"--test-samples {args.test_samples}: at most {len(y)} (the test split's size)")
        x, y = x[:args.test_samples], y[:args.test_samples]
    print(f"{args.model}: {model.config.neurons} excitatory neurons ({int((model.labels >= 0).sum())} labelled), "
          f"{model.epochs_done} epoch(s) trained on {model.backend}; {len(y)} test samples "
          f"(split seed {dc.SPLIT_SEED})")
    results, counts = {}, {}
    for backend in backends:
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", QuantizationWarning)
            counts[backend] = model.responses(x, backend=backend, fold_theta=not args.keep_adaptive, phase=2,
                                              progress=args.progress)
        pred = dc.vote(counts[backend], model.labels)
        results[backend] = float(np.mean(pred == y))
        wall = time.perf_counter() - t0
        lossy = sum(issubclass(w.category, QuantizationWarning) for w in caught)
        note = f"; {lossy} quantization warning(s)" if lossy else ""
        print(f"{backend:<12} accuracy {results[backend] * 100:.1f} % ({wall:.1f} s, "
              f"{wall / max(len(y), 1) * 1e3:.0f} ms/sample{note})")
        per_class = [float(np.mean(pred[y == k] == k)) if np.any(y == k) else float("nan") for k in range(10)]
        print("             per class " + " ".join(f"{k}:{a * 100:.0f}" for k, a in enumerate(per_class)))
    if "numpy" in results and "numpy-fixed" in results:
        print(f"fixed - float: {(results['numpy-fixed'] - results['numpy']) * 100:+.1f} points")
    if "numpy-fixed" in counts and "lava-fixed" in counts:
        a, b = counts["numpy-fixed"], counts["lava-fixed"]
        same_pred = int(np.sum(dc.vote(a, model.labels) == dc.vote(b, model.labels)))
        same_counts = int(np.sum(np.all(a == b, axis=1)))
        print(f"lava-fixed vs numpy-fixed: {same_pred}/{len(y)} identical predictions, "
              f"{same_counts}/{len(y)} samples with identical spike counts")
    return 0
