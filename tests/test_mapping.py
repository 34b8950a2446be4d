"""neuroport.mapping: placement on cores and the design rules."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from neuroport.errors import ResourceError
from neuroport.hardware import LOIHI2
from neuroport.mapping import RULES, map_program
from neuroport.program import Population, Program, Projection


def _lif(name, n):
    return Population(name, n, "lif", {"du": np.ones(1), "dv": np.full(1, 0.1), "v_threshold": np.ones(1)},
                      "spikes", None, (n,))


def _program(pops, projs, level="discrete"):
    return Program({p.name: p for p in pops}, tuple(projs), tuple(p.name for p in pops if p.is_input), {}, (),
                   {"dt": 1e-3, "timing": "hardware"}, level)


def _random_proj(name, pre, post, n_pre, n_post, nnz_per_row, seed, delay=1):
    rng = np.random.default_rng(seed)
    cols = np.concatenate([rng.choice(n_pre, nnz_per_row, replace=False) for _ in range(n_post)])
    rows = np.repeat(np.arange(n_post), nnz_per_row)
    w = sp.csr_matrix((rng.uniform(0, 0.1, rows.size), (rows, cols)), shape=(n_post, n_pre))
    return Projection(name, pre, post, w, np.full(w.nnz, delay, dtype=np.int64))


def test_two_million_neurons_do_not_fit_one_chip():
    prog = _program([_lif("big", 2_000_000)], [])
    with pytest.raises(ResourceError, match=r"cores_available: cores needed 245 > available 128"):
        map_program(prog)
    report = map_program(prog, raise_on_error=False)
    assert report.cores == 245 and report.chips == 2 and not report.fits
    assert map_program(prog, LOIHI2.with_chips(2)).fits


def test_ten_thousand_neurons_map():
    inp = Population("x", 1000, "input", {}, "state", np.zeros(1000))
    pops = [inp, _lif("exc", 8000), _lif("inh", 2000)]
    projs = [_random_proj("x->exc", "x", "exc", 1000, 8000, 20, 1),
             _random_proj("exc->exc", "exc", "exc", 8000, 8000, 50, 2, delay=3),
             _random_proj("exc->inh", "exc", "inh", 8000, 2000, 50, 3),
             _random_proj("inh->exc", "inh", "exc", 2000, 8000, 20, 4)]
    report = map_program(_program(pops, projs))
    assert report.fits and report.neurons == 10_000 and report.cores == 2 and report.chips == 1
    exc = report.placements["exc"]
    assert exc.max_fan_in == 90 and exc.synapses_in == 8000 * 90 and exc.neurons_per_core == 8000
    assert report.max_delay == 3
    assert "exc" in str(report) and report.to_dict()["cores"] == 2


def test_synapse_memory_splits_cores():
    n = 4000
    inp = Population("x", 1000, "input", {}, "state", np.zeros(1000))
    proj = _random_proj("x->a", "x", "a", 1000, n, 500, 5)     # 2M synapses -> 3 cores by memory
    report = map_program(_program([inp, _lif("a", n)], [proj]))
    assert report.placements["a"].cores == 3
    assert report.placements["a"].synapses_per_core <= LOIHI2.synapses_per_core


def test_delay_fan_in_and_weight_rules():
    inp = Population("x", 10, "input", {}, "state", np.zeros(10))
    long = _random_proj("x->a", "x", "a", 10, 5, 3, 6, delay=70)
    with pytest.raises(ResourceError, match=r"delays: projection 'x->a': delay 70 steps > max 64"):
        map_program(_program([inp, _lif("a", 5)], [long]))
    ok = _random_proj("x->a", "x", "a", 10, 5, 3, 6)
    with pytest.raises(ResourceError, match=r"fan_in: .*10 input synapses > max 4"):
        map_program(_program([inp, _lif("a", 5)], [_random_proj("x->a", "x", "a", 10, 5, 10, 7)]),
                    LOIHI2.replace(max_fan_in=4))
    bad = Projection("x->a", "x", "a", sp.csr_matrix(ok.weights.toarray() * 0 + 300.0 * (ok.weights.toarray() > 0)),
                     ok.delays, {"weight_exp": 9, "sign_mode": "EXCITATORY", "num_weight_bits": 8})
    with pytest.raises(ResourceError) as info:
        map_program(_program([inp, _lif("a", 5)], [bad], level="fixed"))
    msg = str(info.value)
    assert "weight_bits: projection 'x->a': weights [300.0, 300.0] outside EXCITATORY range [0, 255]" in msg
    assert "weight_exp 9 outside [-8, 7]" in msg
    assert [r.__name__ for r in RULES] == ["cores_available", "neurons_per_core", "synapses_per_core", "fan_in",
                                           "delays", "weight_bits"]


def _graph(delay_s):
    import nir

    a = lambda v: np.asarray(v, dtype=np.float32)  # noqa: E731
    return nir.NIRGraph(nodes={
        "x": nir.Input(np.array([3])), "d": nir.Delay(a(np.full(3, delay_s))), "w": nir.Linear(a(np.ones((2, 3)))),
        "lif": nir.LIF(tau=a([0.02, 0.02]), r=a([1, 1]), v_leak=a([0, 0]), v_threshold=a([1, 1]),
                       v_reset=a([0, 0])),
        "out": nir.Output(np.array([2]))}, edges=[("x", "d"), ("d", "w"), ("w", "lif"), ("lif", "out")])


def test_cli_map(tmp_path, capsys):
    import nir

    from neuroport.cli import main

    ok, bad = tmp_path / "ok.nir", tmp_path / "bad.nir"
    nir.write(str(ok), _graph(2e-3))
    nir.write(str(bad), _graph(0.1))
    assert main(["map", str(ok), "--dt", "1e-3"]) == 0
    assert "fits" in capsys.readouterr().out
    assert main(["map", str(bad), "--dt", "1e-3"]) == 1
    err = capsys.readouterr().err
    assert "delays: projection" in err and "delay 101 steps > max 64" in err
