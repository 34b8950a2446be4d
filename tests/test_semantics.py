"""Per-node conventions (neuroport.semantics) against plain loops written from the frameworks' own
update rules, and their storage in the graph (metadata round trip, precedence, refusals)."""

from __future__ import annotations

import nir
import numpy as np
import pytest

import neuroport
from neuroport import semantics
from neuroport.errors import CompileError, UnsupportedNodeError

T = 120


def _graph(node, n_in=6, seed=0, scale=1.5):
    """Input(n_in) -> Linear -> node, and the weights."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(node.output_type["output"]))
    w = rng.uniform(-0.3, scale, size=(n, n_in))
    g = nir.NIRGraph(nodes={"x": nir.Input(input_type={"input": np.array([n_in])}), "w": nir.Linear(weight=w),
                            "p": node, "y": nir.Output(output_type={"output": np.array([n])})},
                     edges=[("x", "w"), ("w", "p"), ("p", "y")], type_check=False)
    x = (rng.random((T, n_in)) < 0.4).astype(float)
    return g, w, x


def _lif(n=8, beta=0.9, thr=1.0, dt=1e-4):
    tau = dt / (1 - beta)
    return nir.LIF(tau=np.full(n, tau), r=np.full(n, tau / dt), v_leak=np.zeros(n), v_threshold=np.full(n, thr),
                   v_reset=np.zeros(n))


def _cuba(n=8, alpha=0.8, beta=0.9, thr=1.0, dt=1e-4):
    ts, tm = dt / (1 - alpha), dt / (1 - beta)
    return nir.CubaLIF(tau_syn=np.full(n, ts), tau_mem=np.full(n, tm), r=np.full(n, tm / dt),
                       w_in=np.full(n, ts / dt), v_leak=np.zeros(n), v_threshold=np.full(n, thr),
                       v_reset=np.zeros(n))


def _run(graph, x, backend="numpy", **kw):
    if backend != "numpy":
        from neuroport import backend as registry

        ok, why = registry.get(backend).available()
        if not ok:
            pytest.skip(why)
    program = neuroport.compile(graph, **kw)
    res = neuroport.run(program, backend=backend, steps=T, inputs={"x": x}, probes=[("p", "v")])
    return res.spikes["p"].to_dense(), res.states["p"]["v"], res


#: the deferred resets run on numpy's discrete step and on Brian2 (the continuous-time equations plus a
#: per-step rule, backends/brian2/lowering.py ``_deferred_rule``): both against the frameworks' loops
DEFERRED_BACKENDS = pytest.mark.parametrize("engine", ["numpy", "brian2"])


@DEFERRED_BACKENDS
def test_snntorch_subtract_is_undecayed(engine):
    """snnTorch Leaky, reset_mechanism='subtract': mem = beta mem + x - H(mem_prev - thr) thr."""
    g, w, x = _graph(_lif())
    mem, spk = np.zeros(8), np.zeros((T, 8), bool)
    vs = np.zeros((T, 8))
    for t in range(T):
        reset = mem > 1.0
        mem = 0.9 * mem + w @ x[t] - reset * 1.0
        spk[t], vs[t] = mem > 1.0, mem
    got, v, _ = _run(g, x, engine, dt=1e-4, reset="subtract_undecayed", timing="ideal")
    assert spk.sum() > 10
    np.testing.assert_array_equal(got, spk)
    np.testing.assert_allclose(v, vs, atol=1e-9)
    # NIR's subtract (decayed) differs on this input
    other, _, _ = _run(g, x, dt=1e-4, reset="subtract", timing="ideal")
    assert not np.array_equal(other, spk)


@DEFERRED_BACKENDS
def test_snntorch_synaptic_zero_holds(engine):
    """snnTorch Synaptic, reset 'zero': syn = alpha syn + x; mem = (beta mem + syn) (1 - H(mem_prev - thr))."""
    g, w, x = _graph(_cuba(), scale=0.8)
    syn, mem = np.zeros(8), np.zeros(8)
    spk = np.zeros((T, 8), bool)
    for t in range(T):
        reset = mem > 1.0
        syn = 0.8 * syn + w @ x[t]
        mem = (0.9 * mem + syn) * (1 - reset)
        spk[t] = mem > 1.0
    got, _, _ = _run(g, x, engine, dt=1e-4, reset="zero_hold", timing="ideal")
    assert spk.sum() > 10
    np.testing.assert_array_equal(got, spk)


@DEFERRED_BACKENDS
def test_snntorch_subtract_without_reset_delay(engine):
    """snnTorch Leaky(reset_mechanism='subtract', reset_delay=False)."""
    g, w, x = _graph(_lif(), scale=2.5)
    mem = np.zeros(8)
    spk = np.zeros((T, 8), bool)
    for t in range(T):
        reset = (mem > 1.0).astype(float)
        mem = 0.9 * mem + w @ x[t] - reset * 1.0
        s = (mem > 1.0).astype(float)
        mem = mem - (s - reset) * 1.0
        spk[t] = s > 0
    got, _, _ = _run(g, x, engine, dt=1e-4, reset="subtract_no_delay", timing="ideal")
    assert spk.sum() > 10
    np.testing.assert_array_equal(got, spk)


def test_multi_spike_jump_input_if():
    """Sinabs IAF: v += x; n = floor(v / thr) (v >= thr); v -= n thr."""
    node = nir.IF(r=np.ones(5), v_threshold=np.full(5, 0.5), v_reset=np.zeros(5))
    g, w, x = _graph(node, scale=2.0)
    semantics.annotate(g.nodes["p"], spikes="multi", threshold="ge", input="jump", reset="subtract")
    v = np.zeros(5)
    counts = np.zeros((T, 5))
    for t in range(T):
        v = v + w @ x[t]
        n = np.where(v >= 0.5, np.floor(v / 0.5), 0)
        v = v - n * 0.5
        counts[t] = n
    program = neuroport.compile(g, dt=1e-3, timing="ideal")
    res = neuroport.run(program, backend="numpy", steps=T, inputs={"x": x})
    got = np.zeros((T, 5))
    np.add.at(got, (res.spikes["p"].steps, res.spikes["p"].neurons), 1)
    assert counts.max() >= 2
    np.testing.assert_array_equal(got, counts)


def test_threshold_ge_fires_at_equality():
    node = _lif(n=1, beta=0.5)
    g = nir.NIRGraph(nodes={"x": nir.Input(input_type={"input": np.array([1])}),
                            "w": nir.Linear(weight=np.array([[1.0]])), "p": node,
                            "y": nir.Output(output_type={"output": np.array([1])})},
                     edges=[("x", "w"), ("w", "p"), ("p", "y")], type_check=False)
    x = np.zeros((T, 1))
    x[0] = 1.0  # v = exactly 1.0 = v_threshold at step 0
    gt, _, _ = _run(g, x, dt=1e-4, timing="ideal")
    ge, _, _ = _run(g, x, dt=1e-4, timing="ideal", semantics={"threshold": "ge"})
    assert not gt[0, 0] and ge[0, 0]


def test_norse_cuba_jump_after_membrane():
    """Norse LIFCell: v uses the previous current; the input jumps into the current afterwards."""
    dt, tm, ts = 1e-3, 0.01, 0.005
    node = nir.CubaLIF(tau_syn=np.full(4, ts), tau_mem=np.full(4, tm), r=np.ones(4), w_in=np.ones(4),
                       v_leak=np.zeros(4), v_threshold=np.full(4, 0.3), v_reset=np.zeros(4))
    g, w, x = _graph(node, scale=2.0)
    v, i = np.zeros(4), np.zeros(4)
    spk = np.zeros((T, 4), bool)
    for t in range(T):
        v = v + dt / tm * (0.0 - v + i)
        i = i - dt / ts * i
        z = v > 0.3
        v = np.where(z, 0.0, v)
        i = i + w @ x[t]
        spk[t] = z
    got, _, _ = _run(g, x, dt=dt, timing="ideal", semantics={"input": "jump_delayed"})
    assert spk.sum() > 5
    np.testing.assert_array_equal(got, spk)


def test_conventions_round_trip_through_a_file(tmp_path):
    g, w, x = _graph(_cuba(), scale=0.8)
    compiled = neuroport.compile(g, profile="snntorch", reset="zero")
    assert compiled.populations["p"].reset == "zero_hold"
    path = tmp_path / "annotated.nir"
    neuroport.write(path, compiled.graph, options=compiled.options)
    back = neuroport.read(path)
    assert semantics.recorded(back.nodes["p"]) == {"reset": "zero_hold"}
    again = neuroport.compile(back)  # dt and the conventions come from the file
    assert again.populations["p"].reset == "zero_hold" and again.dt == 1e-4
    a = neuroport.run(compiled, backend="numpy", steps=T, inputs={"x": x}).spikes["p"].to_dense()
    b = neuroport.run(again, backend="numpy", steps=T, inputs={"x": x}).spikes["p"].to_dense()
    np.testing.assert_array_equal(a, b)


def test_explicit_reset_overrides_node_metadata():
    g, _, _ = _graph(_lif())
    semantics.annotate(g.nodes["p"], reset="zero_hold")
    assert neuroport.compile(g, dt=1e-4).populations["p"].reset == "zero_hold"
    assert neuroport.compile(g, dt=1e-4, reset="subtract").populations["p"].reset == "subtract"


def test_bad_conventions_are_refused():
    g, _, _ = _graph(_lif())
    with pytest.raises(CompileError, match="threshold"):
        neuroport.compile(g, dt=1e-4, semantics={"threshold": "<"})
    semantics_bad = dict(g.nodes["p"].metadata or {}, **{"neuroport.reset": "bounce"})
    g.nodes["p"].metadata = semantics_bad
    with pytest.raises(CompileError, match="bounce"):
        neuroport.compile(g, dt=1e-4)


def test_fixed_point_runs_deferred_resets_bit_identical_on_lava():
    from neuroport import backend as registry

    ok, why = registry.get("lava-fixed").available()
    if not ok:
        pytest.skip(why)
    g, w, x = _graph(_cuba(), scale=0.8)
    program = neuroport.compile(g, profile="snntorch", reset="zero", timing="hardware")
    a = neuroport.run(program, backend="numpy-fixed", steps=40, inputs={"x": x[:40]}, probes=[("p", "v")])
    b = neuroport.run(program, backend="lava-fixed", steps=40, inputs={"x": x[:40]}, probes=[("p", "v")])
    assert a.spikes["p"].count > 0
    np.testing.assert_array_equal(a.states["p"]["v"], b.states["p"]["v"])


def test_multi_spike_refused_by_fixed_point_with_reason():
    node = nir.IF(r=np.ones(3), v_threshold=np.ones(3), v_reset=np.zeros(3))
    g, _, x = _graph(node)
    program = neuroport.compile(g, dt=1e-3, semantics={"spikes": "multi"})
    with pytest.raises(UnsupportedNodeError, match="one binary"):
        neuroport.quantize(program)


def test_brian2_refuses_discrete_only_conventions():
    from neuroport import backend as registry

    ok, why = registry.get("brian2").available()
    if not ok:
        pytest.skip(why)
    node = nir.IF(r=np.ones(3), v_threshold=np.ones(3), v_reset=np.zeros(3))
    g, _, x = _graph(node)
    program = neuroport.compile(g, dt=1e-3, semantics={"spikes": "multi"})
    with pytest.raises(UnsupportedNodeError, match="several spikes per step.*discrete-time convention"):
        neuroport.run(program, backend="brian2", steps=10, inputs={"x": x[:10]})
