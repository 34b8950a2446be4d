"""Make the snnTorch interop fixtures (tests/data/interop/snntorch/*.nir, *.npz).

Run by hand, not by ``make test``.  Environment (exact versions used):

    PY=$(ls -d $(pyenv root)/versions/3.11.*/bin/python)   # Python 3.11.7
    $PY -m venv /work/venvs/snntorch
    /work/venvs/snntorch/bin/pip install torch==2.13.0      # CPU wheel, first
    /work/venvs/snntorch/bin/pip install snntorch==1.0.0 nir==1.0.8 nirtorch==2.6
    /work/venvs/snntorch/bin/python tests/data/interop/make_snntorch.py

Each case builds a small seeded network, tunes one weight gain per spiking layer
(fixture_common.calibrate) so every layer spikes at 5-30 % of steps, simulates it
step by step in snnTorch (batch of one, ``init_hidden=True`` as in snnTorch's
export docs), records each spiking layer's spikes and membrane (``lif.mem`` after
the step, i.e. after any reset snnTorch applied in that step; ``lif.syn`` for the
synaptic current), and exports with ``snntorch.export_to_nir`` (sample data of
shape (1, *input), so the Input node carries the batch axis as snnTorch writes it).
"""
from __future__ import annotations

import os
import sys

import numpy as np
import nir
import torch
import snntorch as snn
from snntorch import utils as snn_utils
from snntorch.export_nir import export_to_nir

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_common import bernoulli_input, calibrate, save_case  # noqa: E402

T = 80
FRAMEWORK = "snntorch"


class Net(torch.nn.Module):
    """Sequential container with named children (the names become NIR node names)."""

    def __init__(self, layers):
        super().__init__()
        self.names = [n for n, _ in layers]
        for n, m in layers:
            setattr(self, n, m)

    def forward(self, x):
        for n in self.names:
            x = getattr(self, n)(x)
        return x


SPIKING = (snn.Leaky, snn.Synaptic, snn.RLeaky, snn.RSynaptic)


def neuron_nodes(name, module):
    """NIR node name under which snnTorch exports a spiking layer."""
    return f"{name}.lif" if isinstance(module, (snn.RLeaky, snn.RSynaptic)) else name


def build(spec, gains, seed):
    """spec: list of (name, factory); factories get called after seeding."""
    torch.manual_seed(seed)
    layers = [(n, f()) for n, f in spec]
    k = 0
    with torch.no_grad():
        for n, m in layers:
            if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
                m.weight.mul_(gains[k])
                k += 1
            if isinstance(m, (snn.RLeaky, snn.RSynaptic)):
                m.recurrent.weight.mul_(0.5)  # moderate recurrent drive
    return Net(layers)


def simulate(net, x):
    """Step the net over x (T, *in); returns {node: {"spikes","v"[,"i"]}}."""
    snn_utils.reset(net)
    rec = {}
    with torch.no_grad():
        for t in range(x.shape[0]):
            h = torch.as_tensor(x[t][None], dtype=torch.float32)
            for n in net.names:
                m = getattr(net, n)
                h = m(h)
                if isinstance(m, SPIKING):
                    r = rec.setdefault(neuron_nodes(n, m), {"spikes": [], "v": [], "i": []})
                    r["spikes"].append(h[0].numpy().copy())
                    r["v"].append(m.mem[0].numpy().copy())
                    if isinstance(m, (snn.Synaptic, snn.RSynaptic)):
                        r["i"].append(torch.as_tensor(m.syn)[0].numpy().copy())
    return {k: {kk: np.array(vv) for kk, vv in v.items() if vv} for k, v in rec.items()}


def run_case(case, spec, x, constructor, seed, notes=""):
    n_w = sum(1 for n, _ in spec if n.startswith(("fc", "conv")))

    def rates(g):
        rec = simulate(build(spec, g, seed), x)
        return [float(np.mean(r["spikes"] > 0)) for r in rec.values()]

    gains = calibrate(rates, n_w)
    net = build(spec, gains, seed)
    rec = simulate(net, x)
    snn_utils.reset(net)
    # ignore_dims=[0]: without it export_to_nir's type inference fails on the batch axis
    # ("input.output: [[ 1 10]] -> fc1.input: [[10]]").
    graph = export_to_nir(net, torch.zeros((1,) + x.shape[1:]), ignore_dims=[0])
    info = {"framework": "snntorch", "version": snn.__version__, "nir_version": nir.version,
            "torch_version": torch.__version__, "constructor": constructor,
            "weight_gains": [float(g) for g in gains], "seed": seed,
            "notes": "init_hidden=True, batch of one, state starts at zero; v = lif.mem after "
                     "the step (after snnTorch's reset in that step, if any). " + notes}
    save_case(FRAMEWORK, case, input=x, layers=rec, dt=1e-4, info=info,
              nir_writer=lambda p: nir.write(p, graph))


def lin(i, o, bias=False):
    def weight_linear():
        return torch.nn.Linear(i, o, bias=bias)
    return weight_linear


def main():
    x = bernoulli_input(1, T, (10,), p=0.25)

    def vec(n, kw):
        """Per-neuron beta/alpha/threshold tensors: export_to_nir's type inference (nir 1.0.8)
        rejects 0-d LIF parameters ("lif1.input: []"), so the layers get (n,) tensors."""
        shape = n if isinstance(n, tuple) else (n,)
        return {k: (torch.full(shape, float(v)) if k in ("beta", "alpha", "threshold")
                    and not torch.is_tensor(v) else v) for k, v in kw.items()}

    def leaky(n, **kw):
        def neuron():
            return snn.Leaky(init_hidden=True, **vec(n, kw))
        return neuron

    def synaptic(n, **kw):
        def neuron():
            return snn.Synaptic(init_hidden=True, **vec(n, kw))
        return neuron

    # 1-2: Leaky feed-forward, reset to zero / by subtraction
    for case, reset in (("leaky_ff_zero", "zero"), ("leaky_ff_subtract", "subtract")):
        kw = dict(beta=0.9, threshold=1.0, reset_mechanism=reset)
        spec = [("fc1", lin(10, 20)), ("lif1", leaky(20, **kw)),
                ("fc2", lin(20, 8)), ("lif2", leaky(8, **kw))]
        run_case(case, spec, x, {"layer": "Leaky", **kw, "linear_bias": False}, seed=11)

    # Scalar (0-d) beta/threshold, as most snnTorch code writes them, cannot be exported with
    # nir 1.0.8: export_to_nir's final infer_types() raises "Type inference error: type mismatch:
    # fc1.output: [[20]] -> lif1.input: []", and skipping that call (nirtorch.extract_nir_graph with
    # snnTorch's module map) gives a graph that nir.write rejects ("Scalar datasets don't support
    # chunk/filter options").  Hence the (n,) parameter tensors above.

    # 3: Leaky with biased Linear (-> nir.Affine), threshold 0.5, per-neuron beta
    betas = torch.linspace(0.7, 0.95, 8)
    spec = [("fc1", lin(10, 20, bias=True)),
            ("lif1", leaky(20, beta=0.8, threshold=0.5, reset_mechanism="subtract")),
            ("fc2", lin(20, 8, bias=True)),
            ("lif2", leaky(8, beta=betas, threshold=0.5, reset_mechanism="subtract"))]
    run_case("leaky_affine_vecbeta", spec, x,
             {"layer": "Leaky", "lif1": {"beta": 0.8, "threshold": 0.5, "reset_mechanism": "subtract"},
              "lif2": {"beta": betas.tolist(), "threshold": 0.5, "reset_mechanism": "subtract"},
              "linear_bias": True}, seed=12)

    # 4: reset_delay=False (reset applied in the spiking step itself)
    kw = dict(beta=0.9, threshold=1.0, reset_mechanism="subtract", reset_delay=False)
    spec = [("fc1", lin(10, 20)), ("lif1", leaky(20, **kw)), ("fc2", lin(20, 8)), ("lif2", leaky(8, **kw))]
    run_case("leaky_ff_subtract_nodelay", spec, x, {"layer": "Leaky", **kw}, seed=13,
             notes="reset_delay=False is not written in the graph.")

    # 5-6: Synaptic (CubaLIF) feed-forward
    for case, reset in (("synaptic_ff_subtract", "subtract"), ("synaptic_ff_zero", "zero")):
        kw = dict(alpha=0.8, beta=0.9, threshold=1.0, reset_mechanism=reset)
        spec = [("fc1", lin(10, 20)), ("lif1", synaptic(20, **kw)),
                ("fc2", lin(20, 8)), ("lif2", synaptic(8, **kw))]
        run_case(case, spec, x, {"layer": "Synaptic", **kw}, seed=14)

    # 7-9: recurrent RLeaky / RSynaptic (all_to_all Linear recurrence, with bias)
    for case, reset in (("rleaky_subtract", "subtract"), ("rleaky_zero", "zero")):
        kw = dict(beta=0.9, threshold=1.0, reset_mechanism=reset)

        def rleaky(kw=kw):
            return snn.RLeaky(linear_features=16, init_hidden=True, **kw)
        spec = [("fc1", lin(10, 16)), ("lif1", rleaky), ("fc2", lin(16, 8)), ("lif2", leaky(8, **kw))]
        run_case(case, spec, x, {"layer": "RLeaky(linear_features=16) then Leaky", **kw}, seed=15,
                 notes="recurrent nn.Linear(16,16) has a bias (exported as Affine w_rec); "
                       "its weight scaled by 0.5 after seeding.")

    kw = dict(alpha=0.8, beta=0.9, threshold=1.0, reset_mechanism="subtract")

    def rsyn():
        return snn.RSynaptic(linear_features=16, init_hidden=True, **kw)
    spec = [("fc1", lin(10, 16)), ("lif1", rsyn), ("fc2", lin(16, 8)), ("lif2", synaptic(8, **kw))]
    run_case("rsynaptic_subtract", spec, x, {"layer": "RSynaptic(linear_features=16) then Synaptic", **kw},
             seed=16, notes="recurrent nn.Linear(16,16) with bias, weight scaled by 0.5.")

    # 10: threshold comparison: dyadic weights and beta = 0.5 make the membrane hit the
    # threshold exactly (float32 exact), so "v > thr" and "v >= thr" give different spikes.
    def weight_diag():
        m = torch.nn.Linear(4, 4, bias=False)
        m.weight.data = torch.diag(torch.tensor([1.0, 0.5, 0.75, 1.25]))
        return m
    kw = dict(beta=0.5, threshold=1.0, reset_mechanism="subtract")
    spec = [("fc1", weight_diag), ("lif1", leaky(4, **kw))]
    x4 = bernoulli_input(3, T, (4,), p=0.5)
    net = build(spec, [1.0], seed=18)
    rec = simulate(net, x4)
    snn_utils.reset(net)
    graph = export_to_nir(net, torch.zeros((1, 4)), ignore_dims=[0])
    save_case(FRAMEWORK, "threshold_equal", input=x4, layers=rec, dt=1e-4,
              info={"framework": "snntorch", "version": snn.__version__, "nir_version": nir.version,
                    "torch_version": torch.__version__, "seed": 18,
                    "constructor": {"layer": "Linear(4,4) diag(1, .5, .75, 1.25) then Leaky", **kw},
                    "notes": "membrane reaches the threshold exactly; tells > from >=."},
              nir_writer=lambda p: nir.write(p, graph))

    # 11: conv net: Conv2d -> Leaky -> AvgPool2d -> Flatten -> Linear -> Leaky on 1x8x8 input
    xc = bernoulli_input(2, T, (1, 8, 8), p=0.2)
    kw = dict(beta=0.9, threshold=1.0, reset_mechanism="subtract")

    def weight_conv():
        return torch.nn.Conv2d(1, 4, 3, padding=1, bias=True)
    spec = [("conv1", weight_conv), ("lif1", leaky((4, 8, 8), **kw)), ("pool1", lambda: torch.nn.AvgPool2d(2)),
            ("flat", lambda: torch.nn.Flatten()), ("fc2", lin(64, 10)), ("lif2", leaky(10, **kw))]
    run_case("conv", spec, xc, {"layer": "Conv2d(1,4,3,padding=1,bias) Leaky AvgPool2d(2) Flatten "
                                         "Linear(64,10) Leaky", **kw}, seed=17)


if __name__ == "__main__":
    main()
