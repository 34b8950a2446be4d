"""The compiled engines (``engine="compiled"``, numba) against the numpy reference path.

Fixed point: the same integers at every step (every probed state, every step), the same spikes,
final states, overflow counters and learned weights, on every case of
``neuroport.testing.cases`` and on random integer Programs of every model kind. Float: the same
spikes and states to the last bit (``numpy.array_equal``): the kernels do each neuron's operations
in numpy's order and sum each delivery per target in ``bincount``'s order (see
``backends/compiled.py``), so no tolerance is needed.
"""

import numpy as np
import pytest

import neuroport
from neuroport.errors import NeuroportError, ParameterError
from neuroport.models import jit
from neuroport.models.base import runner
from neuroport.testing import cases as C
from neuroport.testing.random_networks import KINDS, random_fixed_program, random_inputs

pytestmark = pytest.mark.skipif(not jit.AVAILABLE, reason=jit.REASON or "numba missing")


def _probes(program):
    out = []
    for name, pop in program.populations.items():
        if pop.is_input:
            continue
        out += [(name, var) for var in runner(pop).used_states(pop)]
    return out


def _run_both(backend_name, program, inputs, steps):
    be = neuroport.backend.get(backend_name)
    ins = be.check_inputs(program, inputs, steps)
    out = {}
    for path in ("numpy", "compiled"):
        eng = be.make_engine(program, path)
        trains, states, _ = eng.run(steps=steps, inputs=ins, probes=_probes(program), progress=False)
        out[path] = (trains, states, eng.final_state(), eng.learned_weights(), getattr(eng, "counters", {}), eng)
    return out


def _assert_same(out, label):
    (t0, s0, f0, w0, c0, e0), (t1, s1, f1, w1, c1, e1) = out["numpy"], out["compiled"]
    assert e0.path_meta()["engine_path"] == "numpy" and e1.path_meta()["engine_path"] == "compiled"
    for name in t0:
        np.testing.assert_array_equal(t0[name].steps, t1[name].steps, err_msg=f"{label}: {name} spike steps")
        np.testing.assert_array_equal(t0[name].neurons, t1[name].neurons, err_msg=f"{label}: {name} spike neurons")
    for name, variables in s0.items():
        for var, arr in variables.items():
            assert arr.dtype == s1[name][var].dtype
            np.testing.assert_array_equal(arr, s1[name][var], err_msg=f"{label}: {name}.{var} per step")
    for name, variables in f0.items():
        for var, arr in variables.items():
            np.testing.assert_array_equal(arr, f1[name][var], err_msg=f"{label}: final {name}.{var}")
    for name, w in w0.items():
        np.testing.assert_array_equal(w, w1[name], err_msg=f"{label}: learned {name}")
    assert c0 == c1, f"{label}: overflow counters"


@pytest.mark.parametrize("timing", ["hardware", "ideal"])
@pytest.mark.parametrize("name", sorted(C.ALL))
def test_float_cases_identical(name, timing):
    case = C.ALL[name](0)
    program = neuroport.compile(case.graph, dt=case.dt, timing=timing, **case.options)
    _assert_same(_run_both("numpy", program, case.inputs, case.steps), f"{name}/{timing}")


@pytest.mark.parametrize("name", sorted(C.ALL))
def test_fixed_cases_identical(name):
    case = C.ALL[name](0)
    try:
        program, _ = neuroport.quantize(neuroport.compile(case.graph, dt=case.dt, timing="hardware", **case.options))
    except NeuroportError as exc:
        pytest.skip(f"{name} has no fixed-point Program: {exc}")
    _assert_same(_run_both("numpy-fixed", program, case.inputs, case.steps), name)


@pytest.mark.parametrize("seed", range(12))
def test_fixed_random_programs_identical(seed):
    program = random_fixed_program(seed, models=KINDS, depression=0.3 if seed % 2 else 0.0)
    steps = 120
    _assert_same(_run_both("numpy-fixed", program, random_inputs(program, steps, seed), steps), f"seed {seed}")


def test_fixed_overflows_counted_alike():
    """A network driven into wraps and saturations counts them identically on both paths."""
    program = random_fixed_program(5, models=("lif",), aligned=False)
    steps = 150
    inputs = {n: np.ones((steps, program.populations[n].size)) for n in program.inputs}
    out = _run_both("numpy-fixed", program, inputs, steps)
    _assert_same(out, "overflow")


def test_coba_float_and_fixed_identical():
    from neuroport.models.networks.benchmarks import coba_network

    program = neuroport.compile(coba_network(n_neurons=600, p=0.05).to_nir(), dt=1e-4)
    out = _run_both("numpy", program, None, 400)
    _assert_same(out, "coba float")
    assert out["numpy"][0]["exc"].count > 0
    fixed, _ = neuroport.quantize(program)
    _assert_same(_run_both("numpy-fixed", fixed, None, 400), "coba fixed")


def test_engine_switch_and_meta(monkeypatch):
    case = C.single_lif(0)
    r = neuroport.run(case.graph, dt=case.dt, steps=case.steps, inputs=case.inputs, engine="numpy")
    assert r.meta["engine_path"] == "numpy"
    r = neuroport.run(case.graph, dt=case.dt, steps=case.steps, inputs=case.inputs, engine="compiled")
    assert r.meta["engine_path"] == "compiled" and r.meta["numpy_parts"] == []
    monkeypatch.setenv(jit.ENV, "numpy")
    assert neuroport.run(case.graph, dt=case.dt, steps=5, inputs={k: v[:5] for k, v in case.inputs.items()}
                         ).meta["engine_path"] == "numpy"
    monkeypatch.setenv(jit.ENV, "fast")
    with pytest.raises(ParameterError, match="NEUROPORT_ENGINE"):
        jit.engine_path()
    with pytest.raises(ParameterError, match="expected one of"):
        neuroport.run(case.graph, dt=case.dt, steps=5, engine="cuda")
    with pytest.raises(NeuroportError, match="engine"):
        neuroport.run(case.graph, dt=case.dt, steps=5, backend="brian2", engine="compiled")


def test_simulator_compiled_keeps_state():
    case = C.recurrent_ei(0)
    sims = [neuroport.Simulator(case.graph, dt=case.dt, engine=e) for e in ("numpy", "compiled")]
    for sim in sims:
        for k in range(3):
            sl = {n: a[k * 100:(k + 1) * 100] for n, a in case.inputs.items()}
            sim.last = sim.run(100, sl)
    a, b = (s.last for s in sims)
    for name in a.spikes:
        np.testing.assert_array_equal(a.spikes[name].steps, b.spikes[name].steps)
    assert b.meta.get("engine_path") == "compiled"
