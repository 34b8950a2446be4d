"""neuroport.quantize: ranges, errors the report states, refusals, and float-vs-fixed fidelity."""

from __future__ import annotations

import json
import warnings

import nir
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neuroport
from neuroport.errors import QuantizationError, QuantizationWarning, UnsupportedNodeError
from neuroport.hardware import LOIHI2
from neuroport.program import Population, Program, Projection
from neuroport.quantize import fidelity, match_spikes, quantize

HW = LOIHI2


def _a(x):
    return np.asarray(x, dtype=np.float32)


# ------------------------------------------------------------------ networks (built with nir directly)
def lif_graph(seed=0):
    rng = np.random.default_rng(seed)
    n_in, n = 20, 10
    return nir.NIRGraph(nodes={
        "x": nir.Input(np.array([n_in])),
        "w": nir.Linear(_a(rng.uniform(0.0, 6.0, size=(n, n_in)))),
        "lif": nir.LIF(tau=_a(np.full(n, 0.02)), r=_a(np.ones(n)), v_leak=_a(np.zeros(n)),
                       v_threshold=_a(np.ones(n)), v_reset=_a(np.zeros(n))),
        "out": nir.Output(np.array([n])),
    }, edges=[("x", "w"), ("w", "lif"), ("lif", "out")])


def cuba_chain_graph(seed=0):
    rng = np.random.default_rng(seed)
    sizes = [20, 30, 20]
    nodes = {"x": nir.Input(np.array([sizes[0]])), "out": nir.Output(np.array([sizes[-1]]))}
    edges, prev = [], "x"
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = rng.uniform(*[(-10.0, 30.0), (-6.0, 6.0)][k], size=(b, a))
        nodes[f"w{k}"] = nir.Linear(_a(w))
        nodes[f"c{k}"] = nir.CubaLIF(tau_syn=_a(np.full(b, 5e-3)), tau_mem=_a(np.full(b, 2e-2)), r=_a(np.ones(b)),
                                     v_leak=_a(np.zeros(b)), v_threshold=_a(np.ones(b)), v_reset=_a(np.zeros(b)),
                                     w_in=_a(np.ones(b)))
        edges += [(prev, f"w{k}"), (f"w{k}", f"c{k}")]
        prev = f"c{k}"
    edges.append((prev, "out"))
    return nir.NIRGraph(nodes=nodes, edges=edges)


def ei_graph(seed=0, n_in=40, n_e=80, n_i=20):
    """Recurrent E/I LIF network with synaptic delays (2 ms E->E, 1 ms I->E)."""
    rng = np.random.default_rng(seed)

    def sparse(rows, cols, p, lo, hi):
        return _a(rng.uniform(lo, hi, size=(rows, cols)) * (rng.random((rows, cols)) < p))

    lif = lambda n, tau: nir.LIF(tau=_a(np.full(n, tau)), r=_a(np.ones(n)), v_leak=_a(np.zeros(n)),  # noqa: E731
                                 v_threshold=_a(np.ones(n)), v_reset=_a(np.zeros(n)))
    nodes = {
        "x": nir.Input(np.array([n_in])),
        "w_xe": nir.Linear(sparse(n_e, n_in, 0.3, 0, 12.0)), "w_xi": nir.Linear(sparse(n_i, n_in, 0.3, 0, 8.0)),
        "exc": lif(n_e, 0.02), "inh": lif(n_i, 0.01),
        "d_ee": nir.Delay(_a(np.full(n_e, 2e-3))), "w_ee": nir.Linear(sparse(n_e, n_e, 0.1, 0, 8.0)),
        "w_ei": nir.Linear(sparse(n_i, n_e, 0.2, 0, 6.0)),
        "d_ie": nir.Delay(_a(np.full(n_i, 1e-3))), "w_ie": nir.Linear(sparse(n_e, n_i, 0.3, -20.0, 0)),
        "out": nir.Output(np.array([n_e])),
    }
    edges = [("x", "w_xe"), ("w_xe", "exc"), ("x", "w_xi"), ("w_xi", "inh"), ("exc", "d_ee"), ("d_ee", "w_ee"),
             ("w_ee", "exc"), ("exc", "w_ei"), ("w_ei", "inh"), ("inh", "d_ie"), ("d_ie", "w_ie"),
             ("w_ie", "exc"), ("exc", "out")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def poisson(steps, n, rate_per_step, seed):
    return (np.random.default_rng(seed).random((steps, n)) < rate_per_step).astype(float)


# ------------------------------------------------------------------ fidelity bounds
# (measured match rates are in docs/fixed_point.md; bounds leave a margin)
@pytest.mark.parametrize("name, graph, n_in, bound", [
    ("single LIF", lif_graph(1), 20, 0.97),
    ("CubaLIF chain", cuba_chain_graph(2), 20, 0.88),
    ("recurrent E/I with delays", ei_graph(3), 40, 0.93),
])
def test_fidelity_bounds(name, graph, n_in, bound):
    program = neuroport.compile(graph, dt=1e-3, timing="hardware")
    steps = 500
    rep = fidelity(program, steps, poisson(steps, n_in, 0.05, 7))
    assert rep.min_match_rate >= bound, str(rep)
    for row in rep.rows.values():
        assert row["spikes_float"] > 0
        assert row["rate_error"] <= 0.1, str(rep)
    json.dumps(rep.to_dict())


def test_match_spikes_tolerance():
    a = np.zeros((10, 2), bool)
    b = np.zeros((10, 2), bool)
    a[[2, 5], 0] = True
    b[[3, 8], 0] = True
    a[1, 1] = b[1, 1] = True
    assert match_spikes(a, b, 0) == 1
    assert match_spikes(a, b, 1) == 2


# ------------------------------------------------------------------ report and purity
def test_report_table_json_and_purity():
    program = neuroport.compile(cuba_chain_graph(), dt=1e-3, timing="hardware")
    before = {n: {k: v.copy() for k, v in p.params.items()} for n, p in program.populations.items()}
    w_before = [p.weights.data.copy() for p in program.projections]
    fixed, report = quantize(program)
    for n, p in program.populations.items():
        for k, v in before[n].items():
            assert np.array_equal(p.params[k], v)
    for p, w in zip(program.projections, w_before):
        assert np.array_equal(p.weights.data, w)
    assert fixed.level == "fixed" and program.level == "discrete"
    table = str(report)
    for field in ("du", "dv", "vth", "bias", "weights", "delays"):
        assert field in table
    assert "headroom" in table
    d = json.loads(json.dumps(report.to_dict()))
    assert d["hardware"] == "loihi2" and d["clipped"] == 0
    for pop in fixed.populations.values():
        if not pop.is_input:
            assert set(pop.params) == {"du", "dv", "vth", "bias_mant", "bias_exp", "refractory"}
            assert pop.extra["scale"] > 0
    for proj in fixed.projections:
        assert {"weight_exp", "num_weight_bits", "sign_mode"} <= set(proj.extra)
    report.raise_if(max_rel_error=1.0, clipped=0)  # small weights may round to 0 (rel. error 1)
    assert report.max_rel_error("vth") < 1e-3 and report.max_rel_error("dv") < 1e-2
    with pytest.raises(QuantizationError, match="relative error"):
        report.raise_if(max_rel_error=1e-9)


def _single(size=3, *, du=1.0, dv=0.1, vth=1.0, bias=0.0, w=None, **extra_params):
    n = size
    params = {"du": np.full(n, du), "dv": np.full(n, dv), "v_threshold": np.full(n, vth),
              "bias": np.full(n, bias), "u_bias": np.zeros(n), "refractory": np.zeros(n, np.int64)}
    params.update({k: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy() for k, v in extra_params.items()})
    pops = {"x": Population("x", 2, "input", {}, "state", np.zeros(2)),
            "p": Population("p", n, "lif", params, "spikes", np.zeros(n), (n,), {"reset": "zero"})}
    w = np.full((n, 2), 0.3) if w is None else np.asarray(w, dtype=float)
    m = sp.csr_matrix(w)
    proj = Projection("x->p", "x", "p", m, np.ones(m.nnz, dtype=np.int64))
    return Program(pops, (proj,), ("x",), {}, (), {"dt": 1e-3, "timing": "hardware"}, "discrete")


def test_decay_that_rounds_to_zero_raises_in_strict_mode_and_warns_otherwise():
    program = _single(dv=1e-5)        # tau = 100 s at dt = 1 ms: dv * 4096 = 0.04 -> 0
    with pytest.raises(QuantizationError, match=r"p\.dv"):
        quantize(program, strict=True)
    with pytest.warns(QuantizationWarning, match=r"p\.dv"):
        _, report = quantize(program)
    assert report.entry("p", "dv").underflow == 3
    program = _single(du=1e-5)        # du + 1 offset: below 1/8192 is not representable
    with pytest.raises(QuantizationError, match=r"p\.du"):
        quantize(program, strict=True)
    with pytest.warns(QuantizationWarning):
        _, report = quantize(program)
    assert report.entry("p", "du").clipped == 3


def test_threshold_needing_more_than_17_bits():
    program = _single(vth=1.0)
    with pytest.raises(QuantizationError, match=r"p\.vth.*\[0, 131071\]"):
        quantize(program, strict=True, scales={"p": 2.0 ** 24})
    with pytest.warns(QuantizationWarning, match=r"p\.vth"):
        fixed, report = quantize(program, scales={"p": 2.0 ** 24})
    e = report.entry("p", "vth")
    assert e.clipped == 3 and e.clipped_index.tolist() == [0, 1, 2] and np.all(e.clipped_values == 1.0)
    assert fixed.populations["p"].params["vth"].max() == 131071


def test_refusals_name_the_field():
    # refractory, u_bias and reset="subtract" have fixed-point formats now; out-of-range values are named
    with pytest.raises(QuantizationError, match=r"p\.refractory.*\[0, 4095\].*5000"):
        quantize(_single(refractory=5000), strict=True)
    fixed, rep = quantize(_single(refractory=2, u_bias=0.1), strict=True)
    params = fixed.populations["p"].params
    assert params["refractory"].tolist() == [2, 2, 2]
    assert np.all(params["u_bias_mant"] << params["u_bias_exp"] != 0)
    prog = _single()
    pop = prog.populations["p"]
    sub = Population(pop.name, pop.size, pop.model, pop.params, pop.emits, pop.v_offset, pop.shape,
                     {"reset": "subtract"})
    fixed, _ = quantize(prog.replace(populations={"x": prog.populations["x"], "p": sub}))
    assert fixed.populations["p"].extra["reset"] == "subtract"
    odd = Population(pop.name, pop.size, "coba", pop.params, pop.emits, pop.v_offset, pop.shape, pop.extra)
    with pytest.raises(UnsupportedNodeError, match="coba"):
        quantize(prog.replace(populations={"x": prog.populations["x"], "p": odd}))


def test_mixed_weights_survive_lava_truncation():
    from neuroport.quantize import weight_format

    w = np.array([[0.3, -0.7], [0.01, 0.5], [-0.2, 0.0]])
    fixed, rep = quantize(_single(w=w))
    proj = fixed.projections[0]
    assert proj.extra["sign_mode"] == "MIXED"
    data = proj.weights.data
    assert np.all(data % 2 == 0) and data.min() >= -256 and data.max() <= 254
    # Lava's truncate_weights(MIXED, 8 bits) keeps them: (w >> 1) << 1 == w
    assert np.array_equal((data >> 1) << 1, data)
    assert weight_format(np.array([1.0, 2.0]), HW, 8)[0] == "EXCITATORY"


# ------------------------------------------------------------------ properties
def _back(fixed, hw=HW):
    """Independent float reconstruction of every quantized value."""
    pop = fixed.populations["p"]
    s = pop.extra["scale"]
    p = pop.params
    out = {"du": (p["du"] + 1) / 4096, "dv": p["dv"] / 4096, "vth": p["vth"] * 64 / s,
           "bias": p["bias_mant"] * 2.0 ** p["bias_exp"] / s}
    proj = fixed.projections[0]
    out["weights"] = proj.weights.data * 2.0 ** proj.extra["weight_exp"] * 64 / s
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(du=st.floats(0.0, 1.0), dv=st.floats(0.0, 1.0), vth=st.floats(1e-4, 1e4),
       bias=st.floats(-10.0, 10.0), wmag=st.floats(-6, 3), signs=st.sampled_from(["exc", "inh", "mixed"]),
       seed=st.integers(0, 1000), force=st.sampled_from([None, 1e-3, 1e9]))
def test_quantizer_ranges_errors_and_clipping(du, dv, vth, bias, wmag, signs, seed, force):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0, 10.0 ** wmag, size=(4, 2))
    if signs == "inh":
        w = -w
    elif signs == "mixed":
        w[0, 0], w[1, 1] = -abs(w[0, 0]) - 1e-9, abs(w[1, 1]) + 1e-9
    program = _single(4, du=du, dv=dv, vth=vth, bias=bias, w=w)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fixed, report = quantize(program, scales={"p": force} if force else None)
    # 1. every emitted integer is inside its hardware range
    p = fixed.populations["p"].params
    for key, (lo, hi) in {"du": HW.decay_range, "dv": HW.decay_range, "vth": HW.vth_range,
                          "bias_mant": HW.bias_mant_range, "bias_exp": HW.bias_exp_range}.items():
        assert p[key].dtype == np.int64 and p[key].min() >= lo and p[key].max() <= hi, key
    proj = fixed.projections[0]
    lo, hi = HW.weight_range(proj.extra["sign_mode"])
    assert proj.weights.data.min() >= lo and proj.weights.data.max() <= hi
    e_lo, e_hi = HW.weight_exp_range
    assert e_lo <= proj.extra["weight_exp"] <= e_hi
    # 2. float -> fixed -> float error within what the report states
    back = _back(fixed)
    floats = {"du": np.full(4, du), "dv": np.full(4, dv), "vth": np.full(4, vth), "bias": np.full(4, bias),
              "weights": program.projections[0].weights.data}
    for field, x in floats.items():
        owner = "x->p" if field == "weights" else "p"
        entry = report.entry(owner, field)
        err = np.max(np.abs(back[field] - x))
        assert err <= entry.max_abs_error * (1 + 1e-9) + 1e-300, field
        if not entry.lossy and field in ("vth", "weights", "bias"):
            # pure rounding: at most half a stored unit
            unit = {"vth": 64 / fixed.populations["p"].extra["scale"],
                    "weights": 2.0 ** proj.extra["weight_exp"] * 64 / fixed.populations["p"].extra["scale"]
                    * HW.weight_step(proj.extra["sign_mode"], 8),
                    "bias": 2.0 ** p["bias_exp"].max() / fixed.populations["p"].extra["scale"]}[field]
            assert err <= 0.5 * unit * (1 + 1e-9), field
    # 3. every clipped value appears in the report (independent detection)
    s = fixed.populations["p"].extra["scale"]
    vth_clipped = np.flatnonzero(np.rint(np.full(4, vth) * s / 64) > HW.vth_range[1])
    assert set(vth_clipped) <= set(report.entry("p", "vth").clipped_index.tolist())
    raw_du = np.rint(np.full(4, du) * 4096) - 1
    assert set(np.flatnonzero((raw_du < 0) | (raw_du > 4095))) <= set(report.entry("p", "du").clipped_index)
    exact_b = np.full(4, bias) * s
    b_clip = np.flatnonzero(np.abs(exact_b) > 4095.5 * 2 ** 7)
    assert set(b_clip) <= set(report.entry("p", "bias").clipped_index.tolist())
    # 4. any loss is warned about (nothing silent), and only loss
    lossy = any(e.lossy for e in report.entries)
    assert lossy == any(issubclass(c.category, QuantizationWarning) for c in caught)
    assert report.clipped == sum(e.clipped for e in report.entries)


def test_cli_quantize(tmp_path, capsys):
    from neuroport.cli import main

    path = tmp_path / "lif.nir"
    nir.write(str(path), lif_graph(1))
    out_json = tmp_path / "q.json"
    assert main(["quantize", str(path), "--dt", "1e-3", "--report", "--json", str(out_json), "--steps", "200",
                 "--rate", "50"]) == 0
    out = capsys.readouterr().out
    assert "Quantization report" in out and "Fidelity float vs fixed" in out and "vth" in out
    data = json.loads(out_json.read_text())
    assert data["quantization"]["hardware"] == "loihi2" and "lif" in data["fidelity"]["populations"]
