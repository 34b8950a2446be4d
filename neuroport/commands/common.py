"""Options and helpers shared by several subcommands."""

from __future__ import annotations

import os
import re

import numpy as np

from neuroport import encoders
from neuroport.errors import InputError
from neuroport.profiles import PROFILES
from neuroport.semantics import RESETS


def add_compile_options(parser, *, timing_default=None) -> None:
    """--dt, --scheme, --reset, --timing, --profile (see neuroport.compile)."""
    g = parser.add_argument_group("discretisation (see docs/semantics.md)")
    g.add_argument("--dt", type=float, default=None,
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
    """Inputs from ``poisson:rate=HZ`` / ``regular:rate=HZ`` / ``zeros`` / ``FILE.npz``.

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
    m = re.fullmatch(r"(poisson|regular):rate=([0-9.eE+-]+)", spec)
    if not m:
        raise InputError(f"--input {spec!r}: expected poisson:rate=HZ, regular:rate=HZ, zeros or FILE.npz")
    kind, rate = m.group(1), float(m.group(2))
    out = {}
    for i, n in enumerate(names):
        rates = np.full(sizes[n], rate)
        if kind == "poisson":
            out[n] = encoders.poisson(rates, steps=steps, dt=program.dt, seed=seed + i)
        else:
            out[n] = encoders.regular(rates, steps=steps, dt=program.dt)
    return out
