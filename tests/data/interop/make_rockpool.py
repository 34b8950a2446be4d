"""Make the Rockpool interop fixtures (tests/data/interop/rockpool/*.nir, *.npz).

Run by hand, not by ``make test``.  Rockpool's NIR export lives in its torch modules
(``rockpool.nn.modules.to_nir``), so it needs torch.  Exact versions used:

    PY=$(ls -d $(pyenv root)/versions/3.11.*/bin/python)   # Python 3.11.7
    $PY -m venv /work/venvs/rockpool
    /work/venvs/rockpool/bin/pip install torch==2.13.0      # CPU wheel, first
    /work/venvs/rockpool/bin/pip install rockpool==3.1.0 nir==1.0.8 nirtorch==2.6
    /work/venvs/rockpool/bin/python tests/data/interop/make_rockpool.py

Networks are ``rockpool.nn.combinators.Sequential`` of ``LinearTorch`` and
``LIFTorch`` / ``LIFNeuronTorch`` / ``ExpSynTorch`` (dt = 1e-3 s, Rockpool's
default), evolved over the whole (1, T, n) input with ``record=True``; spikes are
each neuron module's output (spike counts: ``max_spikes_per_dt`` defaults to 2**16),
v is the record's ``vmem`` (after the subtractive reset), i its ``isyn``.  Export:
``rockpool.nn.modules.to_nir(net)`` (its default (1, n_in) sample).
"""
from __future__ import annotations

import os
import sys

import numpy as np
import nir
import torch
import rockpool
from rockpool.nn.combinators import Sequential
from rockpool.nn.modules import LinearTorch, LIFTorch, LIFNeuronTorch, ExpSynTorch, to_nir

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_common import bernoulli_input, calibrate, save_case, seeded_torch_modules  # noqa: E402

T = 80
DT = 1e-3
FRAMEWORK = "rockpool"
NEURONS = (LIFTorch, LIFNeuronTorch, ExpSynTorch)


def build(spec, gains, seed):
    mods = seeded_torch_modules(spec, gains, seed, LinearTorch)
    with torch.no_grad():
        for m in mods:
            if getattr(m, "w_rec", None) is not None:
                m.w_rec.data = m.w_rec.data * 0.05  # the default init runs away (65536 spikes/step)
    return Sequential(*mods)


def node_names(net):
    """Rockpool's Sequential names its children '<index>_<Class>'; nirtorch uses those."""
    return list(net.modules().keys())


def simulate(net, x):
    net.reset_state()
    with torch.no_grad():
        _, _, rec = net(torch.as_tensor(x[None], dtype=torch.float32), record=True)
    out = {}
    for name, mod in net.modules().items():
        if isinstance(mod, NEURONS):
            r = rec[name]
            if isinstance(mod, ExpSynTorch):
                out[name] = {"v": rec[name + "_output"][0].numpy().copy(), "spikes": None}
                continue
            out[name] = {"spikes": rec[name + "_output"][0].numpy().copy(), "v": r["vmem"][0].numpy().copy()}
            if "isyn" in r:
                out[name]["i"] = r["isyn"][0].numpy().copy().reshape(x.shape[0], -1)
    return out


def run_case(case, spec, x, constructor, seed, notes="", gains=None):
    n_w = sum(1 for f in spec if f.__name__.startswith("weight"))

    def rates(g):
        return [float(np.mean(r["spikes"] > 0)) if r["spikes"] is not None else 0.15
                for r in simulate(build(spec, g, seed), x).values()]

    gains = calibrate(rates, n_w) if gains is None else np.asarray(gains, float)
    net = build(spec, gains, seed)
    rec = simulate(net, x)
    net.reset_state()
    graph = to_nir(net)
    # ExpSynTorch's export passes module.tau without .detach(); nir.write then fails
    # ("Can't call numpy() on Tensor that requires grad").  The one edit: detach such tensors.
    for node in graph.nodes.values():
        for k, v in vars(node).items():
            if isinstance(v, torch.Tensor) and v.requires_grad:
                setattr(node, k, v.detach())
    info = {"framework": "rockpool", "version": rockpool.__version__, "nir_version": nir.version,
            "torch_version": torch.__version__, "constructor": constructor,
            "weight_gains": [float(g) for g in gains], "seed": seed,
            "max_spikes_per_step": {k: float(r["spikes"].max()) for k, r in rec.items() if r["spikes"] is not None},
            "notes": f"dt={DT} (Rockpool default); batch of one; state starts at zero; v = record vmem "
                     "(after the subtractive reset). " + notes}
    save_case(FRAMEWORK, case, input=x, layers=rec, dt=DT, info=info,
              nir_writer=lambda p: nir.write(p, graph))


def lin(i, o, bias=False):
    def weight_linear():
        return LinearTorch((i, o), has_bias=bias)
    return weight_linear


def lif(n, **kw):
    kw = {"tau_mem": 20e-3, "tau_syn": 10e-3, "threshold": 1.0, **kw}

    def neuron():
        return LIFTorch(n, dt=DT, **kw)
    return neuron


def main():
    x = bernoulli_input(1, T, (10,), p=0.25)

    run_case("lif_ff", [lin(10, 20), lif(20), lin(20, 8, bias=True), lif(8)], x,
             {"layers": "LinearTorch LIFTorch LinearTorch(bias) LIFTorch", "tau_mem": 20e-3, "tau_syn": 10e-3,
              "threshold": 1.0}, seed=41)

    run_case("lif_bias", [lin(10, 16), lif(16, bias=0.05)], x,
             {"layers": "LinearTorch LIFTorch(bias=0.05)", "tau_mem": 20e-3, "tau_syn": 10e-3, "threshold": 1.0,
              "bias": 0.05}, seed=42, notes="LIFTorch bias = 0.05 (a constant input to vmem every step).")

    run_case("lif_rec", [lin(10, 16), lif(16, has_rec=True)], x,
             {"layers": "LinearTorch LIFTorch(has_rec=True)", "tau_mem": 20e-3, "tau_syn": 10e-3,
              "threshold": 1.0}, seed=43, notes="LIFTorch with its own recurrent w_rec (seeded default init scaled by 0.05).")

    def lifneuron(n):
        def neuron():
            return LIFNeuronTorch(n, tau_mem=20e-3, threshold=1.0, dt=DT)
        return neuron
    run_case("lifneuron_ff", [lin(10, 20), lifneuron(20), lin(20, 8), lifneuron(8)], x,
             {"layers": "LinearTorch LIFNeuronTorch x2", "tau_mem": 20e-3, "threshold": 1.0}, seed=44)

    # threshold comparison: tau_mem = 1e5 s makes exp(-dt/tau) round to 1.0 in float32, so
    # v = v + W x exactly with dyadic weights and the membrane hits the threshold exactly.
    def weight_diag():
        m = LinearTorch((4, 4), has_bias=False)
        m.weight.data = torch.diag(torch.tensor([1.0, 0.5, 0.75, 0.25]))
        return m

    def lifneuron_slow():
        return LIFNeuronTorch(4, tau_mem=1e5, threshold=1.0, dt=DT)
    x4 = bernoulli_input(3, T, (4,), p=0.5)
    run_case("threshold_equal", [weight_diag, lifneuron_slow], x4,
             {"layers": "LinearTorch diag(1, .5, .75, .25) LIFNeuronTorch(tau_mem=1e5 s)", "threshold": 1.0},
             seed=46, gains=[1.0], notes="membrane reaches the threshold exactly; tells > from >=.")

    def expsyn(n):
        def neuron():
            return ExpSynTorch(n, tau=20e-3, dt=DT)
        return neuron
    run_case("lif_expsyn", [lin(10, 20), lif(20), lin(20, 5), expsyn(5)], x,
             {"layers": "LinearTorch LIFTorch LinearTorch ExpSynTorch(tau=20 ms)"}, seed=45)


if __name__ == "__main__":
    main()
