"""The batch axis (``neuroport.batch``): inputs ``(steps, B, n)`` in one run.

Every equivalence here compares a batched run with B separate unbatched runs of the same network
(the existing per-sample path), spikes and every probed state with ``numpy.array_equal`` (no
tolerance: the replicated Program sums each neuron's input in the same order).
"""

import numpy as np
import pytest

import neuroport
from neuroport.errors import InputError, NeuroportError, UnsupportedNodeError
from neuroport.models import jit
from neuroport.models.base import runner
from neuroport.result import BatchSpikeTrain, Result, SpikeTrain
from neuroport.testing import cases as C

ENGINES = ["numpy"] + (["compiled"] if jit.AVAILABLE else [])


def _samples(inputs: dict, batch: int, seed: int) -> dict:
    """``batch`` different samples made from a case's inputs ``(steps, n)``: the original, then time-rolled
    copies with a random part of the entries dropped; ``{name: (steps, batch, n)}``."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, x in inputs.items():
        x = np.asarray(x, dtype=np.float64)
        copies = [x] + [np.roll(x, 11 * b, axis=0) * (rng.random(x.shape) < 0.7) for b in range(1, batch)]
        out[name] = np.stack(copies, axis=1)
    return out


def _all_probes(program):
    return [f"{name}.{var}" for name, pop in program.populations.items() if not pop.is_input
            for var in runner(pop).used_states(pop)]


def _assert_batch_equals_separate(program, backend, inputs, steps, engine, label, batch=3):
    probes = _all_probes(program)
    batched_inputs = _samples(inputs, batch, seed=len(label))
    batched = neuroport.run(program, backend=backend, steps=steps, inputs=batched_inputs, probes=probes,
                            engine=engine)
    assert batched.batch == batch
    for b in range(batch):
        alone = neuroport.run(program, backend=backend, steps=steps, probes=probes, engine=engine,
                              inputs={k: v[:, b] for k, v in batched_inputs.items()})
        one = batched.sample(b)
        for name, train in alone.spikes.items():
            got = one.spikes[name]
            np.testing.assert_array_equal(got.steps, train.steps, err_msg=f"{label} sample {b}: {name} spike steps")
            np.testing.assert_array_equal(got.neurons, train.neurons, err_msg=f"{label} sample {b}: {name} neurons")
        for probe, arr in alone.probes.items():
            assert batched[probe].shape == (steps, batch, arr.shape[1])
            np.testing.assert_array_equal(batched[probe][:, b], arr, err_msg=f"{label} sample {b}: {probe}")
    return batched


# every canonical and extended case (CondLIF E/I with delays, recurrent E/I, depression, STDP, QIF, ...)
@pytest.mark.parametrize("name", sorted(C.ALL))
def test_float_batch_equals_separate_runs(name):
    case = C.ALL[name](0)
    program = neuroport.compile(case.graph, dt=case.dt, **case.options)
    result = _assert_batch_equals_separate(program, "numpy", case.inputs, case.steps, "numpy", name)
    plastic = any(p.plasticity is not None for p in program.projections)
    assert result.meta["batch_path"] == ("loop" if plastic else "vectorised")


@pytest.mark.parametrize("name", sorted(C.ALL))
def test_fixed_batch_equals_separate_runs(name):
    case = C.ALL[name](0)
    try:
        program, _ = neuroport.quantize(neuroport.compile(case.graph, dt=case.dt, timing="hardware", **case.options))
    except NeuroportError as exc:
        pytest.skip(f"{name} has no fixed-point Program: {exc}")
    _assert_batch_equals_separate(program, "numpy-fixed", case.inputs, case.steps, "numpy", name)


@pytest.mark.skipif(not jit.AVAILABLE, reason=jit.REASON or "numba missing")
@pytest.mark.parametrize("mode", ["numpy", "numpy-fixed"])
@pytest.mark.parametrize("name", ["conductance", "recurrent_ei", "delays"])
def test_compiled_batch_equals_separate_runs(name, mode):
    case = C.ALL[name](0)
    program = neuroport.compile(case.graph, dt=case.dt, timing="hardware", **case.options)
    if mode == "numpy-fixed":
        program, _ = neuroport.quantize(program)
    result = _assert_batch_equals_separate(program, mode, case.inputs, case.steps, "compiled", name)
    assert result.meta["engine_path"] == "compiled"


def test_ideal_timing_ei_network_with_delays():
    """A CondLIF E/I network with per-target delays and recurrence, ideal timing (zero-delay paths)."""
    net = neuroport.Network()
    x = net.input(12, name="x")
    exc = net.population(20, neuroport.CondLIF(refractory=2e-3), name="exc")
    inh = net.population(6, neuroport.CondLIF(), name="inh")
    net.connect(x, exc, weight=lambda r, m: r.uniform(0.0, 0.6, m), p=0.5, seed=1,
                delay=np.arange(20) % 4 * 1e-3)
    net.connect(exc, inh, weight=0.3, p=0.4, seed=2)
    net.connect(inh, exc, weight=-0.4, p=0.5, seed=3, delay=2e-3)
    net.connect(exc, exc, weight=lambda r, m: r.uniform(0.0, 0.2, m), p=0.2, seed=4, delay=1e-3)
    program = neuroport.compile(net.to_nir(), dt=1e-3, timing="ideal")
    rng = np.random.default_rng(7)
    inputs = {"x": (rng.random((120, 12)) < 0.3).astype(float)}
    for engine in ENGINES:
        result = _assert_batch_equals_separate(program, "numpy", inputs, 120, engine, f"ei/{engine}", batch=4)
        assert result.spikes["exc"].count > 0 and result.spikes["inh"].count > 0


def _tiny():
    net = neuroport.Network()
    x = net.input(3, name="x")
    y = net.population(2, neuroport.LIF(tau=0.02, v_threshold=0.5), name="y")
    net.connect(x, y, weight=np.array([[20.0, 0.0, 10.0], [0.0, 15.0, 15.0]]))
    return net


def test_result_batch_axis_and_summary(tmp_path):
    rng = np.random.default_rng(0)
    drive = (rng.random((40, 5, 3)) < 0.5).astype(float)
    result = neuroport.run(_tiny(), steps=40, dt=1e-3, inputs=drive, probes=["y.v"])
    train = result.spikes["y"]
    assert isinstance(train, BatchSpikeTrain) and train.batch == 5
    dense = train.to_dense()
    assert dense.shape == (40, 5, 2)
    np.testing.assert_array_equal(train.counts(), dense.sum(axis=0))
    assert train.count == dense.sum()
    np.testing.assert_array_equal(train[2].to_dense(), dense[:, 2])
    assert "batch of 5 samples" in str(result) and "(40, 5, 2)" in str(result)
    assert "batch=5" in repr(result)
    with pytest.raises(InputError, match="5 samples"):
        result.sample(5)
    with pytest.raises(ValueError, match="sample="):
        train.times_of(0)
    path = tmp_path / "batch.npz"
    result.save_npz(path)
    back = Result.load_npz(path)
    assert back.batch == 5
    np.testing.assert_array_equal(back.spikes["y"].to_dense(), dense)
    np.testing.assert_array_equal(back["y.v"], result["y.v"])


def test_single_sample_tools_refuse_a_batch():
    from neuroport import plot
    from neuroport.compare import compare

    drive = np.ones((20, 2, 3))
    result = neuroport.run(_tiny(), steps=20, dt=1e-3, inputs=drive, probes=["y.v"])
    for call in (lambda: compare(result, result), lambda: plot.raster(result),
                 lambda: plot.traces(result, population="y")):
        with pytest.raises(InputError, match=r"result.sample\(b\)"):
            call()
    assert compare(result.sample(0), result.sample(0)).populations["y"].match == 1.0


def test_unbatched_result_unchanged():
    result = neuroport.run(_tiny(), steps=20, dt=1e-3, inputs=np.ones((20, 3)))
    assert result.batch is None and type(result.spikes["y"]) is SpikeTrain and "batch" not in str(result)
    with pytest.raises(InputError, match="not batched"):
        result.sample(0)


def test_stack_matches_vectorised():
    """The loop's stacking (other backends) and the vectorised split give the same batched Result."""
    rng = np.random.default_rng(1)
    drive = (rng.random((30, 4, 3)) < 0.4).astype(float)
    net = _tiny()
    vec = neuroport.run(net, steps=30, dt=1e-3, inputs=drive, probes=["y.v"])
    stacked = Result.stack([neuroport.run(net, steps=30, dt=1e-3, inputs=drive[:, b], probes=["y.v"])
                            for b in range(4)])
    for name in vec.spikes:
        for field in ("steps", "neurons", "samples"):
            np.testing.assert_array_equal(getattr(vec.spikes[name], field), getattr(stacked.spikes[name], field))
    np.testing.assert_array_equal(vec["y.v"], stacked["y.v"])


@pytest.mark.parametrize("bad, message", [
    ({"x": np.zeros((20, 2, 4))}, r"\(steps>=20, B, 3\)"),             # wrong n
    ({"x": np.zeros((10, 2, 3))}, r"\(steps>=20, B, 3\)"),             # too few steps
    ({"x": np.zeros((20, 0, 3))}, "empty"),                            # B = 0
    ({"x": np.zeros((20, 2, 3)), "z": np.zeros((20, 3, 1))}, "same batch size"),
    ({"x": np.zeros((20, 2, 3)), "z": np.zeros((20, 1))}, "every input the shape"),
    ({"x": np.full((20, 2, 3), np.nan)}, "NaN"),
])
def test_bad_batch_shapes_rejected(bad, message):
    net = _tiny()
    z = net.input(1, name="z")
    net.connect(z, "y", weight=1.0)
    for backend in ("numpy", "numpy-fixed"):
        with pytest.raises(InputError, match=message):
            neuroport.run(net, backend=backend, steps=20, dt=1e-3, inputs=bad)


def test_simulator_batch():
    rng = np.random.default_rng(2)
    drive = (rng.random((50, 3, 3)) < 0.5).astype(float)
    net = _tiny()
    sim = neuroport.Simulator(net, dt=1e-3, batch=3, probes=["y.v"])
    first, second = sim.run(25, inputs=drive[:25]), sim.run(25, inputs=drive[25:])
    assert first.batch == second.batch == 3 and sim.state("y")["v"].shape == (3, 2)
    for b in range(3):
        alone = neuroport.Simulator(net, dt=1e-3, probes=["y.v"])
        a, c = alone.run(25, inputs=drive[:25, b]), alone.run(25, inputs=drive[25:, b])
        np.testing.assert_array_equal(first["y.v"][:, b], a["y.v"])
        np.testing.assert_array_equal(second["y.v"][:, b], c["y.v"])
        np.testing.assert_array_equal(sim.state("y")["v"][b], alone.state("y")["v"])
    sim.set_state("y", "v", np.zeros((3, 2)))
    assert not sim.state("y")["v"].any()
    with pytest.raises(InputError, match=r"\(batch, size\) = \(3, 2\)"):
        sim.set_state("y", "v", np.zeros((2, 2)))
    with pytest.raises(InputError, match="batch size B=2"):
        sim.run(10, inputs=drive[:10, :2])
    with pytest.raises(InputError, match=r"\(steps, 3, n\)"):
        sim.run(10, inputs=drive[:10, 0])
    with pytest.raises(InputError, match="batch=B"):
        neuroport.Simulator(net, dt=1e-3).run(10, inputs=drive[:10])
    with pytest.raises(UnsupportedNodeError, match="batched"):
        sim.to_nir()
    with pytest.raises(InputError, match="positive integer"):
        neuroport.Simulator(net, dt=1e-3, batch=0)


def test_simulator_batch_refuses_plasticity():
    case = C.ALL["stdp"](0)
    with pytest.raises(InputError, match="plastic"):
        neuroport.Simulator(case.graph, dt=case.dt, batch=2)


def _loop_backend_equivalence(backend):
    be = neuroport.backend.get(backend)
    ok, reason = be.available()
    if not ok:
        pytest.skip(reason)
    rng = np.random.default_rng(3)
    drive = (rng.random((20, 2, 3)) < 0.5).astype(float)
    net = _tiny()
    batched = neuroport.run(net, backend=backend, steps=20, dt=1e-3, inputs=drive, probes=["y.v"])
    assert batched.batch == 2 and batched.meta["batch_path"] == "loop"
    for b in (1,):  # sample 1 (the loop's second run) against a run of its own; kept to one: Lava starts slowly
        alone = neuroport.run(net, backend=backend, steps=20, dt=1e-3, inputs=drive[:, b], probes=["y.v"])
        np.testing.assert_array_equal(batched.spikes["y"].sample(b).to_dense(), alone.spikes["y"].to_dense())
        np.testing.assert_array_equal(batched["y.v"][:, b], alone["y.v"])


def test_lava_batch_loops():
    _loop_backend_equivalence("lava")


def test_brian2_batch_loops():
    _loop_backend_equivalence("brian2")


# ------------------------------------------------------------------ the digit classifier's batched evaluation
@pytest.mark.parametrize("mode, fold", [("numpy", True), ("numpy-fixed", True), ("numpy", False)])
def test_diehl_cook_batched_responses_equal_per_sample_loop(mode, fold):
    """Counts from present_batch (batches of 3, so chunks, padding and several engine sizes) equal the
    per-sample Simulator loop, boosts included (min_spikes high enough that some samples are boosted)."""
    import dataclasses
    import warnings

    from neuroport.apps import diehl_cook as dc
    from neuroport.errors import QuantizationWarning

    data = dc.load_split()
    config = dc.Config(neurons=12, steps=25, min_spikes=4, max_boosts=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        model = dc.DiehlCook(config, seed=1, backend=mode)
        model.fit(data.x_train[:4], progress=False)
        x = data.x_test[:10]
        loop = model.responses(x, batch_size=None, fold_theta=fold)
        batched = model.responses(x, batch_size=3, fold_theta=fold)
        again = model.responses(x, batch_size=3, fold_theta=fold)  # the kept engines, reset per batch
        model.config = dataclasses.replace(config, max_boosts=0)
        unboosted = model.responses(x, batch_size=3, fold_theta=fold)
    np.testing.assert_array_equal(batched, loop)
    np.testing.assert_array_equal(again, loop)
    assert not np.array_equal(unboosted, loop), "no sample was boosted: the test would not check the boost loop"
    assert loop.sum() > 0


def test_diehl_cook_batch_size_checked():
    from neuroport.apps import diehl_cook as dc

    model = dc.DiehlCook(dc.Config(neurons=4, steps=10), seed=0)
    with pytest.raises(InputError, match="batch_size"):
        model.responses(np.zeros((2, 64)), batch_size=0)
