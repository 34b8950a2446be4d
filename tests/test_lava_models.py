"""neuroport's own Lava processes (ALIF, CondLIF, Depression): equivalence, counts, refusals.

Criteria (THRESHOLDS in neuroport/compare.py):

* ``lava`` vs ``numpy``: identical spike trains; every state within ``1e-9``
  relative (to the largest magnitude of that state in the run);
* ``lava-fixed`` vs ``numpy-fixed``: identical states and spikes at every step,
  on the quantized canonical networks and on seeded random integer networks
  with every new model (:mod:`neuroport.testing.random_networks`).

Each comparison is one Lava run over the union of its networks (Lava's
start-up dominates the time of small runs).
"""

from __future__ import annotations

import multiprocessing
import warnings

import numpy as np
import pytest

from neuroport import backends

_OK, _REASON = backends.get("lava").available()
if not _OK:
    pytest.skip(f"Lava backends unavailable: {_REASON}", allow_module_level=True)

import neuroport  # noqa: E402
from neuroport.backends.lava import lowering  # noqa: E402
from neuroport.errors import (  # noqa: E402
    BackendError,
    InputError,
    ParameterError,
    QuantizationWarning,
    UnsupportedNodeError,
)
from neuroport.mapping import CPU_ONLY, map_program  # noqa: E402
from neuroport.models import neurons  # noqa: E402
from neuroport.program import Population, Projection  # noqa: E402
from neuroport.testing.random_networks import KINDS, random_fixed_program, random_inputs, union, union_inputs  # noqa: E402

N_IN = 12
STEPS = 150


# --------------------------------------------------------------------------- canonical networks
def _networks() -> dict:
    """Small canonical networks, one per new model or feature: ``{name: (Network, compile options)}``."""
    rng = np.random.default_rng(0)
    nets = {}

    net = neuroport.Network()
    x = net.input(N_IN, name="x")
    a = net.population(10, neuroport.LIF(tau=0.02, v_threshold=1.0, refractory=3e-3, tau_theta=0.05,
                                         theta_plus=0.2, tau_adapt=0.1, b_adapt=0.5), name="a")
    net.connect(x, a, weight=2.5, p=0.5, seed=1)
    net.connect(a, a, weight=-0.5, p=0.3, seed=2, delay=2e-3)
    nets["alif"] = (net, {})

    net = neuroport.Network()
    x = net.input(N_IN, name="x")
    c = net.population(10, neuroport.CubaLIF(tau_syn=0.005, tau_mem=0.02, v_threshold=1.0, tau_syn_inh=0.01,
                                             refractory=2e-3, tau_adapt=0.05, b_adapt=0.2), name="c")
    net.connect(x, c, weight=rng.uniform(-4, 8, (10, N_IN)))
    nets["alif_two_port"] = (net, {"reset": "subtract"})

    net = neuroport.Network()
    x = net.input(N_IN, name="x")
    g = net.population(10, neuroport.CondLIF(refractory=2e-3, tau_adapt=0.1, b_adapt=0.05, tau_theta=0.05,
                                             theta_plus=1.0), name="g")
    net.connect(x, g, weight=rng.uniform(-0.6, 1.0, (10, N_IN)))
    net.connect(g, g, weight=rng.uniform(-0.3, 0.2, (10, 10)), depression=(0.03, 0.3))
    nets["condlif"] = (net, {})

    net = neuroport.Network()
    x = net.input(N_IN, name="x")
    l1 = net.population(10, neuroport.LIF(tau=0.02, v_threshold=1.0), name="l1")
    l2 = net.population(8, neuroport.LIF(tau=0.01, v_threshold=0.5), name="l2")
    net.connect(x, l1, weight=6.0, p=0.5, seed=4, depression=(0.05, 0.4))
    net.connect(l1, l2, weight=8.0, p=0.6, seed=5, depression=(0.02, 0.2))
    nets["depression_subtract"] = (net, {"reset": "subtract"})
    return nets


def _lif_family_with(program, **params):
    """The first LIF population of ``program`` with extra per-neuron parameters (refractory, u_bias)."""
    pop = next(p for p in program.populations.values() if not p.is_input)
    new = Population(pop.name, pop.size, pop.model, {**pop.params, **{k: np.full(pop.size, v)
                                                                      for k, v in params.items()}},
                     pop.emits, pop.v_offset, pop.shape, pop.extra)
    return program.replace(populations={**program.populations, pop.name: new})


@pytest.fixture(scope="module")
def canonical():
    """``[(name, float Program with every state probed, inputs)]``."""
    out = []
    rng = np.random.default_rng(1)
    for name, (net, opts) in _networks().items():
        program = net.compile(dt=1e-3, **opts)
        out.append((name, program))
    # LIF-family populations that Lava's LIF cannot run: refractory (built by hand: the builder API
    # turns LIF(refractory=...) into AdaptiveLIF) and a bias on u (an Affine bias before a CubaLIF)
    base, _ = _networks()["depression_subtract"]
    out.append(("lif_refractory", _lif_family_with(base.compile(dt=1e-3), refractory=2)))
    net = neuroport.Network()
    x = net.input(N_IN, name="x")
    c = net.population(6, neuroport.CubaLIF(tau_syn=0.005, tau_mem=0.02, v_threshold=1.0), name="c")
    net.connect(x, c, weight=rng.uniform(0, 6, (6, N_IN)))
    out.append(("cubalif_u_bias", _lif_family_with(net.compile(dt=1e-3), u_bias=0.01)))
    result = []
    for name, program in out:
        probes = tuple((n, v) for n, p in program.populations.items() if not p.is_input
                       for v in neurons.state_names(p))
        result.append((name, program.replace(probes=probes)))
    return result


def _inputs(programs, steps=STEPS):
    rng = np.random.default_rng(5)
    return [{"x": (rng.random((steps, N_IN)) < 0.2).astype(float)} for _ in programs]


def _quantized(program):
    from neuroport.quantize import quantize

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        fixed = quantize(program)[0]
    probes = tuple((n, v) for n, p in fixed.populations.items() if not p.is_input
                   for v in neurons.state_names(p))
    return fixed.replace(probes=probes)


def _run(mode, program, steps, inputs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)  # random networks overflow on purpose
        return backends.get(mode).run(program, steps=steps, inputs=inputs)


def _spiking_populations(result, program) -> set:
    return {n for n, p in program.populations.items() if not p.is_input and result.spikes[n].count}


# --------------------------------------------------------------------------- equivalence
def test_float_matches_numpy(canonical):
    programs = [p for _, p in canonical]
    program, inputs = union(programs), union_inputs(programs, _inputs(programs))
    a = _run("lava", program, STEPS, inputs)
    b = _run("numpy", program, STEPS, inputs)
    for name in program.populations:
        np.testing.assert_array_equal(a.spikes[name].to_dense(), b.spikes[name].to_dense(), err_msg=name)
    for name, var in program.probes:
        x, y = a.states[name][var], b.states[name][var]
        scale = max(float(np.abs(y).max()), 1e-300)
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-9 * scale, err_msg=f"{name}.{var}")
    # every network exercises its feature: every population on a custom process spikes
    custom = {n for n, p in program.populations.items() if not p.is_input and lowering.process_kind(p) != "LIF"}
    assert custom <= _spiking_populations(b, program)
    kinds = a.meta["process_counts"]
    assert kinds["ALIF"] == 6 and kinds["CondLIF"] == 1 and kinds["Depression"] == 5 and kinds["LIF"] == 1


def test_fixed_matches_numpy_fixed_canonical(canonical):
    programs = [_quantized(p) for _, p in canonical]
    program, inputs = union(programs), union_inputs(programs, _inputs(programs))
    a = _run("lava-fixed", program, STEPS, inputs)
    b = _run("numpy-fixed", program, STEPS, inputs)
    _assert_fixed_identical(a, b, program)
    assert len(_spiking_populations(b, program)) >= len(programs)


def test_fixed_matches_numpy_fixed_random():
    """Eight random integer networks with every kind (ALIF one/two ports, CondLIF, LIF with refractory,
    subtract or u bias) and depressing projections, 40 steps: identical states and spikes."""
    steps, seeds = 40, range(8)
    programs = [random_fixed_program(seed, models=KINDS, depression=0.3, max_neurons=120) for seed in seeds]
    program = union(programs)
    inputs = union_inputs(programs, [random_inputs(p, steps, s) for p, s in zip(programs, seeds)])
    a = _run("lava-fixed", program, steps, inputs)
    b = _run("numpy-fixed", program, steps, inputs)
    _assert_fixed_identical(a, b, program)
    counts = a.meta["process_counts"]
    assert counts["ALIF"] and counts["CondLIF"] and counts["Depression"]


def _assert_fixed_identical(a, b, program):
    for name in program.populations:
        np.testing.assert_array_equal(a.spikes[name].to_dense(), b.spikes[name].to_dense(), err_msg=name)
    for name, var in program.probes:
        x, y = a.states[name][var], b.states[name][var]
        if not np.array_equal(x, y):
            t, i = np.argwhere(x != y)[0]
            raise AssertionError(f"{name}.{var} ({program.populations[name].model}) differs first at step {t}, "
                                 f"neuron {i}: lava-fixed={x[t, i]}, numpy-fixed={y[t, i]}")


# --------------------------------------------------------------------------- lowering, counts
def test_process_counts(canonical):
    expected = {  # RingBuffer + neuron processes + Depression + connection processes + Recorder
        "alif": {"RingBuffer": 1, "ALIF": 1, "Dense": 1, "DelayDense": 1, "Recorder": 1},
        "alif_two_port": {"RingBuffer": 1, "ALIF": 1, "Dense": 2, "Recorder": 1},
        "condlif": {"RingBuffer": 1, "CondLIF": 1, "Depression": 1, "Dense": 4, "Recorder": 1},
        "depression_subtract": {"RingBuffer": 1, "ALIF": 2, "Depression": 2, "Dense": 2, "Recorder": 1},
        "lif_refractory": {"RingBuffer": 1, "ALIF": 1, "LIF": 1, "Depression": 2, "Dense": 2, "Recorder": 1},
        "cubalif_u_bias": {"RingBuffer": 1, "ALIF": 1, "Dense": 1, "Recorder": 1},
    }
    for name, program in canonical:
        for fixed, prog in ((False, program), (True, _quantized(program))):
            counts = {k: v for k, v in lowering.plan(prog, fixed=fixed, mode="lava").process_counts.items() if v}
            assert counts == expected[name], (name, fixed, counts)


def test_depression_shared_by_both_ports():
    """The exc and inh halves of one depressing projection share one Depression process."""
    net = neuroport.Network()
    x = net.input(4, name="x")
    g = net.population(3, neuroport.CondLIF(), name="g")
    net.connect(x, g, weight=np.array([[0.5, -0.5, 0.2, -0.1]] * 3), depression=(0.05, 0.5))
    program = net.compile(dt=1e-3)
    assert sorted(p.extra["port"] for p in program.projections) == ["exc", "inh"]
    plan = lowering.plan(program, fixed=False, mode="lava")
    assert len(plan.depressions) == 1 and {b.port for b in plan.blocks} == {"a_in", "a_inh"}


def test_refusals_and_probes(canonical):
    name, program = canonical[0]  # alif
    pop = program.populations["a"]
    one_port = program.replace(projections=tuple(
        Projection(p.name, p.pre, p.post, p.weights, p.delays, {**p.extra, "port": "inh"})
        for p in program.projections))
    with pytest.raises(UnsupportedNodeError, match="port 'inh'"):
        lowering.plan(one_port, fixed=False, mode="lava")
    fixed = _quantized(program)
    fpop = fixed.populations["a"]
    too_long = Population("a", fpop.size, fpop.model, {**fpop.params, "refractory": np.full(fpop.size, 5000)},
                          fpop.emits, fpop.v_offset, fpop.shape, fpop.extra)
    with pytest.raises(ParameterError, match=r"'a' \(alif\)\.refractory: needs integers in \[0, 4095\]"):
        lowering.plan(fixed.replace(populations={**fixed.populations, "a": too_long}), fixed=True, mode="lava-fixed")
    assert "w" in lowering.state_names(pop, fixed=False)
    with pytest.raises(InputError, match="u_inh"):  # one-port ALIF has no u_inh, as on numpy
        backends.get("lava").run(program, steps=2, inputs=np.zeros((2, N_IN)), probes=[("a", "u_inh")])


def test_loihi2_refuses_cpu_only_and_mapping_warns(canonical):
    for name, program in canonical:
        with pytest.raises(UnsupportedNodeError, match="CPU-only"):
            backends.get("loihi2").run(program, steps=2, inputs=np.zeros((2, N_IN)))
        report = map_program(_quantized(program))
        assert report.fits and report.warnings and all(CPU_ONLY in w for w in report.warnings)
        assert CPU_ONLY in report.to_table() and report.to_dict()["warnings"] == report.warnings
        assert any(p.cpu_only for p in report.placements.values()) or "depression" in name
    summary = backends.get("loihi2").dry_run(canonical[2][1])  # condlif, float: quantized first
    assert summary["built"] and summary["process_counts"]["CondLIF"] == 1
    assert any("condlif" in k for k in summary["cpu_only"]) and summary["mapping"].warnings


def test_no_child_process_survives_custom_process_failure(canonical, monkeypatch):
    from neuroport.backends.lava.processes.alif.models import PyALIFModelFloat

    def boom(self):
        if self.time_step == 3:
            raise RuntimeError("injected ALIF failure")
        return original(self)

    original = PyALIFModelFloat.run_spk
    monkeypatch.setattr(PyALIFModelFloat, "run_spk", boom)
    name, program = canonical[0]
    with pytest.raises(BackendError, match="injected ALIF failure"):
        backends.get("lava").run(program, steps=20, inputs=np.zeros((20, N_IN)))
    assert not multiprocessing.active_children()
