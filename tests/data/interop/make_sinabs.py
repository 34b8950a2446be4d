"""Make the Sinabs interop fixtures (tests/data/interop/sinabs/*.nir, *.npz).

Run by hand, not by ``make test``.  Sinabs 3.1 pins nir<=1.0.4, so it gets its own
environment, and it requires ``samna`` (SynSense's chip toolchain, whose stub tries
to reach a package index this machine cannot reach): install Sinabs WITHOUT its
dependencies and add the others by hand.  Exact versions used:

    PY=$(ls -d $(pyenv root)/versions/3.11.*/bin/python)   # Python 3.11.7
    $PY -m venv /work/venvs/sinabs
    /work/venvs/sinabs/bin/pip install torch==2.13.0        # CPU wheel, first
    /work/venvs/sinabs/bin/pip install --no-deps sinabs==3.1.3
    /work/venvs/sinabs/bin/pip install "nir==1.0.4" nirtorch==2.0.2 pbr numpy matplotlib
    /work/venvs/sinabs/bin/python tests/data/interop/make_sinabs.py

Sinabs layers integrate one time step per input row.  The ``*Squeeze`` layers
(batch_size=1) take (T, *shape) and are what is exported here with a (1, *shape)
sample (sinabs.to_nir drops axis 0, so the Input node has the per-step shape).
Spikes are the layer outputs (spike COUNTS per step: Sinabs' default MultiSpike
emits several per step), v is ``recordings["v_mem"]`` (``record_states=True``),
after Sinabs' reset of that step.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import nir
import torch
import sinabs
import sinabs.layers as sl
import sinabs.activation as sa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_common import bernoulli_input, calibrate, save_case, seeded_torch_modules  # noqa: E402

T = 80
FRAMEWORK = "sinabs"
SPIKING = (sl.IAFSqueeze, sl.LIFSqueeze)


def build(spec, gains, seed):
    return torch.nn.Sequential(*seeded_torch_modules(spec, gains, seed, (torch.nn.Linear, torch.nn.Conv2d)))


def simulate(model, x):
    """Run the whole (T, *in) sequence (Squeeze layers, batch 1); per spiking layer
    its output spikes and recorded v_mem as (T, *shape)."""
    for m in model:
        if isinstance(m, SPIKING):
            m.reset_states()
    rec = {}
    h = torch.as_tensor(x, dtype=torch.float32)
    with torch.no_grad():
        for k, m in enumerate(model):
            h = m(h)
            if isinstance(m, SPIKING):
                v = m.recordings["v_mem"]
                rec[str(k)] = {"spikes": h.numpy().copy().reshape((x.shape[0],) + tuple(h.shape[1:])),
                               "v": v.numpy().copy().reshape((x.shape[0],) + tuple(h.shape[1:]))}
    return rec


def run_case(case, spec, x, constructor, seed, notes="", gains=None, fix=None):
    n_w = sum(1 for f in spec if f.__name__.startswith("weight"))

    def rates(g):
        return [float(np.mean(r["spikes"] > 0)) for r in simulate(build(spec, g, seed), x).values()]

    gains = calibrate(rates, n_w) if gains is None else np.asarray(gains, float)
    model = build(spec, gains, seed)
    rec = simulate(model, x)
    for m in model:
        if isinstance(m, SPIKING):
            m.reset_states()
    graph = sinabs.to_nir(model, torch.zeros((1,) + x.shape[1:]))
    if fix is not None:
        fix(graph)
    multi = {k: int(r["spikes"].max()) for k, r in rec.items()}
    info = {"framework": "sinabs", "version": sinabs.__version__, "nir_version": nir.version,
            "torch_version": torch.__version__, "constructor": constructor,
            "weight_gains": [float(g) for g in gains], "seed": seed, "max_spikes_per_step": multi,
            "notes": "Squeeze layers, batch_size=1, state starts at zero; spikes are counts per step; "
                     "v = recordings['v_mem'] (after the step's reset). dt NaN: Sinabs works in steps "
                     "(tau_mem in steps). " + notes}
    save_case(FRAMEWORK, case, input=x, layers=rec, dt=float("nan"), info=info,
              nir_writer=lambda p: nir.write(p, graph))


def lin(i, o, bias=False):
    def weight_linear():
        return torch.nn.Linear(i, o, bias=bias)
    return weight_linear


def iaf(n, **kw):
    def layer():
        return sl.IAFSqueeze(batch_size=1, spike_threshold=torch.full((n,) if isinstance(n, int) else n, 1.0),
                             record_states=True, **kw)
    return layer


def main():
    x = bernoulli_input(1, T, (10,), p=0.25)

    # IAF defaults: MultiSpike + MembraneSubtract (-> nir.IF)
    run_case("iaf_ff", [lin(10, 20), iaf(20), lin(20, 8, bias=True), iaf(8)], x,
             {"layers": "Linear IAFSqueeze Linear(bias) IAFSqueeze", "spike_fn": "MultiSpike (default)",
              "reset_fn": "MembraneSubtract (default)", "spike_threshold": 1.0}, seed=31)

    # IAF with SingleSpike + MembraneReset: the exporter writes the same nir.IF
    run_case("iaf_single_reset", [lin(10, 20), iaf(20, spike_fn=sa.SingleSpike, reset_fn=sa.MembraneReset())],
             x, {"layers": "Linear IAFSqueeze", "spike_fn": "SingleSpike", "reset_fn": "MembraneReset()",
                 "spike_threshold": 1.0}, seed=32)

    # LIF (tau_mem in steps, norm_input=True by default: v = a v + (1 - a) I, a = exp(-1/tau))
    def lif(n):
        def lif_layer():
            return sl.LIFSqueeze(batch_size=1, tau_mem=torch.full((n,), 8.0),
                                 spike_threshold=torch.full((n,), 1.0), record_states=True)
        return lif_layer
    run_case("lif_ff", [lin(10, 20), lif(20), lin(20, 8), lif(8)], x,
             {"layers": "Linear LIFSqueeze Linear LIFSqueeze", "tau_mem": 8.0, "spike_threshold": 1.0,
              "spike_fn": "MultiSpike (default)", "reset_fn": "MembraneSubtract (default)",
              "norm_input": True}, seed=33)

    # threshold comparison with dyadic weights (v hits the threshold exactly)
    def weight_diag():
        m = torch.nn.Linear(4, 4, bias=False)
        m.weight.data = torch.diag(torch.tensor([1.0, 0.5, 0.75, 0.25]))
        return m
    x4 = bernoulli_input(3, T, (4,), p=0.5)
    run_case("iaf_threshold_equal", [weight_diag, iaf(4)], x4,
             {"layers": "Linear diag(1, .5, .75, .25) IAFSqueeze", "spike_threshold": 1.0}, seed=34, gains=[1.0],
             notes="membrane reaches the threshold exactly; tells > from >=.")

    # conv: Conv2d -> IAF -> SumPool2d -> Flatten -> Linear -> IAF on 1x8x8
    xc = bernoulli_input(2, T, (1, 8, 8), p=0.2)

    def weight_conv():
        return torch.nn.Conv2d(1, 4, 3, padding=1, bias=False)

    # sinabs.to_nir writes nir.Conv2d(input_shape=None) and nir.Flatten(input_type=None),
    # which nir.write cannot store ("One of data, shape or dtype must be specified"); the
    # one edit made to the exported graph is to fill those two in.
    def set_shapes(graph):
        for node in graph.nodes.values():
            if isinstance(node, nir.Conv2d):
                node.input_shape = np.array([8, 8])
            if isinstance(node, nir.Flatten):
                node.input_type = {"input": np.array([4, 4, 4])}
    run_case("conv", [weight_conv, iaf((4, 8, 8)), lambda: sl.SumPool2d(2), lambda: torch.nn.Flatten(),
                      lin(64, 10), iaf(10)], xc,
             {"layers": "Conv2d(1,4,3,pad 1,no bias) IAFSqueeze SumPool2d(2) Flatten Linear(64,10) IAFSqueeze"},
             seed=35, fix=set_shapes,
             notes="Conv2d.input_shape set to (8, 8) and Flatten.input_type to (4, 4, 4) by hand: Sinabs "
                   "exports None for both, which nir.write rejects.")


if __name__ == "__main__":
    main()
