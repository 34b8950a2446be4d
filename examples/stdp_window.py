"""The STDP window: weight change against the pre/post timing difference, on every backend that learns.

    .venv/bin/python examples/stdp_window.py [--out examples_output] [--scheme euler|exact]

One run measures the whole window: channel ``k`` of a ``PlasticLinear``
(pair rule, one synapse per channel) gets one pre spike at 60 ms and its
post neuron is forced to spike ``shift_k`` ms later (-50..+50 ms). The final
weights minus those of the same run without spikes are the window. It is
computed on ``numpy``, ``brian2`` (the continuous-time reference),
``numpy-fixed`` (Loihi 2's learning engine: 8-bit weights, so steps of one
weight LSB with stochastic rounding) and ``lava`` (the rule's coefficients
rounded to Loihi's mantissa/exponent, e.g. 0.01 -> 5 * 2^-9); a backend that
cannot run it says why (``lava-fixed`` lowers fully connected plastic
projections only). Plotted with the analytic window
``a_plus exp(-dt/tau_pre)`` / ``-a_minus exp(dt/tau_post)`` into
``stdp_window.png``.
"""

import argparse
import os

import nir
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import neuroport
from neuroport import backends
from neuroport.errors import NeuroportError
from neuroport.nodes import PlasticLinear

DT, T_PRE, W0 = 1e-3, 60, 0.5
RULE = dict(rule="pair", tau_pre=0.02, tau_post=0.02, a_plus=0.01, a_minus=0.012, w_min=0.0, w_max=1.0)


def window_graph(n: int) -> nir.NIRGraph:
    """``pre -> PlasticLinear (diagonal) -> y (IF)``; ``force -> y`` makes each post neuron spike on demand."""
    return nir.NIRGraph(nodes={
        "pre": nir.Input(input_type={"input": np.array([n])}),
        "force": nir.Input(input_type={"input": np.array([n])}),
        "w": PlasticLinear(weight=np.full((n, n), W0) * np.eye(n), connectivity=np.eye(n, dtype=bool), **RULE),
        "drive": nir.Linear(weight=1000.0 * np.eye(n)),
        "y": nir.IF(r=np.ones(n), v_threshold=np.full(n, 0.5), v_reset=np.zeros(n)),
    }, edges=[("pre", "w"), ("w", "y"), ("force", "drive"), ("drive", "y")], type_check=False)


def window(backend: str, shifts: np.ndarray, *, scheme: str = "euler") -> np.ndarray:
    """Weight change per shift (post minus pre spike time, in steps of ``DT``)."""
    n = shifts.size
    steps = T_PRE + int(np.max(np.abs(shifts))) + 20
    pre, force = np.zeros((steps, n)), np.zeros((steps, n))
    pre[T_PRE, :] = 1
    # the forcing drive takes one step (timing="hardware"): force at shift - 1 to fire at T_PRE + shift
    force[T_PRE + shifts - 1, np.arange(n)] = 1
    kw = dict(backend=backend, dt=DT, steps=steps, scheme=scheme, timing="hardware")
    res = neuroport.run(window_graph(n), inputs={"pre": pre, "force": force}, **kw)
    # baseline: the same run without spikes (in fixed point W0 is itself rounded to the weight grid)
    base = neuroport.run(window_graph(n), inputs={"pre": 0 * pre, "force": 0 * force}, **kw)
    return np.diag(res.weights["w"]) - np.diag(base.weights["w"])


def analytic(shifts_s: np.ndarray) -> np.ndarray:
    return np.where(shifts_s > 0, RULE["a_plus"] * np.exp(-shifts_s / RULE["tau_pre"]),
                    np.where(shifts_s < 0, -RULE["a_minus"] * np.exp(shifts_s / RULE["tau_post"]),
                             RULE["a_plus"] - RULE["a_minus"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="examples_output")
    parser.add_argument("--scheme", default="euler", choices=("euler", "exact"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    shifts = np.arange(-50, 51)
    curves = {}
    status = backends.availability()
    for mode in ("numpy", "brian2", "numpy-fixed", "lava", "lava-fixed"):
        ok, reason = status.get(mode, (False, "not registered"))
        if not ok:
            print(f"{mode}: skipped ({reason})")
            continue
        try:
            curves[mode] = window(mode, shifts, scheme=args.scheme)
        except (NeuroportError, KeyError) as exc:  # a backend without plastic projections says so
            print(f"{mode}: skipped ({type(exc).__name__}: {exc})")
            continue
        print(f"{mode}: dw(+10 ms) = {curves[mode][60]:+.6f}, dw(-10 ms) = {curves[mode][40]:+.6f}")
    if "numpy" in curves and "brian2" in curves:
        print(f"max |numpy - brian2| = {np.max(np.abs(curves['numpy'] - curves['brian2'])):.3g}")

    fig = Figure(figsize=(7, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for k, fine in enumerate((np.linspace(-50, -1e-3, 500), np.linspace(1e-3, 50, 500))):
        ax.plot(fine, analytic(fine * 1e-3), color="0.6", lw=3, label=None if k else "analytic exp(-|dt|/tau)")
    markers = {"numpy": "o", "brian2": "x", "numpy-fixed": "s", "lava": "^", "lava-fixed": "v"}
    for mode, dw in curves.items():
        ax.plot(shifts, dw, markers.get(mode, "."), ms=4, mfc="none", label=mode)
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlabel("t_post - t_pre (ms)")
    ax.set_ylabel("weight change")
    ax.set_title(f"pair STDP window ({args.scheme}, dt = {DT * 1e3:g} ms)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path = os.path.join(args.out, "stdp_window.png")
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
