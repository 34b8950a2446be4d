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


# -- the whole-run loop (backends/compiled.py run_steps) against the per-step paths ----------------------

def _run_three(program, inputs, steps, probes=None):
    """numpy engine, compiled per step, compiled whole-run: ``{path: (trains, states, final, meta)}``."""
    from neuroport.backends.compiled import CompiledEngine
    from neuroport.backends.numpy import Engine

    be = neuroport.backend.get("numpy")
    ins = be.check_inputs(program, inputs, steps)
    probes = _probes(program) if probes is None else probes
    out = {}
    for label, make in (("numpy", lambda: Engine(program)), ("step", lambda: CompiledEngine(program, whole_run=False)),
                        ("whole", lambda: CompiledEngine(program, whole_run=True))):
        eng = make()
        trains, states, _ = eng.run(steps=steps, inputs=ins, probes=probes, progress=False)
        out[label] = (trains, states, eng.final_state(), eng.path_meta(), eng.learned_weights())
    return out


def _assert_three(out, label, whole=True):
    assert out["whole"][3]["whole_run"] is whole, f"{label}: whole-run loop {'not ' if whole else ''}taken"
    assert out["step"][3]["whole_run"] is False
    t0, s0, f0, _, w0 = out["numpy"]
    for path in ("step", "whole"):
        t1, s1, f1, _, w1 = out[path]
        assert list(w0) == list(w1)
        for name in w0:
            assert np.array_equal(np.asarray(w0[name]), np.asarray(w1[name])), f"{label}/{path}: learned {name}"
        assert list(t0) == list(t1) and list(s0) == list(s1)
        for name in t0:
            np.testing.assert_array_equal(t0[name].steps, t1[name].steps, err_msg=f"{label}/{path}: {name} steps")
            np.testing.assert_array_equal(t0[name].neurons, t1[name].neurons, err_msg=f"{label}/{path}: {name}")
        for name, variables in s0.items():
            for var, arr in variables.items():
                assert arr.dtype == s1[name][var].dtype and arr.shape == s1[name][var].shape
                np.testing.assert_array_equal(arr, s1[name][var], err_msg=f"{label}/{path}: {name}.{var} per step")
        for name, variables in f0.items():
            for var, arr in variables.items():
                np.testing.assert_array_equal(arr, f1[name][var], err_msg=f"{label}/{path}: final {name}.{var}")


#: canonical cases the whole-run loop takes (the others need a per-step Python callback or a numpy step)
WHOLE_RUN_CASES = ("adaptive", "conductance", "cubalif_chain", "delays", "recurrent_ei", "single_lif", "stdp", "stdp_sparse",
                   "subtract_reset")


@pytest.mark.parametrize("timing", ["hardware", "ideal"])
@pytest.mark.parametrize("name", sorted(C.ALL))
def test_whole_run_cases_identical(name, timing):
    case = C.ALL[name](0)
    program = neuroport.compile(case.graph, dt=case.dt, timing=timing, **case.options)
    out = _run_three(program, case.inputs, case.steps)
    _assert_three(out, f"{name}/{timing}", whole=name in WHOLE_RUN_CASES)
    if name in WHOLE_RUN_CASES:
        assert sum(t.count for t in out["numpy"][0].values()) > 0, "a case without spikes proves little"


def _random_float_network(seed):
    """A seeded random float network: 1-4 populations of LIF (with or without refractoriness, adaptive
    threshold, adaptation), CubaLIF or CondLIF, input and recurrent projections with random weights
    and per-target delays; with graded (non-0/1) inputs for some seeds."""
    from neuroport import CondLIF, CubaLIF, LIF

    rng = np.random.default_rng(seed)
    net = neuroport.Network()
    x = net.input(int(rng.integers(5, 30)), name="x")
    pops, kinds = [], []
    for k in range(int(rng.integers(1, 5))):
        n = int(rng.integers(3, 60))
        kind = str(rng.choice(["lif", "lif_ext", "cuba", "cond"]))
        if kind == "lif":
            model = LIF(tau=rng.uniform(0.005, 0.05), v_threshold=rng.uniform(0.5, 2.0))
        elif kind == "lif_ext":
            model = LIF(tau=rng.uniform(0.005, 0.05), v_threshold=1.0, r=rng.uniform(1, 10),
                        refractory=float(rng.integers(0, 4)) * 1e-3, tau_theta=0.05, theta_plus=rng.uniform(0, 0.3),
                        tau_adapt=0.1, b_adapt=rng.uniform(0, 0.1))
        elif kind == "cuba":
            model = CubaLIF(tau_syn=rng.uniform(0.002, 0.01), tau_mem=rng.uniform(0.01, 0.04), v_threshold=1.0)
        else:
            model = CondLIF(refractory=float(rng.integers(0, 3)) * 1e-3, tau_adapt=0.1,
                            b_adapt=float(rng.choice([0.0, 0.05])))
        pops.append(net.population(n, model, name=f"p{k}"))
        kinds.append(kind)
    for j, (post, kind) in enumerate(zip(pops, kinds)):
        scale = 0.3 if kind == "cond" else 3.0
        for pre in [x] + [p for p in pops if rng.random() < 0.5]:
            mu = float(rng.uniform(-0.3, 1.0)) * scale
            delay = rng.choice([0.0, 2e-3, -1.0])
            if delay < 0:  # per target neuron, 0-5 steps
                delay = rng.integers(0, 6, size=net.size(post)) * 1e-3
            net.connect(pre, post, weight=lambda r, m, mu=mu, s=scale: r.normal(mu, s / 2, m),
                        p=float(rng.uniform(0.1, 0.6)), seed=int(rng.integers(1 << 30)), delay=delay)
    net.output(pops[-1])
    return net


@pytest.mark.parametrize("seed", range(16))
def test_whole_run_random_float_networks_identical(seed):
    net = _random_float_network(seed)
    rng = np.random.default_rng(seed + 500)
    timing = "ideal" if seed % 3 == 0 else "hardware"
    program = neuroport.compile(net.to_nir(), dt=1e-3, timing=timing, reset="subtract" if seed % 4 == 1 else "zero")
    steps = 150
    n_in = program.populations["x"].size
    x = (rng.random((steps, n_in)) < rng.uniform(0.05, 0.4)).astype(float)
    if seed % 2:
        x *= rng.uniform(0.2, 2.5, size=x.shape)  # graded input values
    out = _run_three(program, {"x": x}, steps)
    _assert_three(out, f"random seed {seed}")


def test_whole_run_spike_buffer_grows_and_resumes():
    """A run with more spikes than the first spike buffer holds (4 x neurons, 65536 at least) gives
    the same trains as the numpy engine: the loop stops, the buffers grow, the loop resumes."""
    from neuroport import LIF

    net = neuroport.Network()
    x = net.input(10, name="x")
    a = net.population(200, LIF(tau=0.02, v_threshold=0.5), name="a")
    net.connect(x, a, weight=5.0)
    program = neuroport.compile(net.to_nir(), dt=1e-3)
    steps = 800
    out = _run_three(program, {"x": np.ones((steps, 10))}, steps, probes=[("a", "v")])
    _assert_three(out, "buffer")
    assert out["numpy"][0]["a"].count > 1 << 16


def test_whole_run_simulator_continues_and_probes():
    """Runs in pieces (a Simulator) agree with one numpy run: the loop continues the engine's rings and
    states; a probe of the input and of v (with its offset) come out as on the numpy path."""
    case = C.delays(0)
    sims = [neuroport.Simulator(case.graph, dt=case.dt, engine=e) for e in ("numpy", "compiled")]
    chunks = []
    for sim in sims:
        parts = []
        for k in range(3):
            sl = {n: a[k * 50:(k + 1) * 50] for n, a in case.inputs.items()}
            parts.append(sim.run(50, sl))
        chunks.append(parts)
    for ra, rb in zip(*chunks):
        assert rb.meta["whole_run"] is True
        for name in ra.spikes:
            np.testing.assert_array_equal(ra.spikes[name].steps, rb.spikes[name].steps)
            np.testing.assert_array_equal(ra.spikes[name].neurons, rb.spikes[name].neurons)
        for name, variables in ra.states.items():
            for var, arr in variables.items():
                np.testing.assert_array_equal(arr, rb.states[name][var])
    program = neuroport.compile(case.graph, dt=case.dt)
    out = _run_three(program, case.inputs, case.steps, probes=[("x", "v"), ("b", "v"), ("a", "u")])
    _assert_three(out, "probes")


def test_whole_run_switch(monkeypatch):
    from neuroport.backends.compiled import WHOLE_RUN_ENV, CompiledEngine

    case = C.single_lif(0)
    program = neuroport.compile(case.graph, dt=case.dt)
    monkeypatch.setenv(WHOLE_RUN_ENV, "0")
    eng = CompiledEngine(program)
    eng.run(steps=10, inputs={"x": case.inputs["x"][:10]}, probes=[], progress=False)
    assert eng.path_meta()["whole_run"] is False
    monkeypatch.delenv(WHOLE_RUN_ENV)
    r = neuroport.run(case.graph, dt=case.dt, steps=10, inputs={"x": case.inputs["x"][:10]}, engine="compiled")
    assert r.meta["whole_run"] is True
    with pytest.raises(NeuroportError, match="probe"):
        neuroport.run(case.graph, dt=case.dt, steps=10, inputs={"x": case.inputs["x"][:10]}, engine="compiled",
                      probes=[("lif", "nope")])


def test_kernel_cache_key_covers_helpers(tmp_path, monkeypatch):
    """The kernels' on-disk cache is keyed by the text of every kernel and helper file: editing a helper
    in another file (here a stand-in file) changes the key every kernel's cache index uses."""
    from neuroport.backends import compiled
    from neuroport.models.cond_lif import _condlif_kernel

    names = {p.name for p in jit.kernel_sources()}
    assert {"base.py", "arithmetic.py", "lif.py", "cond_lif.py", "adaptive_lif.py", "compiled.py"} <= names
    for disp in (_condlif_kernel, compiled.run_steps, compiled.scatter_column_sums):
        assert isinstance(disp._cache, jit.VersionedCache)
    helper = tmp_path / "helper.py"
    helper.write_text("def k(x):\n    return x\n")
    monkeypatch.setattr(jit, "kernel_sources", lambda: [helper])
    monkeypatch.setattr(jit, "_SOURCE_KEY", None)
    key1 = jit.source_key()
    helper.write_text("def k(x):\n    return x + 1\n")
    monkeypatch.setattr(jit, "_SOURCE_KEY", None)
    key2 = jit.source_key()
    assert key1 != key2
    sig = _condlif_kernel.signatures[0] if _condlif_kernel.signatures else None
    if sig is not None:
        codegen = _condlif_kernel.targetctx.codegen()
        assert _condlif_kernel._cache._index_key(sig, codegen)[-1] == key2


@pytest.mark.skipif(not jit.AVAILABLE, reason="numba missing")
def test_condlif_row_kernel_equals_general_kernel_and_numpy():
    """The SIMD CondLIF row kernels of the whole-run loop (per-neuron constant rows, and scalar constants
    for a homogeneous population, with the direct ring delivery) against the general kernel (same loop)
    and the numpy reference engine: spikes and probed states identical to the last bit, over two calls."""
    from neuroport.backends.compiled import CompiledEngine
    from neuroport.backends.numpy import Engine
    from neuroport.models.networks.benchmarks import coba_network

    prog = neuroport.compile(coba_network(n_neurons=400, p=0.1).to_nir(), dt=1e-4)
    probes = [("exc", "v"), ("inh", "g_exc"), ("exc", "refractory_left")]
    outs = []
    for eng in (CompiledEngine(prog, rows_kernels=True), CompiledEngine(prog, rows_kernels=True, uniform_kernels=False),
                CompiledEngine(prog, rows_kernels=False), Engine(prog)):
        runs = [eng.advance(steps=150, inputs={}, probes=probes, progress=False) for _ in range(2)]
        outs.append((eng, runs))
    assert outs[0][0].path_meta()["row_kernels"] == ["exc", "inh"]
    assert outs[0][0].path_meta()["uniform_kernels"] == ["exc", "inh"]
    assert outs[1][0].path_meta()["row_kernels"] == ["exc", "inh"]
    assert outs[1][0].path_meta()["uniform_kernels"] == []
    assert outs[2][0].path_meta()["row_kernels"] == []
    assert outs[0][0]._loop.d_direct[:4].all()  # each of COBA's 4 projections is its port's only writer
    ref_runs = outs[3][1]
    assert sum(t.count for t in ref_runs[1][0].values()) > 0
    for _, runs in outs[:3]:
        for (trains, states, _), (rtrains, rstates, _) in zip(runs, ref_runs):
            for name in rtrains:
                assert np.array_equal(trains[name].steps, rtrains[name].steps)
                assert np.array_equal(trains[name].neurons, rtrains[name].neurons)
            for name, var in probes:
                assert np.array_equal(states[name][var].view(np.int64), rstates[name][var].view(np.int64))


@pytest.mark.skipif(not jit.AVAILABLE, reason="numba missing")
def test_uniform_constants_detects_heterogeneous_rows():
    """A CondLIF population whose neurons differ in one constant keeps its per-neuron rows (the scalar
    kernel would give every neuron the first neuron's value); with equal constants it takes the scalars."""
    from neuroport import CondLIF
    from neuroport.backends.compiled import CompiledEngine
    from neuroport.backends.numpy import Engine
    from neuroport.models.cond_lif import uniform_constants

    cf, ci = np.ones((6, 5)), np.ones((12, 5))
    assert uniform_constants(cf, ci) is not None
    ci[2, 3] = 2.0  # the refractory row
    assert uniform_constants(cf, ci) is None
    rng = np.random.default_rng(3)
    net = neuroport.Network()
    x = net.input(20, name="x")
    a = net.population(30, CondLIF(refractory=2e-3, tau_mem=rng.uniform(0.01, 0.03, 30)), name="a")
    b = net.population(30, CondLIF(refractory=2e-3), name="b")
    net.connect(x, a, weight=0.5, p=0.3, seed=1, delay=1e-3)
    net.connect(a, b, weight=0.4, p=0.3, seed=2, delay=1e-3)
    net.connect(b, a, weight=-0.3, p=0.3, seed=3, delay=2e-3)
    program = neuroport.compile(net.to_nir(), dt=1e-3)
    inputs = {"x": (rng.random((200, 20)) < 0.3).astype(float)}
    eng, ref = CompiledEngine(program), Engine(program)
    (t1, s1, _), (t0, s0, _) = (e.run(steps=200, inputs=inputs, probes=[("a", "v"), ("b", "v")], progress=False)
                                for e in (eng, ref))
    assert eng.path_meta()["row_kernels"] == ["a", "b"] and eng.path_meta()["uniform_kernels"] == ["b"]
    assert t0["b"].count > 0
    for name in ("a", "b"):
        assert np.array_equal(t0[name].neurons, t1[name].neurons) and np.array_equal(t0[name].steps, t1[name].steps)
        assert np.array_equal(s0[name]["v"].view(np.int64), s1[name]["v"].view(np.int64))


@pytest.mark.parametrize("depression", [0.0, 0.5])
@pytest.mark.parametrize("seed", range(6))
def test_fixed_whole_run_identical_to_per_step_and_numpy(seed, depression):
    """The fixed engine's whole-run loop (backends/compiled.py run_fixed_steps) against its per-step path
    and the numpy reference, over two advance calls (rings, states, depression resources and the step
    counter carry over): the same integers at every step, spikes, final states, resources and overflow
    counters; with short-term depression on ~half of the projections (merged into the delivery)."""
    from neuroport.backends.compiled import CompiledFixedEngine
    from neuroport.backends.numpy_fixed import FixedEngine

    program = random_fixed_program(seed, models=KINDS, aligned=seed % 3 != 2, depression=depression)
    if depression:
        assert any(p.depression is not None for p in program.projections), "no depressed projection drawn"
    steps = 60
    be = neuroport.backend.get("numpy-fixed")
    ins = be.check_inputs(program, random_inputs(program, 2 * steps, seed), 2 * steps)
    runs = {}
    for label, eng in (("numpy", FixedEngine(program, program.hardware)),
                       ("step", CompiledFixedEngine(program, program.hardware, whole_run=False)),
                       ("whole", CompiledFixedEngine(program, program.hardware, whole_run=True))):
        parts = [eng.advance(steps=steps, inputs={n: a[k * steps:(k + 1) * steps] for n, a in ins.items()},
                             probes=_probes(program), progress=False) for k in range(2)]
        eng.flush_counters()
        runs[label] = (parts, eng.final_state(), eng.counters, eng.path_meta(),
                       {k: x.copy() for k, x in eng.resources.items()})
    assert runs["whole"][3]["whole_run"] is True, "no plasticity, depression merged: whole-run applies"
    assert not any("depression" in part for part in runs["whole"][3]["numpy_parts"])
    for label in ("step", "whole"):
        assert runs[label][4].keys() == runs["numpy"][4].keys()
        for k, x in runs["numpy"][4].items():
            assert np.array_equal(x, runs[label][4][k]), f"{label}: depression resources of {k}"
    if depression:  # resources start at unity (1 << bits): some were released
        assert any(np.any(x < x.max(initial=0)) for x in runs["numpy"][4].values()), "no resource was used"
    assert runs["step"][3]["whole_run"] is False
    ref_parts, ref_final, ref_counters = runs["numpy"][:3]
    assert sum(t.count for part in ref_parts for t in part[0].values()) > 0
    for label in ("step", "whole"):
        parts, final, counters = runs[label][:3]
        for (trains, states, _), (rtrains, rstates, _) in zip(parts, ref_parts):
            for name in rtrains:
                assert np.array_equal(trains[name].steps, rtrains[name].steps), f"{label}: {name} steps"
                assert np.array_equal(trains[name].neurons, rtrains[name].neurons), f"{label}: {name} neurons"
            for name, variables in rstates.items():
                for var, arr in variables.items():
                    assert arr.dtype == states[name][var].dtype
                    np.testing.assert_array_equal(arr, states[name][var], err_msg=f"{label}: {name}.{var}")
        for name, variables in ref_final.items():
            for var, arr in variables.items():
                np.testing.assert_array_equal(arr, final[name][var], err_msg=f"{label}: final {name}.{var}")
        assert counters == ref_counters, f"{label}: overflow counters"


def test_plasticity_kernels_equal_numpy_rule():
    """The compiled learning step and plastic delivery (models/plasticity.py kernel section) against the
    numpy rule on random states: pair (soft and hard bounds) and Diehl & Cook (mu 1, 2, 0.7), with and
    without depression of columns (a_minus), masked synapses, one and many post neurons; weights,
    traces and deliveries identical to the last bit over 25 steps."""
    import copy

    from neuroport.models import plasticity as P

    rng = np.random.default_rng(11)
    for t in range(48):
        n_post = 1 if t % 6 == 5 else int(rng.integers(2, 40))
        n_pre = int(rng.integers(1, 200 if t % 5 == 0 else 40))  # > 128 active columns: the split sum
        mask = rng.random((n_post, n_pre)) < 0.8
        rule = ("pair", "diehl_cook")[t % 2]
        params = dict(rule=rule, bounds=("soft", "hard")[t // 2 % 2], pre_decay=0.05, post_decay=0.07, a_plus=0.01,
                      a_minus=(0.0, 0.02)[t // 4 % 2], eta=0.01, x_tar=0.4, mu=(1.0, 2.0, 0.7)[t // 8 % 3], w_min=0.0,
                      w_max=1.0)
        ref = P.PlasticState(np.where(mask, rng.uniform(-0.2, 1.2, (n_post, n_pre)), 0.0), mask,
                             rng.uniform(0.5, 2.0, n_post), np.zeros(n_pre), np.zeros(n_post), params, 1)
        st = copy.deepcopy(ref)
        work = (np.zeros(n_post, np.int64), np.zeros(n_pre, np.int64), np.zeros(n_post * n_pre), np.zeros(n_pre))
        for _ in range(25):
            s_pre, s_post = rng.random(n_pre) < rng.uniform(0.05, 0.9), rng.random(n_post) < 0.2
            active = np.flatnonzero(s_pre)
            if active.size:
                out = np.empty(n_post)
                P.contribution_kernel(st.weights, st.gain, active, out, work[3])
                assert np.array_equal(P.contribution(ref, active, None).view(np.int64), out.view(np.int64)), t
            P.learn(ref, s_pre, s_post)
            P.learn_kernel(st.weights, st.mask, st.x_pre, st.y_post, s_pre, s_post, *P.kernel_params(params), *work[:3])
        for a, b in ((ref.weights, st.weights), (ref.x_pre, st.x_pre), (ref.y_post, st.y_post)):
            assert np.array_equal(a.view(np.int64), b.view(np.int64)), f"case {t} ({rule})"


def test_diehl_cook_training_compiled_identical(monkeypatch):
    """A short Diehl & Cook training (DiehlCook.fit, 20 neurons, 4 digits) on the compiled engine learns
    the reference engine's weights and thresholds exactly, with plasticity compiled (not in numpy_parts)."""
    pytest.importorskip("sklearn")
    from neuroport.apps import diehl_cook as dc

    data = dc.load_split()
    config = dc.Config(neurons=20, steps=60)
    learned = {}
    for engine in ("numpy", "compiled"):
        monkeypatch.setenv(jit.ENV, engine)
        model = dc.DiehlCook(config, seed=3)
        model.fit(data.x_train[:4], progress=False)
        assert model.sim.engine.path_meta()["engine_path"] == engine
        learned[engine] = (np.array(model.sim.weights["x->exc"]), model.sim.engine.final_state()["exc"]["theta"].copy())
        if engine == "compiled":
            assert not any("plastic" in part for part in model.sim.engine.path_meta()["numpy_parts"])
    w0, th0 = learned["numpy"]
    assert np.abs(w0 - dc.DiehlCook(config, seed=3).sim.weights["x->exc"]).max() > 0, "training changed nothing"
    assert np.array_equal(w0.view(np.int64), learned["compiled"][0].view(np.int64))
    assert np.array_equal(th0.view(np.int64), learned["compiled"][1].view(np.int64))


@pytest.mark.parametrize("case", C.all_cases(0), ids=lambda c: c.name)
def test_reset_restart_in_place_equals_fresh_start(case):
    """``Simulator.reset`` on the compiled engine restarts in place (``CompiledEngine.restart``: states,
    rings, traces written back, nothing rebuilt); the numpy engine rebuilds everything (``start``). Three
    runs with resets between them (cut mid-run, so rings hold undelivered spikes at each reset) give the
    same bits on both, learned weights and kept thresholds included."""
    sims = {e: neuroport.Simulator(case.graph, dt=case.dt, engine=e) for e in ("numpy", "compiled")}
    cut = max(case.steps // 2, 1)
    pieces = [(0, cut, ("theta",)), (cut, case.steps, ()), (0, case.steps, ("theta",))]
    runs = {e: [] for e in sims}
    for e, sim in sims.items():
        probes = [f"{n}.{v}" for n, v in _probes(sim.program)]
        for lo, hi, keep in pieces:
            ins = {n: np.asarray(a)[lo:hi] for n, a in case.inputs.items()}
            runs[e].append((sim.run(hi - lo, ins, probes=probes), {k: np.array(v) for k, v in sim.weights.items()}))
            sim.reset(keep=keep)
    eng = sims["compiled"].engine
    if all(rt is None or type(rt[2]).__name__ == "KernelPlan" for rt in eng.runtime.values()) and \
            not any(rt[0].any["bias_onset"] for rt in eng.runtime.values() if rt is not None):
        assert eng._initial is not None, f"{case.name}: restart should run in place"
    for k, ((a, wa), (b, wb)) in enumerate(zip(runs["numpy"], runs["compiled"])):
        for name in a.spikes:
            np.testing.assert_array_equal(a.spikes[name].to_dense(), b.spikes[name].to_dense(),
                                          err_msg=f"{case.name} run {k}: {name} spikes")
        assert set(a.states) == set(b.states) and a.states, f"{case.name}: nothing probed"
        for key in a.states:
            for var, arr in a.states[key].items():
                np.testing.assert_array_equal(arr, b.states[key][var], err_msg=f"{case.name} run {k}: {key}.{var}")
        for name in wa:
            assert np.array_equal(wa[name], wb[name]), f"{case.name} run {k}: weights {name}"


@pytest.mark.parametrize("n_in, weight, wraps", [(2100, 80.0, True), (2100, -80.0, True), (40, 80.0, False)])
def test_fixed_lif_int32_datapath_steps_in_numpy_only_where_it_can_wrap(n_in, weight, wraps):
    """Lava's LIF sums ``u`` in int32 (``a_in << 6`` wraps); the kernels sum in int64. A LIF population
    whose inputs can reach int32 steps in numpy inside the compiled engine (and says so in
    ``numpy_parts``), one whose inputs cannot keeps its kernel and the whole-run loop; both give the
    numpy path's integers at every step."""
    import nir

    lif = nir.LIF(tau=np.full(4, 0.01), r=np.ones(4), v_leak=np.zeros(4), v_threshold=np.ones(4))
    graph = nir.NIRGraph.from_list(nir.Input(np.array([n_in])), nir.Linear(np.full((4, n_in), weight)), lif,
                                   nir.Output(np.array([4])))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the quantization report's "can overflow" (tests/test_overflow.py)
        fixed, _ = neuroport.quantize(neuroport.compile(graph, dt=1e-3))
        out = _run_both("numpy-fixed", fixed, {next(iter(fixed.inputs)): np.ones((30, n_in))}, 30)
    _assert_same(out, f"{n_in} x {weight}")
    meta = out["compiled"][5].path_meta()
    assert any("int32 datapath can wrap" in part for part in meta["numpy_parts"]) is wraps
    assert meta["whole_run"] is not wraps
    assert bool(np.sum(out["numpy"][4]["lif"]["int32_wraps"]) > 0) is wraps, "the wrapping cases must actually wrap"
