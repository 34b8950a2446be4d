"""``neuroport evolve``: evolve the weights of a fixed-topology spiking digit classifier, save the best as ``.nir``."""

from __future__ import annotations

import os
import sys

from neuroport.commands.common import SEED, add_progress, backend_list, check_output_path, float_above, int_range
from neuroport.errors import InputError, UsageError


def _classes(text: str):
    import argparse

    try:
        values = tuple(int(t) for t in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated digits such as 0,1,2, got {text!r}") from None
    return values


_OPTION_OF = {"time_limit_s": "--time-limit", "target_accuracy": "--target"}


def register(sub) -> None:
    p = sub.add_parser(
        "evolve", help="evolve a spiking digit classifier's weights with a genetic algorithm, save the best .nir",
        description="Evolves the weights of a fixed topology (64 pixels -> Poisson spikes -> one LIF neuron per "
                    "class, or through --hidden N conductance-based LIF neurons) with PyGAD's genetic "
                    "algorithm (tournament selection, uniform crossover, additive mutation, elitism; seeded). "
                    "Fitness is the training accuracy (the output neuron with most spikes) on a 2-5 class subset "
                    "of scikit-learn's bundled 8x8 digits (no download); every generation is one engine run of "
                    "all genomes x training samples stacked side by side. Prints the held-out accuracy of the "
                    "best network on each --backends and writes it to --out. See docs/evolve.md.",
        epilog="example: neuroport evolve --classes 0,1,2 --generations 60 --out best.nir",
    )
    p.add_argument("--classes", type=_classes, default=(0, 1, 2), metavar="D,D,...",
                   help="2 to 5 distinct digits (default 0,1,2)")
    p.add_argument("--out", default=None, help="write the best network to this .nir file")
    p.add_argument("--hidden", type=int_range(0, 10 ** 4), default=0,
                   help="conductance-based LIF hidden neurons (default 0: input straight to the output)")
    p.add_argument("--population", type=int_range(2, 10 ** 5), default=32, help="genomes per generation (default 32)")
    p.add_argument("--generations", type=int_range(0, 10 ** 6), default=100, help="generations (default 100)")
    p.add_argument("--parents", type=int_range(2), default=None, help="parents per generation (default 12, "
                   "at most --population)")
    p.add_argument("--elitism", type=int_range(0), default=2, help="best genomes kept unchanged (default 2)")
    p.add_argument("--steps", type=int_range(1, 10 ** 5), default=40,
                   help="presentation time per sample in steps of 1 ms (default 40)")
    p.add_argument("--train-per-class", type=int_range(1, 10 ** 4), default=60,
                   help="training samples per class (default 60)")
    p.add_argument("--target", type=float_above(0.0, inclusive=False), default=None, metavar="FRACTION",
                   help="stop once the best training accuracy reaches this fraction (e.g. 0.97)")
    p.add_argument("--time-limit", type=float_above(0.0, inclusive=False), default=None, metavar="SECONDS",
                   help="stop after the generation in which this much wall time has passed")
    p.add_argument("--backends", default="numpy,numpy-fixed",
                   help="backends measuring the held-out accuracy of the best network (default numpy,numpy-fixed)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the population, the GA and the spikes (default 0)")
    add_progress(p, default=True)
    p.set_defaults(func=run)


def run(args) -> int:
    from neuroport.apps import evolve as ev

    if args.out is not None:
        check_output_path(args.out, "--out")
        if not args.out.endswith(".nir"):
            raise UsageError(f"--out {args.out!r}: expected a .nir file name")
        folder = os.path.dirname(os.path.abspath(args.out))
        if not os.path.isdir(folder):
            raise UsageError(f"--out {args.out!r}: folder {folder} does not exist")
    if args.target is not None and args.target > 1:
        raise UsageError(f"--target {args.target:g}: a fraction of the training samples, at most 1")
    backends = backend_list(args.backends, "--backends")
    from neuroport import backend as registry

    for name in backends:  # before evolving: an unknown or missing backend must not cost the run
        registry.get(name).require_available()
    options = {"hidden": args.hidden, "population": args.population, "generations": args.generations,
               "elitism": args.elitism, "steps": args.steps, "train_per_class": args.train_per_class,
               "target_accuracy": args.target, "time_limit_s": args.time_limit, "seed": args.seed}
    if args.parents is not None:
        options["parents"] = args.parents
    else:
        options["parents"] = min(12, args.population)
    try:
        config = ev.Config(classes=args.classes, **options)
    except InputError as exc:  # name the option, not the Config field
        message = str(exc)
        field = message.split(":", 1)[0]
        option = _OPTION_OF.get(field, "--" + field.replace("_", "-"))
        raise UsageError(option + message[len(field):] if field.isidentifier() else message) from None
    print(f"evolving {config.population} genomes of {ev.n_genes(config)} weights for digits "
          f"{','.join(map(str, config.classes))} ({'64 -> ' + str(config.hidden) + ' CondLIF -> ' if config.hidden else '64 -> '}"
          f"{config.n_classes} LIF), {config.train_per_class} training samples per class, "
          f"{config.steps} steps of {config.dt * 1e3:g} ms, seed {config.seed}", flush=True)
    result = ev.evolve(config.classes, out=args.out, progress=args.progress, test_backends=backends,
                       **{k: v for k, v in options.items()})
    print(f"{result.generations} generations in {result.wall_s:.1f} s wall, {result.cpu_s:.1f} s CPU "
          f"({result.generations_per_s:.2f} generations/s); training accuracy {result.train_accuracy * 100:.1f} %")
    reference = result.test_accuracy.get("numpy")
    for backend, acc in result.test_accuracy.items():
        drop = "" if reference is None or backend == "numpy" else f" (drop vs numpy {(reference - acc) * 100:+.1f} points)"
        print(f"held-out accuracy on {backend}: {acc * 100:.1f} %{drop}")
    if args.out is not None:
        print(f"wrote {args.out}")
    sys.stdout.flush()
    return 0
