"""``neuroport train``: train the Diehl & Cook (2015) digit classifier and save it as ``.nir``."""

from __future__ import annotations

import dataclasses
import os
import sys
import time
import warnings

from neuroport.apps import diehl_cook as dc
from neuroport.errors import InputError, QuantizationWarning, UsageError
from neuroport.commands.common import SEED, add_progress, check_output_path, duration_text, int_range
from neuroport.duration import steps_for


def register(sub) -> None:
    p = sub.add_parser(
        "train", help="train the Diehl & Cook STDP digit classifier on scikit-learn's 8x8 digits",
        description="Trains the unsupervised Diehl & Cook (2015) network (Poisson input, plastic input -> "
                    "excitatory weights with the diehl_cook STDP rule, adaptive thresholds, lateral "
                    "inhibition) on the training split of scikit-learn's bundled digits (no download), "
                    "assigns each neuron the class it responds to most, prints the test accuracy, and "
                    "saves weights, thresholds, neuron labels and the training state to a .nir file. "
                    "--backend numpy-fixed trains in fixed point (Loihi 2 learning-engine emulation: integer "
                    "weights, 7-bit traces, quantized rule); labels and test accuracy then use numpy-fixed too. "
                    "--resume continues a saved model exactly where it stopped. See docs/diehl_cook.md.",
    )
    p.add_argument("--out", required=True, help="the .nir file to write")
    p.add_argument("--resume", default=None, metavar="MODEL.nir",
                   help="continue training this saved model (its configuration and seed are kept)")
    p.add_argument("--neurons", type=int_range(1, 10 ** 6), default=None, help="excitatory neurons (default 400)")
    p.add_argument("--backend", default=None, choices=("numpy", "numpy-fixed"),
                   help="training engine: numpy (float, default) or numpy-fixed (Loihi 2 learning engine); "
                        "with --resume the saved model's engine unless given")
    p.add_argument("--epochs", type=int_range(0, 10 ** 6), default=3, help="epochs (more epochs with --resume; default 3)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of initial weights, sample order and spikes")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int_range(1, 10 ** 6), default=None,
                        help="presentation time per sample in steps (default 100)")
    length.add_argument("--duration", type=duration_text, default=None, metavar="TIME",
                        help=f"presentation time per sample as a time (e.g. 100ms; a multiple of dt = "
                             f"{dc.Config().dt * 1e3:g} ms)")
    p.add_argument("--train-samples", type=int_range(1), default=None, metavar="K",
                   help="use only the first K training samples (quick runs)")
    add_progress(p, default=True)
    p.set_defaults(func=run)


def run(args) -> int:
    folder = os.path.dirname(os.path.abspath(args.out))
    try:  # before training: a bad --out must not cost the training run
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {args.out!r}: cannot create folder {folder} ({exc.strerror or exc})") from None
    check_output_path(args.out, "--out")
    backend = getattr(args, "backend", None)
    if args.duration is not None:
        try:
            args.steps = steps_for(duration=args.duration, dt=dc.Config().dt, steps_name="--steps",
                                   duration_name="--duration")
        except InputError as exc:
            raise UsageError(str(exc)) from None
    with warnings.catch_warnings(record=True) as caught:  # reported below, not silenced
        warnings.simplefilter("always", QuantizationWarning)
        if args.resume:
            if args.neurons is not None or args.steps is not None:
                raise InputError("--neurons/--steps/--duration: a resumed model keeps its configuration; "
                                 "leave them out")
            model = dc.DiehlCook.load(args.resume, backend=backend)
            print(f"resuming {args.resume} after epoch {model.epochs_done} on {model.backend}")
        else:
            changes = {k: v for k, v in (("neurons", args.neurons), ("steps", args.steps)) if v is not None}
            for key, value in changes.items():
                if value <= 0:
                    raise InputError(f"--{key}: expected a positive integer, got {value}")
            model = dc.DiehlCook(dataclasses.replace(dc.Config(), **changes), seed=args.seed,
                                 backend=backend or "numpy")
    for message in model.quantization_warnings:
        print("quantization warning (training network): " + " ".join(message.split()))
    for w in caught:
        if not issubclass(w.category, QuantizationWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    data = dc.load_split(model.config.test_fraction)
    x, y = data.x_train, data.y_train
    if args.train_samples is not None:
        if args.train_samples > len(y):
            raise UsageError(f"--train-samples {args.train_samples}: at most {len(y)} (the training split's size)")
        x, y = x[:args.train_samples], y[:args.train_samples]
    c = model.config
    print(f"digits: {len(data.y_train)} train / {len(data.y_test)} test (split seed {dc.SPLIT_SEED}); "
          f"training on {len(y)}; {c.neurons} excitatory neurons, {c.steps} steps of {c.dt * 1e3:g} ms "
          f"per sample, seed {model.seed}, training on {model.backend}")
    t0 = time.perf_counter()
    info = model.fit(x, y, epochs=args.epochs, progress=args.progress)
    t_fit = time.perf_counter() - t0
    running = info["running_accuracy"]
    print(f"trained {args.epochs} epoch(s) (now {info['epochs_done']}) in {t_fit:.1f} s"
          + (f"; running accuracy {running:.3f}" if running is not None else ""))
    with warnings.catch_warnings(record=True) as caught:  # the frozen network's quantization (numpy-fixed)
        warnings.simplefilter("always", QuantizationWarning)
        labels = model.assign(x, y, progress=args.progress)
        accuracy = model.accuracy(data.x_test, data.y_test, progress=args.progress)
    lossy = {" ".join(str(w.message).split()) for w in caught if issubclass(w.category, QuantizationWarning)}
    used = int((labels >= 0).sum())
    model.save(args.out)
    print(f"{used} of {c.neurons} neurons labelled; test accuracy {accuracy * 100:.1f} % "
          f"({len(data.y_test)} samples, {model.backend}"
          + (f"; {len(lossy)} quantization warning(s) of the frozen network" if lossy else "") + ")")
    print(f"wrote {args.out} ({time.perf_counter() - t0:.1f} s in all)")
    sys.stdout.flush()
    return 0
