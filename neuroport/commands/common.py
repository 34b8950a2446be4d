"""Options and helpers shared by several subcommands."""

from __future__ import annotations

import argparse
import math
import os
import re

import numpy as np

from neuroport import encoders
from neuroport.errors import InputError, UsageError
from neuroport.profiles import PROFILES
from neuroport.semantics import RESETS


MAX_STEPS = 10 ** 8  # 1e8 steps of 1 ms is 28 hours of simulated time
MAX_SEED = 2 ** 32 - 1  # numpy's seed range


def int_range(lo: int, hi: int | None = None):
    """An argparse ``type`` accepting integers in ``[lo, hi]``; argparse turns a refusal into a usage error.

    Examples
    --------
    >>> int_range(0, 5)("3")
    3
    >>> int_range(1)("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an integer >= 1, got '0'
    """
    allowed = f"an integer >= {lo}" if hi is None else f"an integer in [{lo}, {hi}]"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}") from None
        if value < lo or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}")
        return value

    parse.__name__ = "integer"
    return parse


def float_above(lo: float, *, inclusive: bool):
    """An argparse ``type``: a finite number > ``lo`` (>= when ``inclusive``)."""
    allowed = f"a finite number {'>=' if inclusive else '>'} {lo:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}") from None
        if not (math.isfinite(value) and (value >= lo if inclusive else value > lo)):
            raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


positive_float = float_above(0.0, inclusive=False)  # --dt (s)
nonneg_float = float_above(0.0, inclusive=True)  # --rate (Hz)
STEPS = int_range(1, MAX_STEPS)
SEED = int_range(0, MAX_SEED)


def backend_list(text: str | None, option: str = "--backends"):
    """The names in a comma-separated ``--backends`` value; ``None`` when not given; refuses an empty list."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError(f"{option} {text!r}: expected one or more comma-separated backend names, e.g. numpy,brian2")
    return names


def check_output_path(path: str | None, option: str) -> None:
    """Refuse an output path whose folder is missing or unwritable before any work is done."""
    if not path:
        return
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.isdir(path):
        raise UsageError(f"{option} {path!r}: is a directory; give a file name")
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UsageError(f"{option} {path!r}: {folder} is a file, not a folder")
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path!r}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path!r}: folder {folder} is not writable")


def add_compile_options(parser, *, timing_default=None) -> None:
    """--dt, --scheme, --reset, --timing, --profile (see neuroport.compile)."""
    g = parser.add_argument_group("discretisation (see docs/semantics.md)")
    g.add_argument("--dt", type=positive_float, default=None,
                   help="time step in seconds (e.g. 1e-3); needed unless the file records it or --profile gives it")
    g.add_argument("--scheme", choices=("euler", "exact"), default=None, help="decay discretisation (default euler)")
    g.add_argument("--reset", choices=RESETS, default=None,
                   help="reset to v_reset (zero) or subtract the threshold (default zero); the deferred "
                        "variants of neuroport.semantics; with --profile, the exporter's mechanism "
                        "(zero / subtract), translated per node")
    g.add_argument("--timing", choices=("hardware", "ideal"), default=timing_default,
                   help="hardware: every layer adds one step of latency, as on Loihi 2 (default); "
                        "ideal: feed-forward edges are instantaneous, as in snnTorch/Norse")
    g.add_argument("--profile", default=None,
                   help="conventions of the exporting tool: " + ", ".join(PROFILES)
                        + " (neuroport info FILE suggests one)")


def compile_kwargs(args) -> dict:
    return {k: getattr(args, k, None) for k in ("dt", "scheme", "reset", "timing", "profile")}


def parse_input_spec(spec: str | None, program, steps: int, seed: int) -> dict:
    """Inputs from ``poisson:rate=HZ`` / ``regular:rate=HZ`` / ``population:value=X,rate=HZ[,width=W]`` /
    ``zeros`` / ``FILE.npz``.

    ``population`` codes the constant ``X`` in [0, 1] with the input's
    neurons as one Gaussian population (preferred values tiling [0, 1],
    width ``W``, default their spacing; peak ``HZ``; Poisson spikes).
    An ``.npz`` file holds one array ``(steps, size)`` per input name (or a
    single array for a network with one input).
    """
    names = list(program.inputs)
    sizes = {n: program.populations[n].size for n in names}
    if spec is None or spec == "zeros":
        return {n: np.zeros((steps, sizes[n])) for n in names}
    if spec.endswith(".npz"):
        if not os.path.exists(spec):
            raise InputError(f"--input {spec}: no such file")
        with np.load(spec) as data:
            keys = list(data.keys())
            if len(keys) == 1 and len(names) == 1 and keys[0] not in names:
                return {names[0]: data[keys[0]]}
            return {k: data[k] for k in keys}
    expected = (f"--input {spec!r}: expected poisson:rate=HZ, regular:rate=HZ, "
                "population:value=X,rate=HZ[,width=W], zeros or FILE.npz")
    number = r"([0-9.eE+-]+)"
    pop = re.fullmatch(rf"population:value={number},rate={number}(?:,width={number})?", spec)
    if pop:
        try:
            value, rate = float(pop.group(1)), float(pop.group(2))
            width = None if pop.group(3) is None else float(pop.group(3))
            out = {}
            for i, n in enumerate(names):
                code = encoders.tuning_curves(sizes[n], max_rate_hz=rate, width=width)
                out[n] = code.encode(np.full(steps, value), dt=program.dt, seed=seed + i)
        except ValueError as exc:
            raise InputError(f"--input {spec!r}: {exc}") from None
        return out
    m = re.fullmatch(rf"(poisson|regular):rate={number}", spec)
    if not m:
        raise InputError(expected)
    kind, rate = m.group(1), float(m.group(2))
    out = {}
    for i, n in enumerate(names):
        rates = np.full(sizes[n], rate)
        if kind == "poisson":
            out[n] = encoders.poisson(rates, steps=steps, dt=program.dt, seed=seed + i)
        else:
            out[n] = encoders.regular(rates, steps=steps, dt=program.dt)
    return out
