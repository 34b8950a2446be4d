"""Fixed-point AdaptiveLIF, CondLIF, refractory / subtractive reset and depression.

Each model is checked against an independent integer reference written here
(plain Python ints, per neuron, following ``docs/fixed_point.md`` and not
calling ``neuroport.models.fixed``), plus float-vs-fixed fidelity bounds,
strict-mode errors and range properties of every emitted integer.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import neuroport
from neuroport.backends.numpy_fixed import NumpyFixedBackend
from neuroport.errors import QuantizationError, QuantizationWarning
from neuroport.hardware import LOIHI2
from neuroport.nodes import AdaptiveLIF
from neuroport.program import Population, Program, Projection
from neuroport.quantize import fidelity, quantize

M = 2 ** 23


# ------------------------------------------------------------------ independent integer reference
def tz(x: int) -> int:
    """x / 4096 rounded toward zero."""
    return -((-x) >> 12) if x < 0 else x >> 12


def K(x: int, d: int, o: int = 0) -> int:
    return tz(x * (4096 - d - o))


def wrap(x: int) -> int:
    y = x - 2 * M if x > M else x
    return x + 2 * M if y <= -M else y


def sat(x: int) -> int:
    return max(-(M - 1), min(M - 1, x))


def wrap32(x: int) -> int:
    """x as a signed 32-bit word (two's complement)."""
    return ((x + 2 ** 31) % 2 ** 32) - 2 ** 31


#: (projection, step, post) of every Dense output :func:`ref_inputs` wrapped (tests check it happened)
WRAPPED = []


def ref_inputs(program, spikes_of, t):
    """``{(post, port): [int]}``: Dense outputs at step ``t``.

    As Lava's lowering and Dense / DelayDense: a synapse repeating a (post, pre) pair goes to a
    further layer (its own Dense); each layer floors its sum per delay, and sends its per-step output
    through an int32 channel (wrapped); the receiving port adds the channels (int64 in neuroport's
    processes, which are all this reference runs)."""
    out = {}
    for proj in program.projections:
        post = program.populations[proj.post]
        key = (proj.post, proj.extra.get("port", "input"))
        acc = out.setdefault(key, [0] * post.size)
        delays = proj.delays
        csr = proj.weights
        rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
        exp = int(proj.extra.get("weight_exp", 0))
        seen, layer = {}, []
        for k in range(csr.nnz):
            pair = (int(rows[k]), int(csr.indices[k]))
            layer.append(seen.get(pair, 0))
            seen[pair] = layer[-1] + 1
        sums = {}
        for k in range(csr.nnz):
            d = int(delays[k])
            if t - d < 0:
                continue
            j, i = int(csr.indices[k]), int(rows[k])
            pay = spikes_of(proj, t - d, j)
            if pay:
                sums[(layer[k], d, i)] = sums.get((layer[k], d, i), 0) + int(csr.data[k]) * pay
        sent = {}
        for (lay, d, i), total in sums.items():
            sent[(lay, i)] = sent.get((lay, i), 0) + (total << exp if exp > 0 else total >> -exp)
        for (lay, i), total in sent.items():
            if wrap32(total) != total:
                WRAPPED.append((proj.name, t, i))
            acc[i] += wrap32(total)
    return out


def run_reference(program, inputs, steps):
    """Spikes and states of every population, by the algorithms of docs/fixed_point.md."""
    pops = program.populations
    spikes = {n: np.zeros((steps, p.size), dtype=bool) for n, p in pops.items()}
    payload = {}  # (projection, step, pre) -> graded payload (depression)
    x = {}
    for proj in program.projections:
        dep = proj.extra.get("depression")
        if dep is not None:
            x[proj.name] = [1 << dep["bits"]] * pops[proj.pre].size
    states = {}
    for n, p in pops.items():
        if p.is_input:
            continue
        P = {k: [int(v) for v in np.broadcast_to(np.asarray(val), (p.size,))] for k, val in p.params.items()}
        if p.model == "condlif":
            s = {"g_exc": P["g_exc_init"][:], "g_inh": P["g_inh_init"][:], "g_adapt": [0] * p.size}
        else:
            s = {"u": [0] * p.size, "u_inh": [0] * p.size, "w": [0] * p.size}
        s.update({"theta": P.get("theta_init", [0] * p.size)[:], "v": P.get("v_init", [0] * p.size)[:],
                  "ref": [0] * p.size})
        states[n] = (P, s)
    trace = {n: {k: np.zeros((steps, pops[n].size), dtype=np.int64) for k in st_[1]} for n, st_ in states.items()}

    def spikes_of(proj, t, j):
        if proj.name in x:
            return payload.get((proj.name, t, j), 0)
        return int(spikes[proj.pre][t, j])

    for t in range(steps):
        for proj in program.projections:  # depression: recover
            if proj.name in x:
                dep = proj.extra["depression"]
                X, b = 1 << dep["bits"], dep["bits"]
                xs = x[proj.name]
                for j in range(len(xs)):
                    xs[j] = X - (((X - xs[j]) * (X - int(dep["recover"][j]))) >> b)
        a = ref_inputs(program, spikes_of, t)
        for n, p in pops.items():
            if p.is_input:
                spikes[n][t] = inputs[n][t] != 0
            else:
                P, s = states[n]
                two = tuple(p.extra.get("ports", ("input",))) == ("exc", "inh")
                for i in range(p.size):
                    if p.model == "condlif":
                        ae, ai = a.get((n, "exc"), [0] * p.size)[i], a.get((n, "inh"), [0] * p.size)[i]
                        s["g_exc"][i] = sat(K(s["g_exc"][i], P["de"][i]) + (ae << 6))
                        s["g_inh"][i] = sat(K(s["g_inh"][i], P["di"][i]) + (ai << 6))
                        s["g_adapt"][i] = K(s["g_adapt"][i], P["da"][i])
                    else:
                        ae = a.get((n, "exc" if two else "input"), [0] * p.size)[i]
                        ub = P.get("u_bias_mant", [0] * p.size)[i] << P.get("u_bias_exp", [0] * p.size)[i]
                        s["u"][i] = wrap(K(s["u"][i], P["du"][i], 1) + (ae << 6) + ub)
                        if two:
                            ai = a.get((n, "inh"), [0] * p.size)[i]
                            s["u_inh"][i] = wrap(K(s["u_inh"][i], P["du_inh"][i], 1) + (ai << 6))
                        s["w"][i] = K(s["w"][i], P.get("w_decay", [0] * p.size)[i])
                    s["theta"][i] = K(s["theta"][i], P.get("theta_decay", [0] * p.size)[i])
                    active = s["ref"][i] == 0
                    if not active:
                        s["ref"][i] -= 1
                    if active:
                        v = s["v"][i]
                        if p.model == "condlif":
                            f = P["g_shift"][i]
                            acc = (s["g_exc"][i] * (P["e_exc"][i] - v) + s["g_inh"][i] * (P["e_inh"][i] - v)
                                   + s["g_adapt"][i] * (P["e_adapt"][i] - v))
                            drive = (acc + (1 << (f - 1) if f else 0)) >> f
                        else:
                            drive = s["u"][i] - s["u_inh"][i] - s["w"][i]
                        s["v"][i] = sat(K(v, P["dv"][i]) + drive + (P["bias_mant"][i] << P["bias_exp"][i]))
                    thr = (P["vth"][i] << 6) + s["theta"][i]
                    if active and s["v"][i] > thr:  # refractory neurons never spike
                        spikes[n][t, i] = True
                        s["v"][i] = sat(s["v"][i] - thr) if p.extra.get("reset") == "subtract" else 0
                        s["ref"][i] = P["refractory"][i]
                        s["theta"][i] = sat(s["theta"][i] + P.get("theta_plus", [0] * p.size)[i])
                        if p.model == "condlif":
                            s["g_adapt"][i] = sat(s["g_adapt"][i] + P["b_adapt"][i])
                        else:
                            s["w"][i] = sat(s["w"][i] + P.get("w_plus", [0] * p.size)[i])
                for k in trace[n]:
                    trace[n][k][t] = s[k]
            for proj in program.outgoing(n):  # depression: release
                if proj.name in x:
                    dep = proj.extra["depression"]
                    xs = x[proj.name]
                    for j in np.flatnonzero(spikes[n][t]):
                        r = (int(dep["u_se"][j]) * xs[j]) >> dep["bits"]
                        xs[j] -= r
                        payload[(proj.name, t, j)] = r
    return spikes, trace


def _quantized(graph, dt=1e-3, **kw):
    prog = neuroport.compile(graph, dt=dt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        return prog, quantize(prog, **kw)[0]


def _poisson(n, steps, rate, seed):
    return (np.random.default_rng(seed).random((steps, n)) < rate).astype(float)


def _alif_net(subtract=False, depression=None, gain=1.0):
    net = neuroport.Network()
    x = net.input(6, name="x")
    a = net.population(5, neuroport.CubaLIF(tau_syn=0.005, tau_syn_inh=0.01, tau_mem=0.02, v_threshold=1.0,
                                            v_leak=0.1, refractory=0.003, tau_theta=0.05, theta_plus=0.2,
                                            theta_init=0.05, tau_adapt=0.1, b_adapt=0.3,
                                            v_init=np.linspace(-0.2, 0.5, 5)), name="a")
    rng = np.random.default_rng(1)
    net.connect(x, a, weight=gain * rng.normal(2.0, 2.0, (5, 6)), depression=depression)
    net.connect(a, a, weight=-1.0, p=0.5, seed=3, allow_self=False, delay=0.002)
    return net


def _cond_net():
    net = neuroport.Network()
    x = net.input(6, name="x")
    c = net.population(4, neuroport.CondLIF(refractory=0.002, tau_theta=0.03, theta_plus=1.0, tau_adapt=0.05,
                                            b_adapt=0.2, v_init=np.array([-65.0, -55.0, -60.0, -52.0]),
                                            g_exc_init=np.array([0.5, -0.2, 0.0, 1.0]),
                                            g_inh_init=np.array([0.0, 2.0, -0.5, 0.0])), name="c")
    rng = np.random.default_rng(2)
    w = np.where(rng.random((4, 6)) < 0.7, rng.uniform(0.2, 1.5, (4, 6)), 0.0)
    w[:, 4:] *= -4
    net.connect(x, c, weight=w)
    net.connect(c, c, weight=-2.0, p=0.6, seed=4, allow_self=False)
    return net


def _check_against_reference(fixed, inputs, steps):
    probes = [(n, v) for n, p in fixed.populations.items() if not p.is_input
              for v in (("g_exc", "g_inh", "g_adapt", "theta", "v") if p.model == "condlif"
                        else ("u", "u_inh", "w", "theta", "v"))
              if v in NumpyFixedBackend().make_engine(fixed).prepare_population(p)[1]]
    got = NumpyFixedBackend().run(fixed, steps=steps, inputs=inputs, probes=probes)
    spikes, trace = run_reference(fixed, inputs, steps)
    for n, p in fixed.populations.items():
        assert np.array_equal(got.spikes[n].to_dense(), spikes[n]), n
    for n, var in probes:
        assert np.array_equal(got.states[n][var], trace[n][var]), (n, var)
    return got, spikes


# ------------------------------------------------------------------ bit-exact against the reference
def test_alif_matches_integer_reference():
    prog, fixed = _quantized(_alif_net().to_nir())
    assert fixed.populations["a"].model == "alif" and fixed.populations["a"].extra["ports"] == ("exc", "inh")
    steps = 120
    inputs = {"x": _poisson(6, steps, 0.3, 0)}
    got, spikes = _check_against_reference(fixed, inputs, steps)
    assert spikes["a"].sum() > 10


def test_alif_subtract_reset_matches_reference():
    g = _alif_net().to_nir()
    prog = neuroport.compile(g, dt=1e-3, reset="subtract")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        fixed = quantize(prog)[0]
    inputs = {"x": _poisson(6, 100, 0.3, 5)}
    _, spikes = _check_against_reference(fixed, inputs, 100)
    assert spikes["a"].sum() > 10


def test_condlif_matches_integer_reference():
    prog, fixed = _quantized(_cond_net().to_nir())
    pop = fixed.populations["c"]
    assert pop.params["g_shift"][0] == 21 and pop.params["g_inh_init"][2] < 0
    steps = 150
    inputs = {"x": _poisson(6, steps, 0.3, 1)}
    _, spikes = _check_against_reference(fixed, inputs, steps)
    assert spikes["c"].sum() > 10


def _with_exp(fixed, exps: dict):
    """``fixed`` with the ``weight_exp`` of the projections named in ``exps`` replaced (a hand-made fixed
    Program whose Dense outputs leave int32 with a few inputs; the quantizer never goes above 7)."""
    projs = tuple(dataclasses.replace(p, extra={**dict(p.extra), "weight_exp": exps[p.name]}) if p.name in exps
                  else p for p in fixed.projections)
    return fixed.replace(projections=projs)


def _repeat_synapses(proj, every: int = 3):
    """``proj`` with a second copy of every ``every``-th synapse (delay + 1): a repeated (post, pre) pair."""
    w = proj.weights
    rows = np.repeat(np.arange(w.shape[0]), np.diff(w.indptr))
    pick = np.arange(0, w.nnz, every)
    r = np.r_[rows, rows[pick]]
    c = np.r_[w.indices, w.indices[pick]]
    data = np.r_[w.data, w.data[pick]]
    d = np.r_[proj.delays, proj.delays[pick] + 1]
    order = np.argsort(r, kind="stable")  # CSR order: by row, the copies after the originals
    indptr = np.r_[0, np.cumsum(np.bincount(r, minlength=w.shape[0]))]
    csr = sp.csr_matrix((data[order], c[order], indptr), shape=w.shape)
    return dataclasses.replace(proj, weights=csr, delays=d[order])


def _wrapping_program():
    """ALIF (two ports, a delayed recurrent projection) and CondLIF fed by 40 inputs, with weight_exp
    raised on the input projections so that one step's Dense output leaves int32."""
    net = neuroport.Network()
    x = net.input(40, name="x")
    a = net.population(3, neuroport.CubaLIF(tau_syn=0.005, tau_syn_inh=0.01, tau_mem=0.02, v_threshold=1.0,
                                            refractory=0.002), name="a")
    c = net.population(3, neuroport.CondLIF(refractory=0.002), name="c")
    rng = np.random.default_rng(3)
    net.connect(x, a, weight=rng.uniform(-1.0, 2.0, (3, 40)))
    net.connect(a, a, weight=-0.5, p=1.0, allow_self=False, delay=0.002)
    net.connect(x, c, weight=np.where(rng.random((3, 40)) < 0.8, rng.uniform(0.5, 1.0, (3, 40)), -2.0))
    _, fixed = _quantized(net.to_nir())
    names = {p.name: p for p in fixed.projections}
    big = {n: 22 for n in names if names[n].pre == "x"}
    assert len(big) == 4  # x->a and x->c, each split into its exc and inh part
    fixed = _with_exp(fixed, big)
    rep = [p for p in fixed.projections if p.pre == "x" and p.post == "a" and p.port == "exc"][0]
    return fixed.replace(projections=tuple(_repeat_synapses(p) if p is rep else p for p in fixed.projections))


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_each_projection_into_alif_and_condlif_wraps_at_32_bits(engine):
    """Lava's Dense sends each projection's output through an int32 channel and neuroport's ALIF / CondLIF
    add their channels in int64: numpy-fixed wraps every projection (every layer of repeated synapses) on its
    own, as the reference does; without that u, g and the spikes differ."""
    fixed = _wrapping_program()
    steps = 40
    rates = np.where(np.arange(steps) % 3 == 0, 0.95, 0.4)[:, None]
    inputs = {"x": (np.random.default_rng(8).random((steps, 40)) < rates).astype(float)}
    WRAPPED.clear()
    spikes, trace = run_reference(fixed, inputs, steps)
    wrapped = {name for name, _, _ in WRAPPED}
    assert {p.name for p in fixed.projections if p.pre == "x"} <= wrapped  # every input projection wrapped
    probes = [("a", "u"), ("a", "u_inh"), ("a", "v"), ("c", "g_exc"), ("c", "g_inh"), ("c", "v")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        got = NumpyFixedBackend().run(fixed, steps=steps, inputs=inputs, probes=probes, engine=engine)
    for n in ("a", "c"):
        assert np.array_equal(got.spikes[n].to_dense(), spikes[n]), n
    for n, var in probes:
        assert np.array_equal(got.states[n][var], trace[n][var]), (n, var)
    assert spikes["a"].any() and spikes["c"].any()


def test_lif_refractory_and_u_bias_match_reference():
    net = neuroport.Network()
    x = net.input(4, name="x")
    lif = net.population(3, neuroport.LIF(tau=0.01, v_threshold=0.5, refractory=0.004), name="l")
    net.connect(x, lif, weight=np.full((3, 4), 1.5))
    prog, fixed = _quantized(net.to_nir())
    inputs = {"x": _poisson(4, 80, 0.4, 2)}
    _, spikes = _check_against_reference(fixed, inputs, 80)
    isi = np.diff(np.flatnonzero(spikes[fixed.populations["l"].name][:, 0]))
    assert spikes["l"].sum() > 3 and isi.min() > 4


def test_depression_matches_reference_and_float():
    net = neuroport.Network()
    x = net.input(6, name="x")
    a = net.population(5, neuroport.LIF(tau=0.02, v_threshold=1.0), name="a")
    net.connect(x, a, weight=np.random.default_rng(5).uniform(20.0, 40.0, (5, 6)), depression=(0.05, 0.3))
    prog, fixed = _quantized(net.to_nir())
    deps = [p for p in fixed.projections if p.extra.get("depression") is not None]
    assert deps and all(p.extra["depression"]["bits"] == 16 for p in deps)
    steps = 100
    inputs = {"x": _poisson(6, steps, 0.4, 3)}
    _check_against_reference(fixed, inputs, steps)
    rep = fidelity(prog, 1000, {"x": _poisson(6, 1000, 0.1, 4)}, fixed_program=fixed)
    row = rep.rows["a"]
    assert row["spikes_float"] > 50 and row["match_rate"] > 0.9 and row["rate_error"] < 0.03, rep.to_table()


# ------------------------------------------------------------------ Lava's weight clipping (issue)
def _one_synapse(weight, sign_mode):
    x = Population("x", 1, "input", {}, "state", np.zeros(1), (1,))
    lif = Population("lif", 1, "lif", {"du": np.array([4095]), "dv": np.array([0]), "vth": np.array([100000]),
                                       "bias_mant": np.array([0]), "bias_exp": np.array([0]),
                                       "refractory": np.array([0])}, "spikes", np.zeros(1), (1,),
                     {"reset": "zero", "scale": 1.0})
    import scipy.sparse as sp

    proj = Projection("x->lif", "x", "lif", sp.csr_matrix(np.array([[weight]], dtype=np.int64)), np.array([1]),
                      {"weight_exp": 0, "num_weight_bits": 8, "sign_mode": sign_mode})
    return Program({"x": x, "lif": lif}, (proj,), ("x",), {}, (("lif", "u"),), {"dt": 1e-3, "timing": "hardware"},
                   "fixed", None)


@pytest.mark.parametrize("weight,mode,u1", [(300, "EXCITATORY", 16320), (3, "MIXED", 128),
                                             (-300, "INHIBITORY", -16320), (-3, "INHIBITORY", -192),
                                             (-5, "EXCITATORY", 0)])
def test_weights_clipped_and_truncated_like_lava(weight, mode, u1):
    prog = _one_synapse(weight, mode)
    r = NumpyFixedBackend().run(prog, steps=3, inputs={"x": np.array([[1.0], [0.0], [0.0]])})
    assert int(r.states["lif"]["u"][1, 0]) == u1


# ------------------------------------------------------------------ fidelity float vs fixed
def test_fidelity_alif_and_condlif():
    for net, name, bound in ((_alif_net(), "a", 0.9), (_cond_net(), "c", 0.9)):
        prog = neuroport.compile(net.to_nir(), dt=1e-3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", QuantizationWarning)
            rep = fidelity(prog, 1000, {"x": _poisson(6, 1000, 0.2, 7)})
        row = rep.rows[name]
        assert row["spikes_float"] > 50, rep.to_table()
        assert row["match_rate"] >= bound and row["rate_error"] < 0.03, rep.to_table()


def test_coba_rate_within_15_percent():
    from neuroport.backends.numpy import NumpyBackend
    from neuroport.models.networks.benchmarks import coba_network

    prog = neuroport.compile(coba_network(n_neurons=1000, p=0.08).to_nir(), dt=1e-4)
    fixed, rep = quantize(prog, strict=True)
    steps = 3000
    fl = NumpyBackend().run(prog, steps=steps, progress=False)
    fx = NumpyFixedBackend().run(fixed, steps=steps, progress=False)
    for n in ("exc", "inh"):
        ra, rb = fl.spikes[n].rate_hz(1e-4), fx.spikes[n].rate_hz(1e-4)
        assert ra > 5 and abs(rb - ra) / ra < 0.15, (n, ra, rb)


# ------------------------------------------------------------------ strict mode
def test_strict_errors_name_population_field_range_value():
    net = neuroport.Network()
    x = net.input(2, name="x")
    a = net.population(2, neuroport.LIF(tau_theta=0.1, theta_plus=100.0), name="a")
    net.connect(x, a, weight=0.5)
    prog = neuroport.compile(net.to_nir(), dt=1e-3)
    with pytest.raises(QuantizationError, match=r"a\.theta_plus.*\[-8388607, 8388607\].*first: 100 "):
        quantize(prog, strict=True, scales={"a": 1e6})
    net = neuroport.Network()
    x = net.input(2, name="x")
    c = net.population(2, neuroport.CondLIF(tau_adapt=1000.0, b_adapt=0.3), name="c")
    net.connect(x, c, weight=0.5)
    with pytest.raises(QuantizationError, match=r"c\.da.*rounded to 0"):
        quantize(neuroport.compile(net.to_nir(), dt=1e-4), strict=True)
    net = neuroport.Network()
    x = net.input(2, name="x")
    lif = net.population(2, neuroport.LIF(refractory=5.0), name="l")
    net.connect(x, lif, weight=0.5, depression=(1e5, 0.5))
    with pytest.raises(QuantizationError, match=r"l\.refractory.*\[0, 4095\].*5000"):
        quantize(neuroport.compile(net.to_nir(), dt=1e-3), strict=True)
    net = neuroport.Network()
    x = net.input(2, name="x")
    lif = net.population(2, neuroport.LIF(), name="l")
    net.connect(x, lif, weight=0.5, depression=(1e5, 0.5))
    with pytest.raises(QuantizationError, match=r"depression\.recover.*rounded to 0"):
        quantize(neuroport.compile(net.to_nir(), dt=1e-3), strict=True)


def test_report_rows_for_new_fields():
    _, rep = quantize(neuroport.compile(_cond_net().to_nir(), dt=1e-3))
    for field in ("de", "di", "da", "e_exc", "e_inh", "b_adapt", "g_exc_init",
                  "g_inh_init", "refractory", "theta_plus", "v_init"):
        e = rep.entry("c", field)
        assert e.bits >= 0 and e.count == 4 and e.clipped == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        _, rep = quantize(neuroport.compile(_alif_net().to_nir(), dt=1e-3))
    for field in ("du_inh", "theta_decay", "w_decay", "w_plus", "theta_init", "u_bias"):
        rep.entry("a", field)


# ------------------------------------------------------------------ properties: every integer in range
RANGES = {
    "du": LOIHI2.decay_range, "du_inh": LOIHI2.decay_range, "dv": LOIHI2.decay_range,
    "de": LOIHI2.decay_range, "di": LOIHI2.decay_range, "da": LOIHI2.decay_range,
    "theta_decay": LOIHI2.decay_range, "w_decay": LOIHI2.decay_range, "vth": LOIHI2.vth_range,
    "bias_mant": LOIHI2.bias_mant_range, "u_bias_mant": LOIHI2.bias_mant_range,
    "bias_exp": LOIHI2.bias_exp_range, "u_bias_exp": LOIHI2.bias_exp_range,
    "refractory": LOIHI2.refractory_range, "g_shift": (0, LOIHI2.cond_frac_bits_max),
    **{k: LOIHI2.state_range for k in ("theta_plus", "w_plus", "v_init", "theta_init", "e_exc", "e_inh",
                                        "e_adapt", "b_adapt", "g_exc_init", "g_inh_init")},
}


def _assert_in_range(fixed):
    for pop in fixed.populations.values():
        if pop.is_input:
            continue
        for k, v in pop.params.items():
            lo, hi = RANGES[k]
            assert v.dtype.kind == "i" and lo <= v.min() and v.max() <= hi, (pop.name, k, v.min(), v.max())
    for proj in fixed.projections:
        lo, hi = LOIHI2.weight_range(proj.extra["sign_mode"])
        d = proj.weights.data
        assert d.size == 0 or (lo <= d.min() and d.max() <= hi)
        dep = proj.extra.get("depression")
        if dep is not None:
            for k in ("recover", "u_se"):
                assert 0 <= dep[k].min() and dep[k].max() <= 1 << dep["bits"]


@settings(max_examples=25, deadline=None)
@given(theta_plus=st.floats(-50, 50), b=st.floats(-5, 5), v0=st.floats(-100, 100), tau=st.floats(1e-3, 10),
       ref=st.integers(0, 6000), scale=st.floats(1.0, 1e9), w=st.floats(-100, 100))
def test_alif_integers_in_range(theta_plus, b, v0, tau, ref, scale, w):
    net = neuroport.Network()
    x = net.input(2, name="x")
    a = net.population(2, neuroport.CubaLIF(tau_syn=0.002, tau_syn_inh=0.004, theta_plus=theta_plus,
                                            tau_theta=tau, tau_adapt=tau, b_adapt=b, v_init=v0, theta_init=-v0,
                                            refractory=ref * 1e-3), name="a")
    net.connect(x, a, weight=np.array([[w, -w], [w / 2, 1.0]]), depression=(tau, 0.5))
    prog = neuroport.compile(net.to_nir(), dt=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        fixed, _ = quantize(prog, scales={"a": scale})
    _assert_in_range(fixed)


@settings(max_examples=25, deadline=None)
@given(e=st.floats(-500, 500), g0=st.floats(-1e4, 1e4), b=st.floats(-100, 100), w=st.floats(0.0, 1e3),
       tau=st.floats(1e-3, 1.0), scale=st.one_of(st.none(), st.floats(1.0, 1e9)))
def test_condlif_integers_in_range(e, g0, b, w, tau, scale):
    net = neuroport.Network()
    x = net.input(2, name="x")
    c = net.population(2, neuroport.CondLIF(e_exc=e, e_inh=-e, e_adapt=e / 2, g_exc_init=g0, g_inh_init=-g0,
                                            tau_adapt=tau, b_adapt=b, tau_exc=max(tau, 1e-3),
                                            tau_inh=max(tau, 1e-3)), name="c")
    net.connect(x, c, weight=np.array([[w, -w], [1.0, 0.0]]))
    prog = neuroport.compile(net.to_nir(), dt=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        fixed, _ = quantize(prog, scales={"c": scale} if scale else None)
    _assert_in_range(fixed)
