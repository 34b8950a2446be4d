"""Genetic weight evolution (neuroport.apps.evolve, ``neuroport evolve``).

The stacked evaluation (all genomes x samples in one Program) is checked against an independent
computation: each genome built with the public builder, compiled and run alone on each sample.
"""

import os

import numpy as np
import pytest

pytest.importorskip("pygad")
pytest.importorskip("sklearn")

import neuroport  # noqa: E402
from neuroport.apps import evolve as ev  # noqa: E402
from neuroport.cli import main  # noqa: E402
from neuroport.errors import InputError  # noqa: E402

TINY = dict(population=6, parents=4, generations=2, train_per_class=4, steps=20, engine="numpy")


def _separate_counts(config, genomes, spikes, samples):
    """Spike counts (P, S, C) from one builder network and one ordinary run per genome and sample."""
    out = np.zeros((len(genomes), samples, config.n_classes), dtype=np.int64)
    for i, genome in enumerate(genomes):
        net = ev.build(config, genome)
        for s in range(samples):
            result = neuroport.run(net, dt=config.dt, steps=config.steps, engine="numpy",
                                   inputs={"x": spikes[:, 64 * s:64 * (s + 1)]})
            out[i, s] = np.bincount(result.spikes["out"].neurons, minlength=config.n_classes)
    return out


@pytest.mark.parametrize("hidden", [0, 3])
@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_stacked_generation_equals_separate_runs(hidden, engine):
    if engine == "compiled":
        pytest.importorskip("numba")
    config = ev.Config(classes=(3, 8), hidden=hidden, train_per_class=2, steps=25, seed=4)
    data = ev.load_data(config.classes, config.train_per_class)
    evaluator = ev._Evaluator(config, data.x_train, data.y_train, engine=engine)
    rng = np.random.default_rng(1)
    genomes = rng.uniform(-2, 6, size=(3, ev.n_genes(config)))  # mixed signs (both CondLIF ports), active
    stacked = evaluator.counts(genomes)
    separate = _separate_counts(config, genomes, evaluator.spikes, len(data.y_train))
    assert separate.sum() > 0 and len(np.unique(separate)) > 2  # the comparison sees real activity
    np.testing.assert_array_equal(stacked, separate)
    assert evaluator.runs == 1


def test_same_seed_same_result_and_other_seed_differs():
    a = ev.evolve((0, 1), progress=False, test_backends=(), seed=5, **TINY)
    b = ev.evolve((0, 1), progress=False, test_backends=(), seed=5, **TINY)
    c = ev.evolve((0, 1), progress=False, test_backends=(), seed=6, **TINY)
    np.testing.assert_array_equal(a.genome, b.genome)
    assert a.history == b.history
    assert not np.array_equal(a.genome, c.genome)
    assert len(a.history) == TINY["generations"] + 1 and a.engine_runs == TINY["generations"] + 2


def test_fitness_improves_on_an_easy_pair():
    result = ev.evolve((0, 1), population=16, parents=8, generations=8, train_per_class=10, steps=30,
                       progress=False, test_backends=(), seed=0, engine="numpy")
    first, last = result.history[0], result.history[-1]
    assert last["best_fitness"] > first["best_fitness"]
    assert last["mean_fitness"] > first["mean_fitness"]
    assert result.train_accuracy == pytest.approx(last["best_accuracy"])


def test_saved_nir_rereads_with_the_same_accuracy(tmp_path):
    path = tmp_path / "best.nir"
    result = ev.evolve((0, 1), out=path, progress=False, test_backends=("numpy",), seed=2, **TINY)
    graph = neuroport.read(path)
    assert ev.read_metadata(graph)["classes"] == [0, 1]
    assert ev.evaluate(graph, backend="numpy") == result.test_accuracy["numpy"]
    # the file runs as an ordinary network too: one test sample alone gives the stacked run's counts
    data = ev.load_data((0, 1), 1)
    n = 4
    spikes = ev.encode(data.x_test[:n], steps=20, dt=1e-3, max_rate_hz=ev.read_metadata(graph)["max_rate_hz"],
                       seed=11)
    stacked = ev.stack_program(neuroport.compile(graph), n)
    for backend in ("numpy", "numpy-fixed"):  # fixed: the stacked Program quantizes as one copy does
        counts = ev.spike_counts(neuroport.run(stacked, backend=backend, steps=20, inputs={"x": spikes}),
                                 stacked, n)[0]
        assert counts.sum() > 0
        for s in range(n):
            alone = neuroport.run(graph, backend=backend, steps=20, inputs={"x": spikes[:, 64 * s:64 * (s + 1)]})
            np.testing.assert_array_equal(counts[s], np.bincount(alone.spikes["out"].neurons, minlength=2))


@pytest.mark.parametrize("kwargs, words", [
    (dict(classes=(1,)), "2 to 5 digits"),
    (dict(classes=(0, 10)), "not digits"),
    (dict(classes=(2, 2)), "repeats"),
    (dict(classes=(0, 1), population=1), "population"),
    (dict(classes=(0, 1), parents=40), "parents"),
    (dict(classes=(0, 1), max_rate_hz=2000.0), "max_rate_hz"),
])
def test_bad_arguments_are_clear_errors(kwargs, words):
    with pytest.raises(InputError, match=words):
        ev.evolve(progress=False, **kwargs)


def test_unknown_option_is_named():
    with pytest.raises(InputError, match="popsize"):
        ev.evolve((0, 1), popsize=3)


def test_cli_help_and_tiny_run(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["evolve", "--help"])
    assert exc.value.code == 0
    assert "--classes" in capsys.readouterr().out
    out = tmp_path / "e.nir"
    code = main(["evolve", "--classes", "0,1", "--population", "4", "--parents", "2", "--generations", "1",
                 "--train-per-class", "3", "--steps", "15", "--backends", "numpy", "--no-progress",
                 "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert os.path.exists(out) and "held-out accuracy on numpy" in text
    assert main(["evolve", "--classes", "7", "--no-progress"]) == 2
    assert "2 to 5 digits" in capsys.readouterr().err
    assert main(["evolve", "--classes", "0,1", "--backends", "nosuch", "--no-progress"]) == 2  # usage error
    assert "unknown backend 'nosuch'" in capsys.readouterr().err


def test_top_level_name():
    assert neuroport.evolve is ev.evolve
