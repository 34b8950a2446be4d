"""The Diehl & Cook digit classifier on a tiny configuration (the 90 % run is benchmarks/bench_digits.py)."""

import json
import warnings

import nir
import numpy as np
import pytest

import neuroport
from neuroport.cli import main
from neuroport.errors import InputError, QuantizationWarning
from neuroport.apps import diehl_cook as dc
from neuroport.nodes import AdaptiveLIF, PlasticLinear

TINY = dc.Config(neurons=8, steps=30)


@pytest.fixture(scope="module")
def data():
    return dc.load_split()


@pytest.fixture(scope="module")
def trained(data):
    model = dc.DiehlCook(TINY, seed=3)
    info = model.fit(data.x_train[:40], data.y_train[:40], epochs=1, progress=False, relabel=10, window=20)
    model.assign(data.x_train[:40], data.y_train[:40])
    return model, info


def test_split_is_fixed_and_disjoint(data):
    assert (len(data.y_train), len(data.y_test)) == (1438, 359)
    again = dc.load_split()
    np.testing.assert_array_equal(again.x_test, data.x_test)
    train_rows = {r.tobytes() for r in data.x_train}
    # the digits set has a few duplicate images; almost all test images are unseen
    assert sum(r.tobytes() in train_rows for r in data.x_test) < 5


def test_build_structure_and_normalised_weights():
    graph = dc.build(TINY, seed=0).to_nir()
    assert isinstance(graph.nodes["exc"], AdaptiveLIF)
    assert np.all(graph.nodes["exc"].theta_plus == TINY.theta_plus) and np.all(graph.nodes["exc"].tau_theta == 0)
    plastic = graph.nodes["x->exc"]
    assert isinstance(plastic, PlasticLinear) and plastic.rule == "diehl_cook"
    np.testing.assert_allclose(plastic.weight.sum(axis=1), TINY.weight_sum)
    inh = graph.nodes["inhibition"].weight
    assert np.all(np.diag(inh) == 0) and np.all(inh[~np.eye(8, dtype=bool)] == -TINY.inhibition)


def test_training_changes_weights_and_thresholds(trained):
    model, info = trained
    w0 = dc.build(TINY, seed=3).to_nir().nodes["x->exc"].weight
    w = model.sim.weights["x->exc"]
    assert not np.allclose(w, w0)
    np.testing.assert_allclose(w.sum(axis=1), TINY.weight_sum)  # normalised after every sample
    assert np.all((w >= 0) & (w <= TINY.w_max))
    assert model.sim.state("exc")["theta"].max() > 0
    assert info["epochs_done"] == 1 and info["samples"] == 40 and 0 <= info["running_accuracy"] <= 1


def test_assignment_and_prediction_shapes(trained, data):
    model, _ = trained
    assert model.labels.shape == (8,) and model.labels.dtype == np.int64
    assert np.all((model.labels >= -1) & (model.labels < 10))
    pred = model.predict(data.x_test[:6])
    assert pred.shape == (6,) and np.all((pred >= 0) & (pred < 10))
    assert model.responses(data.x_test[:3]).shape == (3, 8)


def test_label_assignment_and_vote_by_hand():
    responses = np.array([[5, 0, 1], [4, 0, 0], [0, 3, 0], [0, 0, 0]])
    labels = dc.assign_labels(responses, np.array([1, 1, 7, 2]))
    np.testing.assert_array_equal(labels, [1, 7, 1])  # neuron 2 fired only for class 1 (mean 0.5)
    np.testing.assert_array_equal(dc.assign_labels(np.zeros((2, 2)), np.array([0, 1])), [-1, -1])
    np.testing.assert_array_equal(dc.vote(np.array([[0, 2, 1], [3, 0, 0]]), np.array([1, 7, 1])), [7, 1])


def test_predict_needs_labels(data):
    with pytest.raises(InputError, match="no labels"):
        dc.DiehlCook(TINY).predict(data.x_test[:1])


def test_save_reload_continue_equals_uninterrupted(data, tmp_path):
    x, y = data.x_train[:12], data.y_train[:12]
    straight = dc.DiehlCook(TINY, seed=5)
    straight.fit(x, epochs=2, progress=False)
    first = dc.DiehlCook(TINY, seed=5)
    first.fit(x, epochs=1, progress=False)
    first.assign(x, y)
    path = tmp_path / "model.nir"
    first.save(path)
    resumed = dc.DiehlCook.load(path)
    assert resumed.epochs_done == 1 and resumed.seed == 5 and resumed.config == TINY
    np.testing.assert_array_equal(resumed.labels, first.labels)
    resumed.fit(x, epochs=1, progress=False)
    np.testing.assert_array_equal(resumed.sim.weights["x->exc"], straight.sim.weights["x->exc"])
    np.testing.assert_array_equal(resumed.sim.state("exc")["theta"], straight.sim.state("exc")["theta"])
    assert not np.array_equal(resumed.sim.weights["x->exc"], first.sim.weights["x->exc"])


def test_file_holds_weights_thresholds_and_labels(trained, tmp_path):
    model, _ = trained
    path = tmp_path / "m.nir"
    model.save(path)
    graph = neuroport.read(path)
    np.testing.assert_array_equal(graph.nodes["x->exc"].weight, model.sim.weights["x->exc"])
    np.testing.assert_array_equal(graph.nodes["exc"].theta_init, model.sim.state("exc")["theta"])
    labels = json.loads(graph.metadata[dc.LABELS_KEY])
    assert labels == model.labels.tolist()
    neuroport.write(tmp_path / "plain.nir", dc.build(TINY), options={"dt": 1e-3})
    with pytest.raises(InputError, match="not a Diehl & Cook model"):
        dc.DiehlCook.load(tmp_path / "plain.nir")


def test_frozen_graph_learns_nothing_and_folds_theta(trained, data):
    model, _ = trained
    graph = model.sim.to_nir()
    folded, unfolded = dc.frozen(graph), dc.frozen(graph, fold_theta=False)
    assert not any(isinstance(n, PlasticLinear) for n in folded.nodes.values())
    assert isinstance(folded.nodes["x->exc"], nir.Linear) and isinstance(folded.nodes["exc"], nir.LIF)
    np.testing.assert_array_equal(folded.nodes["exc"].v_threshold,
                                  TINY.v_threshold + model.sim.state("exc")["theta"])
    assert isinstance(unfolded.nodes["exc"], AdaptiveLIF) and np.all(unfolded.nodes["exc"].theta_plus == 0)
    spikes = neuroport.encoders.poisson(data.x_test[0] / 16 * 400, steps=60, dt=1e-3, seed=0)
    runs = [neuroport.run(g, dt=1e-3, steps=60, inputs={"x": spikes}) for g in (folded, unfolded)]
    np.testing.assert_array_equal(runs[0].spikes["exc"].steps, runs[1].spikes["exc"].steps)
    np.testing.assert_array_equal(runs[0].spikes["exc"].neurons, runs[1].spikes["exc"].neurons)
    assert runs[0].weights == {} and runs[0].spikes["exc"].count > 0


def test_fixed_point_evaluation(trained, data):
    model, _ = trained
    with warnings.catch_warnings():
        # 8-bit weights round the smallest learned weights away: lossy by design, measured by the benchmark
        warnings.simplefilter("ignore", QuantizationWarning)
        pred = model.predict(data.x_test[:5], backend="numpy-fixed")
    assert pred.shape == (5,)


def test_fixed_point_with_adaptive_lif():
    from neuroport.models import neurons as fixed

    if not fixed.supported("alif"):
        pytest.skip("numpy-fixed has no AdaptiveLIF step yet (neuroport.models); frozen(fold_theta=True) "
                    "avoids it by folding theta into a plain LIF threshold")
    graph = dc.frozen(dc.build(TINY).to_nir(), fold_theta=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        res = neuroport.run(graph, backend="numpy-fixed", dt=1e-3, steps=20, inputs={"x": np.ones((20, 64))})
    assert res.spikes["exc"].size == 8 and res.spikes["exc"].count > 0


def test_cli_help_and_tiny_run(tmp_path, capsys):
    for cmd in ("train", "evaluate"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        assert "Diehl & Cook" in " ".join(capsys.readouterr().out.split())
    out = tmp_path / "m.nir"
    assert main(["train", "--out", str(out), "--neurons", "6", "--epochs", "1", "--steps", "20",
                 "--train-samples", "10", "--no-progress"]) == 0
    assert main(["train", "--out", str(out), "--resume", str(out), "--epochs", "1", "--train-samples", "10",
                 "--no-progress"]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        assert main(["evaluate", str(out), "--backend", "numpy,numpy-fixed", "--test-samples", "5"]) == 0
    text = capsys.readouterr().out
    assert "resuming" in text and "fixed - float" in text and "6 excitatory neurons" in text
    assert main(["evaluate", str(out), "--backend", "lava"]) == 1


# ------------------------------------------------------------ fixed-point training (learning-engine emulation)
@pytest.fixture(scope="module")
def trained_fixed(data):
    with pytest.warns(QuantizationWarning, match="plasticity.eta"):
        model = dc.DiehlCook(TINY, seed=3, backend="numpy-fixed")
    info = model.fit(data.x_train[:20], epochs=1, progress=False)
    return model, info


def test_fixed_training_learns_in_integers(trained_fixed):
    model, info = trained_fixed
    assert info["epochs_done"] == 1 and model.backend == "numpy-fixed"
    assert any("plasticity.eta" in m for m in model.quantization_warnings)  # recorded as well as emitted
    k = next(p for p in model.sim.program.projections if p.name == "x->exc").extra["plasticity"]["weight_scale"]
    w0 = np.rint(dc.build(TINY, seed=3).to_nir().nodes["x->exc"].weight * k)
    mant = model.sim.weights["x->exc"] * k
    np.testing.assert_allclose(mant, np.rint(mant), atol=1e-9)  # graph units = integer mantissa / weight_scale
    assert np.abs(np.rint(mant) - w0).sum() > 50  # learned (and renormalised) in fixed point
    assert np.all((mant >= 0) & (mant <= 255))
    # normalisation through set_weights: sums within half a mantissa per synapse of weight_sum
    assert np.all(np.abs(model.sim.weights["x->exc"].sum(axis=1) - TINY.weight_sum) <= 64 * 0.5 / k)
    theta = model.sim.state("exc")["theta"]
    assert theta.dtype.kind == "i" and theta.max() > 0


def test_fixed_trained_model_saves_reloads_and_evaluates(trained_fixed, data, tmp_path):
    model, _ = trained_fixed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)  # the frozen network's 8-bit weights: measured by the benchmark
        model.assign(data.x_train[:20], data.y_train[:20])
        path = tmp_path / "fixed.nir"
        model.save(path)
        graph = neuroport.read(path)
        scale = model.sim.program.populations["exc"].extra["scale"]
        np.testing.assert_array_equal(graph.nodes["x->exc"].weight, model.sim.weights["x->exc"])
        np.testing.assert_allclose(graph.nodes["exc"].theta_init, model.sim.state("exc")["theta"] / scale)
        loaded = dc.DiehlCook.load(path)
        assert loaded.backend == "numpy-fixed" and loaded.epochs_done == 1
        # re-quantized with the same scales: the very same integers
        np.testing.assert_array_equal(loaded.sim.weights["x->exc"], model.sim.weights["x->exc"])
        np.testing.assert_array_equal(loaded.sim.state("exc")["theta"], model.sim.state("exc")["theta"])
        pred = loaded.predict(data.x_test[:4])  # numpy-fixed, the training engine
        np.testing.assert_array_equal(pred, model.predict(data.x_test[:4]))
        assert pred.shape == (4,) and loaded.predict(data.x_test[:4], backend="numpy").shape == (4,)


def test_fixed_reload_continue_equals_uninterrupted(data, tmp_path):
    x = data.x_train[:8]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        straight = dc.DiehlCook(TINY, seed=5, backend="numpy-fixed")
        straight.fit(x, epochs=2, progress=False)
        first = dc.DiehlCook(TINY, seed=5, backend="numpy-fixed")
        first.fit(x, epochs=1, progress=False)
        first.save(tmp_path / "m.nir")
        resumed = dc.DiehlCook.load(tmp_path / "m.nir")
        resumed.fit(x, epochs=1, progress=False)
    np.testing.assert_array_equal(resumed.sim.weights["x->exc"], straight.sim.weights["x->exc"])
    np.testing.assert_array_equal(resumed.sim.state("exc")["theta"], straight.sim.state("exc")["theta"])


def test_cli_train_fixed(tmp_path, capsys):
    out = tmp_path / "f.nir"
    with warnings.catch_warnings():
        warnings.simplefilter("error", QuantizationWarning)  # the command prints them instead of warning
        assert main(["train", "--out", str(out), "--backend", "numpy-fixed", "--neurons", "6", "--epochs", "1",
                     "--steps", "20", "--train-samples", "10", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "training on numpy-fixed" in text and "quantization warning (training network)" in text
    with pytest.warns(QuantizationWarning):
        assert dc.DiehlCook.load(out).backend == "numpy-fixed"
    with pytest.raises(InputError, match="cannot train"):
        dc.DiehlCook(TINY, backend="lava-fixed")
    # lava-fixed (benchmark, example) needs the AdaptiveLIF kept: refused before anything runs
    assert main(["evaluate", str(out), "--backend", "numpy-fixed,lava-fixed", "--test-samples", "2"]) == 1
    assert "needs --keep-adaptive" in capsys.readouterr().err
