"""``neuroport evaluate``: test accuracy of a trained Diehl & Cook model, float or fixed point."""

from __future__ import annotations

import time
import warnings


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate", help="test accuracy of a model from 'neuroport train' (numpy or numpy-fixed)",
        description="Reads a Diehl & Cook model written by 'neuroport train', freezes it (plastic weights become a "
                    "plain weight matrix, thresholds stop adapting) and classifies the held-out test split "
                    "of scikit-learn's digits with the neuron labels stored in the file. "
                    "--backend numpy-fixed runs the quantized network (Loihi 2 arithmetic); "
                    "a comma-separated list runs each and prints the accuracy drop.",
    )
    p.add_argument("model", help="a .nir file written by 'neuroport train'")
    p.add_argument("--backend", default="numpy",
                   help="numpy, numpy-fixed, or both comma-separated (default numpy)")
    p.add_argument("--test-samples", type=int, default=None, metavar="K",
                   help="use only the first K test samples (quick runs)")
    p.add_argument("--keep-adaptive", action="store_true",
                   help="run the excitatory layer as AdaptiveLIF with frozen theta instead of folding theta "
                        "into a plain LIF threshold (the default; needs fixed-point AdaptiveLIF for numpy-fixed)")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from neuroport.errors import InputError, QuantizationWarning
    from neuroport.models.networks import diehl_cook as dc

    backends = [b.strip() for b in args.backend.split(",") if b.strip()]
    for b in backends:
        if b not in ("numpy", "numpy-fixed"):
            raise InputError(f"--backend: expected numpy or numpy-fixed, got {b!r}")
    model = dc.DiehlCook.load(args.model)
    if model.labels is None:
        raise InputError(f"{args.model}: the neurons have no labels (metadata {dc.LABELS_KEY!r} missing)")
    data = dc.load_split(model.config.test_fraction)
    x, y = data.x_test, data.y_test
    if args.test_samples is not None:
        x, y = x[:args.test_samples], y[:args.test_samples]
    print(f"{args.model}: {model.config.neurons} excitatory neurons ({int((model.labels >= 0).sum())} labelled), "
          f"{model.epochs_done} epoch(s); {len(y)} test samples (split seed {dc.SPLIT_SEED})")
    results = {}
    for backend in backends:
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", QuantizationWarning)
            pred = model.predict(x, backend=backend, fold_theta=not args.keep_adaptive, progress=args.progress)
        results[backend] = float(np.mean(pred == y))
        lossy = sum(issubclass(w.category, QuantizationWarning) for w in caught)
        note = f"; {lossy} quantization warning(s)" if lossy else ""
        print(f"{backend:<12} accuracy {results[backend] * 100:.1f} % ({time.perf_counter() - t0:.1f} s{note})")
        per_class = [float(np.mean(pred[y == k] == k)) if np.any(y == k) else float("nan") for k in range(10)]
        print("             per class " + " ".join(f"{k}:{a * 100:.0f}" for k, a in enumerate(per_class)))
    if "numpy" in results and "numpy-fixed" in results:
        print(f"fixed - float: {(results['numpy-fixed'] - results['numpy']) * 100:+.1f} points")
    return 0
