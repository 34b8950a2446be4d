"""neuroport.sweep: a Dask sweep equals the serial loop; failures, cache resume, metrics, the CLI."""

import math

import numpy as np
import pandas as pd
import pytest

import neuroport
from neuroport.cli import main
from neuroport.models.networks.benchmarks import coba_network
from neuroport.result import Result, SpikeTrain
from neuroport.sweep import branching_ratio, expand_grid, point_key, readout_accuracy

distributed = pytest.importorskip("distributed")

DT, STEPS = 1e-4, 300
GRID = {"weight_scale": [0.5, 1.0, 1.5, 2.0], "seed": [0, 1]}  # 8 points


def small_coba(weight_scale, seed):
    return coba_network(n_neurons=200, p=0.1, weight_scale=weight_scale, seed=seed)


def spike_counts(result):
    return {f"spikes_{name}": train.count for name, train in result.spikes.items()}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_cluster_listens_on_loopback_only(client):
    info = client.scheduler_info()
    assert client.scheduler.address.startswith("tcp://127.0.0.1:")
    assert len(info["workers"]) == 2
    assert all(addr.startswith("tcp://127.0.0.1:") for addr in info["workers"])


def test_dask_sweep_equals_serial_loop(client):
    table = neuroport.sweep(small_coba, GRID, steps=STEPS, dt=DT, metrics=["rate", "cv", "branching", spike_counts],
                            client=client, progress=False)
    assert len(table) == 8 and (table["status"] == "ok").all(), table["error"].tolist()
    assert list(table.columns[:2]) == ["weight_scale", "seed"]
    # the plain loop, metrics computed here from the spike trains
    for row, point in zip(table.itertuples(index=False), expand_grid(GRID)):
        assert (row.weight_scale, row.seed) == (point["weight_scale"], point["seed"])
        result = neuroport.run(small_coba(**point), steps=STEPS, dt=DT, progress=False)
        exc, inh = result.spikes["exc"], result.spikes["inh"]
        assert row.spikes_exc == exc.count and row.spikes_inh == inh.count
        assert row.rate == pytest.approx((exc.count + inh.count) / (200 * STEPS * DT), rel=1e-12)
        assert row.rate_exc == pytest.approx(exc.count / (exc.size * STEPS * DT), rel=1e-12)
        activity = np.bincount(np.concatenate([exc.steps, inh.steps]), minlength=STEPS).astype(float)
        active = activity[:-1] > 0
        assert row.branching == pytest.approx(np.mean(activity[1:][active] / activity[:-1][active]), rel=1e-12)
    assert table["spikes_exc"].sum() > 0  # the runs are not silent: the comparison means something
    serial = neuroport.sweep(small_coba, GRID, steps=STEPS, dt=DT, metrics=["rate", "cv", "branching", spike_counts],
                             workers=0, progress=False)
    metric_columns = [c for c in table.columns if c not in ("wall_s",)]
    pd.testing.assert_frame_equal(table[metric_columns], serial[metric_columns])


def failing_build(weight_scale, seed):
    if weight_scale == 1.5 and seed == 1:
        raise ValueError("weight_scale 1.5 with seed 1 is refused on purpose")
    return small_coba(weight_scale, seed)


def test_failing_point_is_reported_and_others_complete(client):
    table = neuroport.sweep(failing_build, GRID, steps=100, dt=DT, metrics=["rate"], client=client, progress=False)
    bad = table[(table.weight_scale == 1.5) & (table.seed == 1)]
    assert bad["status"].tolist() == ["error"]
    assert "refused on purpose" in bad["error"].iloc[0] and "ValueError" in bad["error"].iloc[0]
    assert math.isnan(bad["rate"].iloc[0])
    good = table.drop(bad.index)
    assert len(good) == 7 and (good["status"] == "ok").all() and (good["error"] == "").all()
    assert good["rate"].notna().all()


def test_unknown_metric_and_bad_grid_are_clear_errors():
    with pytest.raises(neuroport.InputError, match="unknown; named metrics are rate, cv"):
        neuroport.sweep(small_coba, GRID, steps=10, metrics=["rates"], workers=0)
    with pytest.raises(neuroport.InputError, match="grid\\['seed'\\]: empty list"):
        neuroport.sweep(small_coba, {"weight_scale": [1.0], "seed": []}, steps=10, workers=0)
    with pytest.raises(neuroport.InputError, match="workers: expected an integer >= 0"):
        neuroport.sweep(small_coba, GRID, steps=10, workers=-1)


class CountingBuild:
    """Counts calls; raises KeyboardInterrupt on call number ``interrupt_at`` (an interrupted sweep)."""

    def __init__(self, interrupt_at=None):
        self.calls, self.interrupt_at = [], interrupt_at

    def __call__(self, weight_scale, seed):
        self.calls.append((weight_scale, seed))
        if len(self.calls) == self.interrupt_at:
            raise KeyboardInterrupt
        return coba_network(n_neurons=100, p=0.1, weight_scale=weight_scale, seed=seed)


def test_cache_resumes_an_interrupted_sweep(tmp_path):
    cache = tmp_path / "cache"
    grid = {"weight_scale": [0.5, 1.0, 2.0], "seed": [0, 1]}
    first = CountingBuild(interrupt_at=4)
    with pytest.raises(KeyboardInterrupt):
        neuroport.sweep(first, grid, steps=100, dt=DT, metrics=["rate", spike_counts], workers=0, cache=cache,
                        progress=False)
    assert len(list(cache.glob("*.json"))) == 3  # the three finished points, one file each
    second = CountingBuild()
    resumed = neuroport.sweep(second, grid, steps=100, dt=DT, metrics=["rate", spike_counts], workers=0,
                              cache=cache, progress=False)
    assert second.calls == [(1.0, 1), (2.0, 0), (2.0, 1)]  # only the points the interrupted sweep had not finished
    assert resumed["cached"].tolist() == [True, True, True, False, False, False]
    fresh = neuroport.sweep(CountingBuild(), grid, steps=100, dt=DT, metrics=["rate", spike_counts], workers=0,
                            progress=False)
    cols = ["weight_scale", "seed", "rate", "spikes_exc", "spikes_inh", "status"]
    pd.testing.assert_frame_equal(resumed[cols], fresh[cols])
    # a different number of steps is a different key: nothing is reused
    third = CountingBuild()
    neuroport.sweep(third, grid, steps=50, dt=DT, metrics=["rate", spike_counts], workers=0, cache=cache,
                    progress=False)
    assert len(third.calls) == 6


def test_point_key_is_stable_and_discriminating():
    base = dict(backend="numpy", steps=100, dt=1e-4, metric_names=["rate"])
    key = point_key({"a": 1, "b": 0.5}, **base)
    assert key == point_key({"b": np.float64(0.5), "a": np.int64(1)}, **base)  # order and numpy scalars
    assert key != point_key({"a": 1, "b": 0.5}, **{**base, "backend": "numpy-fixed"})
    assert key != point_key({"a": 1, "b": 0.5}, **{**base, "steps": 101})
    assert key != point_key({"a": 2, "b": 0.5}, **base)


def test_branching_ratio_and_accuracy_by_hand():
    # active bins 0,1,3 -> ratios 3/1, 0/3, 4/2
    assert branching_ratio([1, 3, 0, 2, 4]) == pytest.approx((3 + 0 + 2) / 3)
    assert math.isnan(branching_ratio([0, 0, 0]))
    # 3 windows of 4 steps, readout of 2 neurons: window 0 -> neuron 1, window 1 -> neuron 0, window 2 silent
    train = SpikeTrain(np.array([0, 1, 2, 5, 6]), np.array([1, 1, 0, 0, 1]), size=2, num_steps=12)
    result = Result(backend="numpy", dt=1e-3, num_steps=12, spikes={"out": train})
    assert readout_accuracy(result, [1, 0, 0], "out") == pytest.approx(2 / 3)
    assert readout_accuracy(result, [0, 1, 1], "out") == 0.0


def test_cli_sweep_serial_writes_csv(tmp_path, capsys):
    out = tmp_path / "sweep.csv"
    code = main(["sweep", "--network", "coba", "--param", "n_neurons=100", "--param", "weight_scale=0.5,2",
                 "--param", "p=0.1", "--steps", "100", "--workers", "0", "--metrics", "rate,cv,branching",
                 "--out", str(out), "--no-progress"])
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(out)
    assert table["weight_scale"].tolist() == [0.5, 2.0] and (table["n_neurons"] == 100).all()
    assert {"rate", "rate_exc", "rate_inh", "cv", "branching", "status", "error"} <= set(table.columns)
    assert (table["status"] == "ok").all()
    direct = neuroport.run(coba_network(n_neurons=100, p=0.1, weight_scale=2.0), steps=100, dt=DT, progress=False)
    assert table["rate_exc"].iloc[1] == pytest.approx(direct.spikes["exc"].rate_hz(DT))
    assert "2 of 2 points ok" in capsys.readouterr().out
    # --cache: the same sweep again is read back; another --seed is another run
    argv = ["sweep", "--network", "coba", "--param", "n_neurons=100", "--param", "weight_scale=0.5,2", "--param",
            "p=0.1", "--steps", "100", "--workers", "0", "--no-progress", "--cache", str(tmp_path / "cache")]
    assert main(argv) == 0 and "2 from the cache" not in capsys.readouterr().out
    assert main(argv) == 0 and "2 from the cache" in capsys.readouterr().out
    assert main(argv + ["--seed", "1"]) == 0 and "from the cache" not in capsys.readouterr().out


def test_cli_sweep_ei_with_input(tmp_path, capsys):
    code = main(["sweep", "--network", "ei", "--param", "n_layers=2", "--param", "n_per_layer=20",
                 "--param", "topology=layered,ring", "--steps", "50", "--workers", "0", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "layered" in out and "ring" in out and "2 of 2 points ok" in out


@pytest.mark.parametrize("argv, message", [
    (["--param", "g_exc=1,2"], "has no parameter 'g_exc'"),
    (["--param", "n_neurons=1.5"], "n_neurons takes int values"),
    (["--param", "weight_scale"], "expected NAME=V1,V2"),
    (["--param", "weight_scale=1,,2"], "empty value"),
    (["--param", "seed=0", "--metrics", "accuracy"], "'accuracy' is not one of"),
    (["--param", "seed=0", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "give one"),
    (["--param", "seed=0", "--out", "x.txt"], "expected a .csv"),
    ([], "at least one --param"),
])
def test_cli_sweep_usage_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["sweep", "--network", "coba", "--steps", "10", "--workers", "0", *argv]
                if "--workers" not in argv else ["sweep", "--network", "coba", "--steps", "10", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_cli_sweep_reports_failed_points(capsys):
    code = main(["sweep", "--network", "coba", "--param", "n_neurons=100,0", "--steps", "10", "--workers", "0",
                 "--no-progress"])
    captured = capsys.readouterr()
    assert code == 1
    assert "1 of 2 points ok, 1 failed" in captured.out and "n_neurons=0" in captured.err
