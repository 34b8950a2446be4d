"""Options and helpers shared by several subcommands."""

from __future__ import annotations

import argparse
import math
import os
import re

import numpy as np

from neuroport import encoders
from neuroport.backend import names as backend_names
from neuroport.duration import format_seconds, parse_duration, steps_for
from neuroport.errors import InputError, UsageError
from neuroport.naming import did_you_mean
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


def duration_text(text: str) -> str:
    """An argparse ``type`` for ``--duration``: checks ``text`` parses (``100ms``, ``0.1s``, ``0.1``), keeps the text."""
    try:
        parse_duration(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


duration_text.__name__ = "duration"


def add_run_length(parser, *, default_steps: int | None = None, what: str = "the run", allow_zero: bool = False):
    """``--steps N`` or ``--duration 100ms`` (mutually exclusive) on ``parser``; read them with :func:`run_steps`.

    ``default_steps``: used when neither is given (``None``: one of them is required).
    """
    g = parser.add_argument_group("run length (give --steps or --duration)").add_mutually_exclusive_group()
    default = f" (default {default_steps})" if default_steps is not None else ""
    g.add_argument("--steps", type=int_range(0, MAX_STEPS) if allow_zero else STEPS, default=None,
                   help=f"length of {what} in time steps of dt{default}" + ("; 0: skip" if allow_zero else ""))
    g.add_argument("--duration", type=duration_text, default=None, metavar="TIME",
                   help=f"length of {what} as a time: 100ms, 0.1s, 500us, 2min or seconds (0.1); "
                        "must be a whole number of steps of dt")
    parser.set_defaults(default_steps=default_steps)


def require_run_length(args) -> None:
    """Refuse a command line with neither ``--steps`` nor ``--duration`` when there is no default."""
    if args.steps is None and args.duration is None and args.default_steps is None:
        raise UsageError("give the run length: --steps N (steps of dt) or --duration TIME (e.g. 100ms)")


def run_steps(args, dt: float) -> int:
    """Steps of ``dt`` (s) from ``--steps`` / ``--duration`` / the command's default (see :func:`add_run_length`)."""
    require_run_length(args)
    if args.steps is None and args.duration is None:
        return args.default_steps
    try:
        return steps_for(steps=args.steps, duration=args.duration, dt=dt, steps_name="--steps",
                         duration_name="--duration")
    except InputError as exc:
        raise UsageError(str(exc)) from None


def add_progress(parser, *, default: bool | None = None) -> None:
    """``--progress`` / ``--no-progress`` (every command that shows progress uses this pair)."""
    what = {None: "on a terminal", True: "on", False: "off"}[default]
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=default,
                        help=f"show progress while running (default: {what})")


def recorded_dt(graph):
    """The dt (s) the graph's metadata records (``neuroport.dt``), or ``None``."""
    meta = getattr(graph, "metadata", None) or {}
    value = meta.get("neuroport.dt", meta.get("dt"))
    try:
        return None if value is None else float(np.asarray(value).item())
    except (TypeError, ValueError):
        return None


def dt_notice(graph, args, path, stream=None) -> None:
    """Print a notice line (stderr) when ``--dt`` overrides a different dt that ``path`` records."""
    import sys

    given, saved = getattr(args, "dt", None), recorded_dt(graph)
    if given is not None and saved is not None and not math.isclose(given, saved, rel_tol=1e-12):
        print(f"notice: --dt {format_seconds(given)} overrides the dt recorded in {path} ({format_seconds(saved)})",
              file=stream or sys.stderr)


def effective_dt(graph, args) -> float:
    """The dt (s) compiling ``graph`` with the command's options would use (``--dt`` > profile > recorded)."""
    from neuroport.compile import resolve_options

    return resolve_options(graph, dt=getattr(args, "dt", None), profile=getattr(args, "profile", None))["dt"]


def backend_list(text: str | None, option: str = "--backends"):
    """The names in a comma-separated ``--backends`` value; ``None`` when not given; refuses an empty list."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError(f"{option} {text!r}: expected one or more comma-separated backend names, e.g. numpy,brian2")
    registered = backend_names()
    for name in names:
        if name not in registered:
            hint = did_you_mean(name, registered).strip(" ()")
            raise UsageError(f"{option}: unknown backend {name!r}; registered: {', '.join(registered)}"
                             + (f"; {hint}" if hint else ""))
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


def _unbatched(spec: str, arrays: dict) -> dict:
    """``arrays``, refusing a batch axis: the commands take ``(steps, n)`` per input."""
    for name, arr in arrays.items():
        if np.ndim(arr) == 3:
            raise InputError(f"--input {spec}: {name!r} has shape {np.shape(arr)}, a batch (steps, B, n); the "
                             "commands run one sample, (steps, n): save one sample, or run the batch from Python "
                             "with neuroport.run (docs/batch.md)")
    return arrays


def parse_input_spec(spec: str | None, program, steps: int, seed: int) -> dict:
    """Inputs from ``poisson:rate=HZ`` / ``regular:rate=HZ`` / ``population:value=X,rate=HZ[,width=W]`` /
    ``zeros`` / ``FILE.npy`` / ``FILE.npz``.

    ``population`` codes the constant ``X`` in [0, 1] with the input's
    neurons as one Gaussian population (preferred values tiling [0, 1],
    width ``W``, default their spacing; peak ``HZ``; Poisson spikes).
    The rule for files: a ``.npy`` holds one array ``(steps, size)`` and is
    allowed only for a network with exactly one input; a ``.npz`` holds one
    array per input, each **named after its input population**
    (``np.savez(path, x=spikes)``). An array with another name (``arr_0``
    from ``np.savez(path, spikes)`` included) is an error listing the
    expected names; inputs it leaves out get zeros.
    """
    names = list(program.inputs)
    sizes = {n: program.populations[n].size for n in names}
    if spec is None or spec == "zeros":
        return {n: np.zeros((steps, sizes[n])) for n in names}
    if spec.endswith((".npz", ".npy")):
        if not os.path.exists(spec):
            raise InputError(f"--input {spec}: no such file")
        expected = ", ".join(names) or "none"
        try:
            if spec.endswith(".npy"):
                if len(names) != 1:
                    raise InputError(f"--input {spec}: a .npy file holds one array, the network has {len(names)} "
                                     f"inputs ({expected}); write a .npz with one array per input, "
                                     f"np.savez(path, {'=..., '.join(names)}=...)")
                return _unbatched(spec, {names[0]: np.load(spec, allow_pickle=False)})
            with np.load(spec, allow_pickle=False) as data:
                keys = list(data.keys())
                unexpected = [k for k in keys if k not in names]
                if unexpected:
                    hints = "".join(did_you_mean(k, names, count=1) for k in unexpected[:3])
                    raise InputError(
                        f"--input {spec}: array(s) {', '.join(map(repr, unexpected))} are not input populations"
                        f"{hints}; a .npz's arrays must be named after the inputs: {expected} "
                        f"(e.g. np.savez(path, {names[0] if names else 'x'}=spikes)); a single array may be a .npy")
                return _unbatched(spec, {k: data[k] for k in keys})
        except (ValueError, OSError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(f"--input {spec}: not a readable numpy file ({exc})") from None
    expected = (f"--input {spec!r}: expected poisson:rate=HZ, regular:rate=HZ, "
                "population:value=X,rate=HZ[,width=W], zeros, FILE.npy or FILE.npz")
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


def load_result(path: str):
    """A :class:`~neuroport.result.Result` from a ``.npz`` file written by ``neuroport run --out``;
    a missing or foreign file is an :class:`InputError` saying how to make one."""
    import zipfile

    from neuroport.result import Result

    if os.path.isdir(path):
        raise InputError(f"{path}: is a folder; give the .npz file 'neuroport run ... --out FILE.npz' wrote")
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file (write one with 'neuroport run NETWORK.nir ... --out {path}')")
    if not os.path.isfile(path):
        raise InputError(f"{path}: not a regular file; give the .npz file 'neuroport run ... --out FILE.npz' wrote")
    try:
        return Result.load_npz(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"{path}: not a result file written by 'neuroport run --out' "
                         f"({type(exc).__name__}: {exc})") from None
