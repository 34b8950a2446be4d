"""Make the Norse interop fixtures (tests/data/interop/norse/*.nir, *.npz).

Run by hand, not by ``make test``.  Environment (exact versions used):

    PY=$(ls -d $(pyenv root)/versions/3.11.*/bin/python)   # Python 3.11.7
    $PY -m venv /work/venvs/norse
    /work/venvs/norse/bin/pip install torch==2.13.0          # CPU wheel, first
    /work/venvs/norse/bin/pip install "torchvision==0.28.*" norse==1.1.0 nir==1.0.8 nirtorch==2.6
    /work/venvs/norse/bin/python tests/data/interop/make_norse.py

(torchvision must be pinned to the torch 2.13 series: norse requires torchvision, and an
unpinned one pulls torch 2.14 with its CUDA packages.)

Each case is a ``norse.torch.SequentialState`` of torch layers and Norse cells with
per-neuron parameter tensors (nir.write cannot store 0-d datasets), simulated step
by step at Norse's default dt = 1e-3 s, batch of one, state starting at zero;
``v`` is the cell state's ``v`` after the step (after Norse's reset), ``i`` the
LIFCell state's ``i`` (after its decay).  Export: ``norse.torch.to_nir(model,
sample, dt=1e-3)`` with a (1, *input) sample (the Input node keeps the batch axis,
as Norse writes it).
"""
from __future__ import annotations

import os
import sys

import numpy as np
import nir
import torch
import norse
import norse.torch as nt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_common import bernoulli_input, calibrate, save_case, seeded_torch_modules  # noqa: E402

T = 80
DT = 1e-3
FRAMEWORK = "norse"
CELLS = (nt.LIFBoxCell, nt.LIFCell, nt.LIBoxCell, nt.IAFCell, nt.LIFRecurrentCell)


def full(n, v):
    return torch.full((n,) if isinstance(n, int) else n, float(v))


def build(spec, gains, seed):
    return nt.SequentialState(*seeded_torch_modules(spec, gains, seed, (torch.nn.Linear, torch.nn.Conv2d)))


def simulate(model, x):
    """Step through the modules; returns {node name: {"spikes","v"[,"i"]}}."""
    mods = list(model)
    states = [None] * len(mods)
    rec = {}
    with torch.no_grad():
        for t in range(x.shape[0]):
            h = torch.as_tensor(x[t][None], dtype=torch.float32)
            for k, m in enumerate(mods):
                if isinstance(m, CELLS):
                    h, states[k] = m(h, states[k])
                    r = rec.setdefault(str(k), {"spikes": [], "v": [], "i": []})
                    r["spikes"].append(h[0].numpy().copy())
                    r["v"].append(states[k].v[0].numpy().copy())
                    if hasattr(states[k], "i"):
                        r["i"].append(states[k].i[0].numpy().copy())
                else:
                    h = m(h)
    return {k: {kk: np.array(vv) for kk, vv in v.items() if vv} for k, v in rec.items()}



def run_case(case, spec, x, constructor, seed, notes="", calibrate_layers=None, fix=None):
    n_w = sum(1 for f in spec if f.__name__.startswith("weight"))

    def rates(g):
        rec = simulate(build(spec, g, seed), x)
        out = []
        for k, r in rec.items():
            li = isinstance(list(build(spec, g, seed))[int(k)], nt.LIBoxCell)
            out.append(0.15 if li else float(np.mean(r["spikes"] > 0)))
        return out

    gains = calibrate(rates, n_w) if calibrate_layers is None else np.asarray(calibrate_layers, float)
    model = build(spec, gains, seed)
    rec = simulate(model, x)
    graph = nt.to_nir(model, torch.zeros((1,) + x.shape[1:]), dt=DT)
    if fix is not None:
        fix(graph)
    # LI readouts have no spikes: store their v only (schema: spikes__ for spiking layers)
    layers = {}
    for k, r in rec.items():
        if isinstance(list(model)[int(k)], nt.LIBoxCell):
            layers[k] = {"v": r["v"], "spikes": None}
        else:
            layers[k] = r
    info = {"framework": "norse", "version": norse.__version__, "nir_version": nir.version,
            "torch_version": torch.__version__, "constructor": constructor,
            "weight_gains": [float(g) for g in gains], "seed": seed,
            "notes": f"dt={DT} (Norse default, passed to to_nir); batch of one; v after the step "
                     "(after Norse's reset). " + notes}
    save_case(FRAMEWORK, case, input=x, layers=layers, dt=DT, info=info,
              nir_writer=lambda p: nir.write(p, graph))


def lin(i, o, bias=False):
    def weight_linear():
        return torch.nn.Linear(i, o, bias=bias)
    return weight_linear


def lifbox(n, tau=1e-2, v_th=1.0, v_leak=0.0, v_reset=0.0):
    def cell():
        return nt.LIFBoxCell(p=nt.LIFBoxParameters(tau_mem_inv=full(n, 1 / tau), v_th=full(n, v_th),
                                                   v_leak=full(n, v_leak), v_reset=full(n, v_reset)), dt=DT)
    return cell


def lif(n, tau_syn=5e-3, tau_mem=1e-2, v_th=1.0):
    def cell():
        return nt.LIFCell(p=nt.LIFParameters(tau_syn_inv=full(n, 1 / tau_syn), tau_mem_inv=full(n, 1 / tau_mem),
                                             v_th=full(n, v_th), v_leak=full(n, 0.0), v_reset=full(n, 0.0)), dt=DT)
    return cell


def main():
    x = bernoulli_input(1, T, (10,), p=0.25)

    # LIFBox (-> nir.LIF) feed-forward, Norse defaults tau_mem = 10 ms, v_th = 1
    run_case("lifbox_ff", [lin(10, 20), lifbox(20), lin(20, 8, bias=True), lifbox(8)], x,
             {"cells": "LIFBoxCell x2", "tau_mem": 1e-2, "v_th": 1.0, "v_leak": 0.0, "v_reset": 0.0,
              "linear2_bias": True}, seed=21)

    # LIFBox with v_leak and v_reset != 0 and per-neuron tau: what the exporter keeps
    run_case("lifbox_vreset", [lin(10, 16), lifbox(16, tau=2e-2, v_th=0.8, v_leak=0.1, v_reset=-0.3)], x,
             {"cells": "LIFBoxCell", "tau_mem": 2e-2, "v_th": 0.8, "v_leak": 0.1, "v_reset": -0.3}, seed=22,
             notes="v_reset = -0.3 and v_leak = 0.1 set in Norse.")

    # LIFCell (current-based, -> nir.CubaLIF) feed-forward
    run_case("lif_ff", [lin(10, 20), lif(20), lin(20, 8), lif(8)], x,
             {"cells": "LIFCell x2", "tau_syn": 5e-3, "tau_mem": 1e-2, "v_th": 1.0}, seed=23)

    # LIFBox hidden layer + LIBox (-> nir.LI) readout
    def libox():
        return nt.LIBoxCell(p=nt.LIBoxParameters(tau_mem_inv=full(5, 1 / 2e-2), v_leak=full(5, 0.0)), dt=DT)
    run_case("lifbox_li", [lin(10, 20), lifbox(20), lin(20, 5), libox], x,
             {"cells": "LIFBoxCell then LIBoxCell", "tau_mem": [1e-2, 2e-2]}, seed=24)

    # IAF (-> nir.IF) with dyadic weights: the membrane hits v_th exactly (> vs >=)
    def weight_diag():
        m = torch.nn.Linear(4, 4, bias=False)
        m.weight.data = torch.diag(torch.tensor([1.0, 0.5, 0.75, 0.25]))
        return m

    def iaf():
        return nt.IAFCell(p=nt.IAFParameters(v_th=full(4, 1.0), v_reset=full(4, 0.0)), dt=DT)
    x4 = bernoulli_input(3, T, (4,), p=0.5)
    run_case("iaf_threshold_equal", [weight_diag, iaf], x4,
             {"cells": "Linear diag(1, .5, .75, .25) then IAFCell", "v_th": 1.0}, seed=25, calibrate_layers=[1.0],
             notes="membrane reaches v_th exactly; tells > from >=.")

    # Conv: Conv2d -> LIFBox -> Conv2d(stride 2) -> LIFBox on 1x8x8 (no Flatten: Norse's
    # exporter has no rule for it)
    xc = bernoulli_input(2, T, (1, 8, 8), p=0.2)

    def weight_conv1():
        return torch.nn.Conv2d(1, 4, 3, padding=1)

    def weight_conv2():
        return torch.nn.Conv2d(4, 2, 3, stride=2, padding=1)
    # Norse writes nir.Conv2d(input_shape=None), which nir.write cannot store ("One of data,
    # shape or dtype must be specified"); the one edit made to an exported graph here is
    # to set each Conv2d's input_shape to its (H, W) input size before writing.
    def set_conv_shapes(graph):
        graph.nodes["0"].input_shape = np.array([8, 8])
        graph.nodes["2"].input_shape = np.array([8, 8])
    run_case("conv", [weight_conv1, lifbox((4, 8, 8)), weight_conv2, lifbox((2, 4, 4))], xc,
             {"layers": "Conv2d(1,4,3,pad 1) LIFBoxCell Conv2d(4,2,3,stride 2,pad 1) LIFBoxCell"}, seed=26,
             fix=set_conv_shapes,
             notes="Conv2d.input_shape set to (8, 8) by hand: Norse exports None, which nir.write rejects.")

    # Recurrent LIFRecurrentCell: is it exported?
    torch.manual_seed(27)
    model = nt.SequentialState(torch.nn.Linear(10, 8), nt.LIFRecurrentCell(8, 8))
    try:
        g = nt.to_nir(model, torch.zeros((1, 10)), dt=DT)
        print("LIFRecurrentCell export gives nodes:", {k: type(v).__name__ for k, v in g.nodes.items()},
              "edges:", g.edges)
    except Exception as e:  # noqa: BLE001 - report what the exporter does
        print("LIFRecurrentCell export fails:", type(e).__name__, e)


if __name__ == "__main__":
    main()
