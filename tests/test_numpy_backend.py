"""The numpy engine against a plain dense reference loop written here, step by step."""

import numpy as np
import pytest

import neuroport
from neuroport.backends.base import Result
from neuroport.errors import InputError
from neuroport.testing.cases import canonical_cases


def reference_run(program, inputs, steps):
    """Straightforward dense simulation of a float Program (docs/semantics.md), independent of the engine."""
    pops = program.populations
    u = {n: np.zeros(p.size) for n, p in pops.items()}
    v = {n: np.zeros(p.size) for n, p in pops.items()}
    ref = {n: np.zeros(p.size, dtype=int) for n, p in pops.items()}
    history = {n: np.zeros((steps, p.size)) for n, p in pops.items()}
    vs = {n: np.zeros((steps, p.size)) for n, p in pops.items()}
    for t in range(steps):
        for name, pop in pops.items():
            if pop.is_input:
                history[name][t] = inputs[name][t]
                continue
            a_in = np.zeros(pop.size)
            for proj in program.projections:
                if proj.post != name:
                    continue
                csr = proj.weights
                rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
                for k in range(csr.nnz):
                    d = proj.delays[k]
                    if t - d >= 0:
                        a_in[rows[k]] += csr.data[k] * history[proj.pre][t - d, csr.indices[k]]
            p = pop.params
            u[name] = u[name] * (1 - p["du"]) + a_in + p["u_bias"]
            active = ref[name] <= 0
            new_v = v[name] * (1 - p["dv"]) + u[name] + p["bias"]
            v[name] = np.where(active, new_v, v[name])
            ref[name] = np.where(active, ref[name], ref[name] - 1)
            if pop.emits == "spikes":
                s = v[name] > p["v_threshold"]
                if pop.extra.get("reset") == "subtract":
                    v[name] = np.where(s, v[name] - p["v_threshold"], v[name])
                else:
                    v[name] = np.where(s, 0.0, v[name])
                ref[name] = np.where(s, p["refractory"], ref[name])
                history[name][t] = s
            else:
                history[name][t] = v[name] + pop.v_offset
            vs[name][t] = v[name] + pop.v_offset
    return history, vs


@pytest.mark.parametrize("timing", ["ideal", "hardware"])
@pytest.mark.parametrize("case", canonical_cases(), ids=lambda c: c.name)
def test_engine_matches_dense_reference(case, timing):
    steps = 120
    program = neuroport.compile(case.graph, dt=case.dt, timing=timing)
    probes = [(p, "v") for p in case.populations]
    result = neuroport.run(program, steps=steps, inputs=case.inputs, probes=probes)
    spikes_ref, v_ref = reference_run(program, {k: v[:steps] for k, v in case.inputs.items()}, steps)
    for pop in case.populations:
        np.testing.assert_array_equal(result.spikes[pop].to_dense(), spikes_ref[pop].astype(bool), err_msg=pop)
        np.testing.assert_allclose(result.state(pop, "v"), v_ref[pop], rtol=1e-12, atol=1e-12)
        assert result.spikes[pop].count > 0, f"{pop} is silent: the case tests nothing"


def test_subtract_reset_and_graded_input():
    net = neuroport.Network()
    x = net.input(1, name="x")
    y = net.population(1, neuroport.IF(v_threshold=1.0), name="y")
    net.connect(x, y, weight=1000.0)  # dt * r * w = 1 per unit input
    inputs = np.full((6, 1), 0.6)
    res = neuroport.run(net, dt=1e-3, steps=6, inputs=inputs, reset="subtract", timing="ideal",
                        probes=[("y", "v")])
    # v: 0.6, 1.2->0.2 (spike), 0.8, 1.4->0.4 (spike), 1.0, 1.6->0.6 (spike)
    np.testing.assert_allclose(res.state("y")[:, 0], [0.6, 0.2, 0.8, 0.4, 1.0, 0.6], atol=1e-12)
    assert res.spikes["y"].steps.tolist() == [1, 3, 5]


def test_leaky_integrator_emits_its_state():
    net = neuroport.Network()
    x = net.input(1, name="x")
    li = net.population(1, neuroport.LI(tau=0.01), name="li")
    y = net.population(1, neuroport.IF(v_threshold=10.0), name="y")
    net.connect(x, li, weight=1.0)
    net.connect(li, y, weight=1000.0)
    res = neuroport.run(net, dt=1e-3, steps=3, inputs=np.ones((3, 1)), timing="ideal",
                        probes=[("li", "v"), ("y", "v")])
    li_v = res.state("li")[:, 0]
    np.testing.assert_allclose(li_v, [0.1, 0.19, 0.271])
    np.testing.assert_allclose(res.state("y")[:, 0], np.cumsum(li_v))


def test_input_errors():
    net = neuroport.Network()
    x = net.input(3, name="x")
    y = net.population(1, neuroport.LIF(), name="y")
    net.connect(x, y)
    with pytest.raises(InputError, match=r"expected an array of shape \(steps>=10, 3\), got \(10, 2\)"):
        neuroport.run(net, dt=1e-3, steps=10, inputs=np.zeros((10, 2)))
    with pytest.raises(InputError, match="unknown input"):
        neuroport.run(net, dt=1e-3, steps=10, inputs={"z": np.zeros((10, 3))})
    with pytest.raises(InputError, match="NaN"):
        neuroport.run(net, dt=1e-3, steps=2, inputs=np.full((2, 3), np.nan))
    with pytest.raises(InputError, match="steps"):
        neuroport.run(net, dt=1e-3, steps=0)
    with pytest.raises(InputError, match=r"probe y\.w"):
        neuroport.run(net, dt=1e-3, steps=2, probes=[("y", "w")])


def test_result_npz_round_trip(tmp_path):
    case = canonical_cases()[0]
    res = neuroport.run(case.graph, dt=case.dt, steps=50, inputs=case.inputs, probes=[("lif", "v")])
    res.save_npz(tmp_path / "r.npz")
    back = Result.load_npz(tmp_path / "r.npz")
    assert back.backend == "numpy" and back.num_steps == 50 and back.dt == case.dt
    for pop, train in res.spikes.items():
        np.testing.assert_array_equal(back.spikes[pop].to_dense(), train.to_dense())
    np.testing.assert_array_equal(back.state("lif"), res.state("lif"))


def test_program_is_not_mutated_by_a_run():
    case = canonical_cases()[2]
    program = neuroport.compile(case.graph, dt=case.dt)
    before = {n: {k: np.array(v, copy=True) for k, v in p.params.items()} for n, p in program.populations.items()}
    w_before = [p.weights.data.copy() for p in program.projections]
    neuroport.run(program, steps=50, inputs=case.inputs)
    for n, p in program.populations.items():
        for k, v in p.params.items():
            np.testing.assert_array_equal(v, before[n][k])
    for p, w in zip(program.projections, w_before):
        np.testing.assert_array_equal(p.weights.data, w)
