"""Make the Spyx interop fixtures (tests/data/interop/spyx/*.nir, *.npz).

Run by hand, not by ``make test``.  Exact versions used:

    PY=$(ls -d $(pyenv root)/versions/3.11.*/bin/python)   # Python 3.11.7
    $PY -m venv /work/venvs/spyx
    /work/venvs/spyx/bin/pip install jax jaxlib              # CPU, 0.10.2
    /work/venvs/spyx/bin/pip install spyx==1.0.0             # brings nir 1.0.8, flax nnx
    /work/venvs/spyx/bin/python tests/data/interop/make_spyx.py

A ``flax.nnx.Sequential`` of ``nnx.Linear`` and ``spyx.nn.LIF`` layers, stepped by
hand (each Spyx neuron is ``spikes, V = layer(x, V)``), batch of one, V from zero;
v is the V returned by the step.  Export: ``spyx.nir.to_nir(model, {"input": n_in},
{"output": n_out}, dt=1)`` (Spyx's default dt).
"""
from __future__ import annotations

import os
import sys

import numpy as np
import jax
import jax.numpy as jnp
import nir
import spyx
import spyx.nn as snn
from flax import nnx
from spyx.nir import to_nir

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_common import bernoulli_input, calibrate, save_case  # noqa: E402

T = 80
FRAMEWORK = "spyx"


NEURONS = (snn.LIF, snn.RLIF)


def build(sizes, gains, seed, beta=0.9, recurrent_first=False):
    rngs = nnx.Rngs(seed)
    layers = []
    for k, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nnx.Linear(i, o, use_bias=False, rngs=rngs)
        lin.kernel[...] = lin.kernel[...] * gains[k]
        if recurrent_first and k == 0:
            neuron = snn.RLIF((o,), beta=beta, rngs=rngs)
            neuron.recurrent_w[...] = neuron.recurrent_w[...] * 0.3
        else:
            neuron = snn.LIF((o,), beta=beta, rngs=rngs)
        layers += [lin, neuron]
    return nnx.Sequential(*layers)


def simulate(model, x):
    layers = model.layers
    V = [jnp.zeros((1,) + tuple(layer.hidden_shape)) if isinstance(layer, NEURONS) else None for layer in layers]
    rec = {}
    for t in range(x.shape[0]):
        h = jnp.asarray(x[t][None], dtype=jnp.float32)
        for k, layer in enumerate(layers):
            if isinstance(layer, NEURONS):
                h, V[k] = layer(h, V[k])
                name = f"layer_{k}.lif" if isinstance(layer, snn.RLIF) else f"layer_{k}"
                r = rec.setdefault(name, {"spikes": [], "v": []})
                r["spikes"].append(np.asarray(h[0]))
                r["v"].append(np.asarray(V[k][0]))
            else:
                h = layer(h)
    return {k: {kk: np.array(vv) for kk, vv in v.items()} for k, v in rec.items()}


def run_case(case, x, sizes, seed, constructor, recurrent_first=False, notes=""):
    def rates(g):
        return [float(np.mean(r["spikes"] > 0))
                for r in simulate(build(sizes, g, seed, recurrent_first=recurrent_first), x).values()]

    gains = calibrate(rates, len(sizes) - 1)
    model = build(sizes, gains, seed, recurrent_first=recurrent_first)
    rec = simulate(model, x)
    graph = to_nir(model, {"input": np.array([sizes[0]])}, {"output": np.array([sizes[-1]])}, dt=1)
    info = {"framework": "spyx", "version": spyx.__version__, "nir_version": nir.version,
            "jax_version": jax.__version__, "constructor": constructor,
            "weight_gains": [float(g) for g in gains], "seed": seed,
            "notes": "dt=1 passed to to_nir (Spyx default); v = V returned by the step. " + notes}
    save_case(FRAMEWORK, case, input=x, layers=rec, dt=1.0, info=info,
              nir_writer=lambda p: nir.write(p, graph))


def main():
    x = bernoulli_input(1, T, (10,), p=0.25)
    run_case("lif_ff", x, (10, 20, 8), 51,
             {"layers": "nnx.Linear(no bias) spyx.nn.LIF x2", "beta": 0.9, "threshold": 1.0})
    run_case("rlif", x, (10, 16, 8), 52,
             {"layers": "nnx.Linear RLIF(16) nnx.Linear LIF", "beta": 0.9, "threshold": 1.0},
             recurrent_first=True, notes="RLIF recurrent_w scaled by 0.3 after seeding; exported as a "
                                         "nested NIRGraph node layer_1 (inner nodes layer_1.lif, ...).")


if __name__ == "__main__":
    main()
