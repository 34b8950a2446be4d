"""The Brian2 backend: the continuous-time reference against the numpy engine and the NIR paper data.

Tolerances (docs/brian2.md): feed-forward spikes matched within +-1 step >= 99%;
recurrent networks: population rate within 5%, ISI CV within 10%.
"""

from pathlib import Path

import numpy as np
import pytest

nir = pytest.importorskip("nir")

import neuroport  # noqa: E402
from neuroport.backends.brian2 import _compat  # noqa: E402
from neuroport.compare import compare, criteria  # noqa: E402
from neuroport.errors import BackendUnavailableError, InputError  # noqa: E402

pytestmark = pytest.mark.skipif(not _compat.available()[0], reason=f"brian2: {_compat.available()[1]}")

PAPER = str(Path(__file__).resolve().parent / "data" / "nir_paper_lif")


# --------------------------------------------------------------------------- networks
def lif(n, tau=0.02, r=10.0, v_leak=0.0, v_reset=0.0):
    return nir.LIF(tau=np.full(n, tau), r=np.full(n, r), v_leak=np.full(n, v_leak),
                   v_threshold=np.ones(n), v_reset=np.full(n, v_reset))


def cubalif(n):
    return nir.CubaLIF(tau_syn=np.full(n, 0.005), tau_mem=np.full(n, 0.02), r=np.full(n, 10.0),
                       v_leak=np.zeros(n), v_threshold=np.ones(n), v_reset=np.zeros(n), w_in=np.full(n, 2.0))


def if_(n):
    return nir.IF(r=np.full(n, 100.0), v_threshold=np.ones(n), v_reset=np.zeros(n))


def chain(make, *, n_in=20, n1=30, n2=20, delay=None, bias=False, seed=0):
    """input -> Affine -> P1 -> Linear [-> Delay] -> P2 -> Scale -> LI -> output."""
    rng = np.random.default_rng(seed)
    nodes = {"input": nir.Input(input_type={"input": np.array([n_in])}),
             "fc1": nir.Affine(weight=rng.uniform(0, 1.0, (n1, n_in)),
                               bias=rng.uniform(0, 5, n1) if bias else np.zeros(n1)),
             "l1": make(n1), "fc2": nir.Linear(weight=rng.uniform(-0.3, 1.0, (n2, n1))), "l2": make(n2),
             "sc": nir.Scale(scale=np.full(n2, 0.5)),
             "out": nir.LI(tau=np.full(n2, 0.01), r=np.ones(n2), v_leak=np.zeros(n2)),
             "output": nir.Output(output_type={"output": np.array([n2])})}
    edges = [("input", "fc1"), ("fc1", "l1"), ("l1", "fc2")]
    if delay:
        nodes["dl"] = nir.Delay(delay=np.full(n2, delay))
        edges += [("fc2", "dl"), ("dl", "l2")]
    else:
        edges += [("fc2", "l2")]
    edges += [("l2", "sc"), ("sc", "out"), ("out", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def ei_graph(n_e=160, n_i=40, n_in=50, p=0.1, w_in=5.0, w_e=3.0, w_i=-12.0, seed=1):
    """Sparse recurrent excitatory/inhibitory LIF network (about 20 Hz at 20 Hz Poisson input)."""
    rng = np.random.default_rng(seed)

    def sparse(post, pre, w):
        return (rng.random((post, pre)) < p) * w * rng.uniform(0.5, 1.5, (post, pre))

    nodes = {"input": nir.Input(input_type={"input": np.array([n_in])}),
             "in_e": nir.Linear(weight=sparse(n_e, n_in, w_in)), "in_i": nir.Linear(weight=sparse(n_i, n_in, w_in)),
             "E": lif(n_e, r=1.0), "I": lif(n_i, r=1.0),
             "ee": nir.Linear(weight=sparse(n_e, n_e, w_e)), "ei": nir.Linear(weight=sparse(n_i, n_e, w_e)),
             "ie": nir.Linear(weight=sparse(n_e, n_i, w_i)), "ii": nir.Linear(weight=sparse(n_i, n_i, w_i)),
             "output": nir.Output(output_type={"output": np.array([n_e])})}
    edges = [("input", "in_e"), ("in_e", "E"), ("input", "in_i"), ("in_i", "I"), ("E", "ee"), ("ee", "E"),
             ("E", "ei"), ("ei", "I"), ("I", "ie"), ("ie", "E"), ("I", "ii"), ("ii", "I"), ("E", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def poisson(steps, n, rate, dt, seed=0):
    return (np.random.default_rng(seed).random((steps, n)) < rate * dt).astype(float)


def both(graph, *, steps, inputs, probes=(), **opts):
    a = neuroport.run(graph, backend="numpy", steps=steps, inputs=inputs, probes=probes, **opts)
    b = neuroport.run(graph, backend="brian2", steps=steps, inputs=inputs, probes=probes, **opts)
    return a, b


# --------------------------------------------------------------------------- NIR paper
@pytest.mark.parametrize("timing, expected", [("ideal", [460, 510, 710, 760]),
                                              ("hardware", [461, 511, 711, 761])])
def test_nir_paper_lif(timing, expected):
    graph = nir.read(f"{PAPER}/lif_norse.nir")
    data = np.loadtxt(f"{PAPER}/lif_norse.csv", delimiter=",")
    r = neuroport.run(graph, backend="brian2", dt=1e-4, steps=1000, inputs=data[:, :1], timing=timing,
                      probes=[("1", "v")])
    assert r.spikes["1"].steps.tolist() == expected
    assert r.backend == "brian2" and r.meta["brian2_method"] == "euler"
    if timing == "ideal":  # Norse's recorded voltage, to float32 precision
        assert np.max(np.abs(r.state("1")[:, 0] - data[:, 1])) < 1e-6
    assert r.spikes["input"].count == int(data[:, 0].sum())


# --------------------------------------------------------------------------- feed-forward
FF_CASES = {
    "lif": dict(make=lif),
    "lif-delay": dict(make=lif, delay=0.003),
    "lif-leak-reset": dict(make=lambda n: lif(n, v_leak=0.3, v_reset=-0.2)),
    "cubalif-bias": dict(make=cubalif, bias=True),
    "if": dict(make=if_),
}


@pytest.mark.parametrize("timing", ["ideal", "hardware"])
@pytest.mark.parametrize("case", list(FF_CASES))
def test_feedforward_matches_numpy(case, timing):
    graph = chain(**FF_CASES[case])
    steps, dt = 1000, 1e-3
    a, b = both(graph, steps=steps, inputs=poisson(steps, 20, 50, dt, seed=1), dt=dt, timing=timing,
                probes=[("l2", "v"), ("out", "v")])
    rep = compare(a, b, inputs=("input",))
    assert a.spikes["l2"].count > 100
    rows = criteria(rep, recurrent=False)
    assert all(r["status"] == "PASS" for r in rows), rows
    for m in rep.populations.values():
        assert m.match >= 0.99
    # in practice the trains are identical and the states agree to rounding
    assert rep.spikes_identical
    assert rep.states["l2.v"].max_rel < 1e-9 and rep.states["out.v"].max_rel < 1e-9


@pytest.mark.parametrize("scheme, reset", [("exact", "zero"), ("exact", "subtract"), ("euler", "subtract")])
def test_schemes_and_resets(scheme, reset):
    graph = chain(cubalif, bias=True)
    steps, dt = 600, 1e-3
    a, b = both(graph, steps=steps, inputs=poisson(steps, 20, 50, dt, seed=2), dt=dt, timing="ideal",
                scheme=scheme, reset=reset, probes=[("l1", "v")])
    rep = compare(a, b, inputs=("input",))
    assert rep.spikes_identical, str(rep)
    assert rep.states["l1.v"].max_rel < 1e-9
    assert b.meta["brian2_method"] == scheme


def test_graded_input_threshold_integrator_and_graded_edges():
    """TimedArray input, a per-input Delay, Threshold, CubaLI -> LIF (graded edge) and an integrator."""
    rng = np.random.default_rng(3)
    n_in, n1, n2 = 5, 8, 6
    nodes = {"input": nir.Input(input_type={"input": np.array([n_in])}),
             "dly": nir.Delay(delay=np.array([0, 1, 2, 3, 4]) * 1e-3),
             "fc1": nir.Affine(weight=rng.uniform(0, 1, (n1, n_in)), bias=rng.uniform(0, 0.5, n1)),
             "th": nir.Threshold(threshold=np.full(n1, 1.5)),
             "li": nir.CubaLI(tau_syn=np.full(n1, 0.01), tau_mem=np.full(n1, 0.02), r=np.ones(n1),
                              v_leak=np.zeros(n1), w_in=np.ones(n1)),
             "fc2": nir.Linear(weight=rng.uniform(0, 30, (n2, n1))), "l2": lif(n2, r=1.0),
             "integ": nir.I(r=np.ones(n2)), "output": nir.Output(output_type={"output": np.array([n2])})}
    edges = [("input", "dly"), ("dly", "fc1"), ("fc1", "th"), ("th", "li"), ("li", "fc2"), ("fc2", "l2"),
             ("l2", "integ"), ("integ", "output")]
    graph = nir.NIRGraph(nodes=nodes, edges=edges)
    x = rng.uniform(0, 1, (500, n_in)) * 2
    for timing in ("ideal", "hardware"):
        a, b = both(graph, steps=500, inputs=x, dt=1e-3, timing=timing,
                    probes=[(p, "v") for p in ("th", "li", "l2", "integ")])
        rep = compare(a, b, inputs=("input",))
        assert a.spikes["th"].count > 50 and a.spikes["l2"].count > 20
        assert rep.spikes_identical, str(rep)
        assert max(s.max_rel for s in rep.states.values()) < 1e-9


# --------------------------------------------------------------------------- recurrent
@pytest.mark.parametrize("timing", ["hardware", "ideal"])
def test_recurrent_ei_rates_and_cv(timing):
    dt, steps = 1e-3, 2000  # 2 s of network time
    graph = ei_graph()
    a, b = both(graph, steps=steps, inputs=poisson(steps, 50, 20, dt), dt=dt, timing=timing)
    rep = compare(a, b, inputs=("input",))
    program = neuroport.compile(graph, dt=dt, timing=timing)
    rows = criteria(rep, program=program)
    assert {r["criterion"].split()[0] for r in rows} == {"E", "I"} and len(rows) == 4
    assert all(r["status"] == "PASS" for r in rows), rows
    for name in ("E", "I"):
        m = rep.populations[name]
        assert 5 < m.rate_a_hz < 60  # an active, irregular regime
        assert abs(m.rate_b_hz - m.rate_a_hz) / m.rate_a_hz <= 0.05
        assert abs(m.cv_b - m.cv_a) / m.cv_a <= 0.10


# --------------------------------------------------------------------------- plumbing
def test_runs_do_not_interfere():
    g1 = nir.read(f"{PAPER}/lif_norse.nir")
    x1 = np.loadtxt(f"{PAPER}/lif_norse.csv", delimiter=",")[:, :1]
    g2 = chain(cubalif)
    x2 = poisson(300, 20, 50, 1e-3)
    first = neuroport.run(g1, backend="brian2", dt=1e-4, steps=1000, inputs=x1, timing="ideal", probes=[("1", "v")])
    other = neuroport.run(g2, backend="brian2", dt=1e-3, steps=300, inputs=x2)
    again = neuroport.run(g1, backend="brian2", dt=1e-4, steps=1000, inputs=x1, timing="ideal", probes=[("1", "v")])
    assert other.spikes["l1"].count > 0
    assert np.array_equal(first.spikes["1"].steps, again.spikes["1"].steps)
    assert np.array_equal(first.state("1"), again.state("1"))


def test_cpp_standalone_device():
    from neuroport.backends.brian2.backend import Brian2Backend

    graph = nir.read(f"{PAPER}/lif_norse.nir")
    x = np.loadtxt(f"{PAPER}/lif_norse.csv", delimiter=",")[:, :1]
    program = neuroport.compile(graph, dt=1e-4, timing="hardware")
    r = Brian2Backend(device="cpp_standalone").run(program, steps=1000, inputs=x)
    assert r.spikes["1"].steps.tolist() == [461, 511, 711, 761]
    after = Brian2Backend().run(program, steps=1000, inputs=x)  # runtime device restored
    assert after.spikes["1"].steps.tolist() == [461, 511, 711, 761]


def test_unknown_probe_and_options():
    from neuroport.backends.brian2.backend import Brian2Backend

    graph = chain(lif)
    with pytest.raises(InputError, match="records v"):
        neuroport.run(graph, backend="brian2", dt=1e-3, steps=10, probes=[("l1", "u")])
    with pytest.raises(InputError, match="codegen"):
        Brian2Backend(codegen="gcc")


def test_unavailable(monkeypatch):
    from neuroport.backends.brian2.backend import Brian2Backend

    monkeypatch.setitem(_compat._CACHE, "status", (False, "brian2 is not importable (test)"))
    be = Brian2Backend()
    assert be.available() == (False, "brian2 is not importable (test)")
    program = neuroport.compile(chain(lif), dt=1e-3)
    with pytest.raises(BackendUnavailableError, match=r"pip install 'neuroport\[brian2\]'"):
        be.run(program, steps=10)


def test_registered_as_nir_level():
    from neuroport import backends

    be = backends.get("brian2")
    assert be.name == "brian2" and be.level == "nir"


def test_cubalif_joint_integration_would_lag_one_step_per_layer(monkeypatch):
    """Why CubaLIF uses two Brian2 groups (docs/brian2.md).

    The discrete contract updates ``u`` first and then ``v`` with the *new*
    ``u`` (docs/semantics.md). Integrating ``I`` and ``v`` jointly in one
    Brian2 group (Brian2's usual way) makes ``v`` see ``I`` of the previous
    step: every spike then comes exactly one step later per CubaLIF layer.
    """
    from neuroport.models import lif

    original = lif.LIF_FAMILY.equations

    def joint(pn, reset="zero"):
        spec = original(pn, reset)
        if pn.model != "cubalif":
            return spec
        spec.equations = spec.equations.replace("I : 1 (linked)\n", "") + spec.syn.equations
        spec.params.update(spec.syn.params)
        spec.syn = None
        return spec

    def weak_cubalif(n):
        c = cubalif(n)
        c.r = np.full(n, 1.5)
        return c

    graph = chain(weak_cubalif)
    steps, dt = 1000, 1e-3
    x = poisson(steps, 20, 50, dt, seed=1)
    a = neuroport.run(graph, backend="numpy", dt=dt, steps=steps, inputs=x, timing="ideal")
    monkeypatch.setattr(lif.LIF_FAMILY, "equations", joint)
    b = neuroport.run(graph, backend="brian2", dt=dt, steps=steps, inputs=x, timing="ideal")

    def shifted(layer, lag):
        ta, tb = a.spikes[layer], b.spikes[layer]
        keys_b = set(zip((tb.steps - lag).tolist(), tb.neurons.tolist()))
        return np.mean([k in keys_b for k in zip(ta.steps.tolist(), ta.neurons.tolist())])

    assert a.spikes["l2"].count > 500
    assert shifted("l1", 0) == 0.0 and shifted("l1", 1) > 0.99  # first layer: one step late
    assert shifted("l2", 1) == 0.0 and shifted("l2", 2) > 0.99  # second layer: two steps late


# --------------------------------------------------------------------------- input convention 'jump'
def _if_jump_graph(n_in=6, n=5, r=0.5, seed=3):
    rng = np.random.default_rng(seed)
    w, b = rng.uniform(-0.5, 1.5, size=(n, n_in)), rng.uniform(-0.05, 0.1, size=n)
    node = nir.IF(r=np.full(n, r), v_threshold=np.full(n, 1.0), v_reset=np.zeros(n))
    g = nir.NIRGraph(nodes={"x": nir.Input(input_type={"input": np.array([n_in])}),
                            "w": nir.Affine(weight=w, bias=b), "p": node,
                            "y": nir.Output(output_type={"output": np.array([n])})},
                     edges=[("x", "w"), ("w", "p"), ("p", "y")], type_check=False)
    neuroport.semantics.annotate(g.nodes["p"], input="jump", threshold="ge", reset="subtract")
    return g, w, b, r


@pytest.mark.parametrize("timing", ["ideal", "hardware"])
def test_if_jump_input_with_bias_is_a_dirac_current(timing):
    # IF under Sinabs' convention: v += r (W x + b) per step (no dt factor), v >= 1 fires, reset by subtraction
    g, w, b, r = _if_jump_graph()
    steps, dt = 80, 1e-4
    x = (np.random.default_rng(4).random((steps, w.shape[1])) < 0.3).astype(float)
    arriving = x if timing == "ideal" else np.vstack([np.zeros((1, x.shape[1])), x[:-1]])  # hardware: 1 step late
    v, spk, vs = np.zeros(w.shape[0]), np.zeros((steps, w.shape[0]), bool), []
    for t in range(steps):
        v = v + r * (w @ arriving[t] + b)
        spk[t] = v >= 1.0
        v = v - spk[t] * 1.0
        vs.append(v.copy())
    res = neuroport.run(g, backend="brian2", dt=dt, steps=steps, inputs={"x": x}, timing=timing, probes=[("p", "v")])
    assert spk.sum() > 10
    np.testing.assert_array_equal(res.spikes["p"].to_dense(), spk)
    np.testing.assert_allclose(res.state("p", "v"), np.array(vs), rtol=0, atol=1e-9)


def test_jump_input_into_a_leaky_neuron_is_still_refused():
    n = 3
    g = nir.NIRGraph(nodes={"x": nir.Input(input_type={"input": np.array([2])}),
                            "w": nir.Linear(weight=np.ones((n, 2))), "p": lif(n),
                            "y": nir.Output(output_type={"output": np.array([n])})},
                     edges=[("x", "w"), ("w", "p"), ("p", "y")], type_check=False)
    neuroport.semantics.annotate(g.nodes["p"], input="jump")
    with pytest.raises(neuroport.errors.UnsupportedNodeError, match=r"input convention 'jump'.*discrete-time"):
        neuroport.run(g, backend="brian2", dt=1e-3, steps=5, inputs={"x": np.ones((5, 2))})
