"""Extension models (numpy float): refractoriness, adaptation, conductance-based LIF, depression.

Expected values come from closed-form solutions or hand iteration of the
continuous equations' Euler step, not from the engine.
"""

import numpy as np
import pytest

import neuroport
from neuroport.errors import ParameterError, UnsupportedNodeError


def _drive(model, weight, inputs, dt=1e-3, probes=("v",), **run):
    net = neuroport.Network()
    x = net.input(inputs.shape[1], name="x")
    y = net.population(1, model, name="y")
    net.connect(x, y, weight=weight)
    return neuroport.run(net, dt=dt, steps=inputs.shape[0], inputs=inputs, timing="ideal",
                         probes=[("y", p) for p in probes], **run)


def test_refractory_period_holds_v_for_its_steps():
    # IF-like drive: every step a big input; without refractoriness the neuron spikes every step
    model = neuroport.LIF(tau=0.01, v_threshold=0.5, refractory=3e-3)
    res = _drive(model, 100.0, np.ones((20, 1)))
    steps = res.spikes["y"].steps
    assert steps.tolist() == [0, 4, 8, 12, 16]  # spike, 3 held steps, spike...
    v = res.state("y")[:, 0]
    assert np.all(v[1:4] == 0.0)


def test_adaptive_threshold_lengthens_intervals():
    inputs = np.ones((300, 1))
    plain = _drive(neuroport.LIF(tau=0.02, v_threshold=1.0), 60.0, inputs)
    adaptive = _drive(neuroport.LIF(tau=0.02, v_threshold=1.0, tau_theta=0.1, theta_plus=0.3), 60.0, inputs)
    isi_plain = np.diff(plain.spikes["y"].steps)
    isi_adapt = np.diff(adaptive.spikes["y"].steps)
    assert np.all(isi_plain == isi_plain[0])  # regular without adaptation
    assert isi_adapt[-1] > isi_adapt[0] and isi_adapt[-1] > isi_plain[0]


def test_adaptive_threshold_by_hand():
    # constant suprathreshold drive; check theta trace against hand iteration
    dt, tau_theta, plus = 1e-3, 0.05, 0.2
    model = neuroport.LIF(tau=0.01, v_threshold=0.5, tau_theta=tau_theta, theta_plus=plus)
    res = _drive(model, 80.0, np.ones((60, 1)), probes=("v", "theta"))
    spikes = res.spikes["y"].to_dense()[:, 0]
    theta, v, expected_theta, expected_spikes = 0.0, 0.0, [], []
    for t in range(60):
        theta *= 1 - dt / tau_theta
        v = v * (1 - 0.1) + 0.1 * 80.0
        s = v > 0.5 + theta
        if s:
            v, theta = 0.0, theta + plus
        expected_theta.append(theta)
        expected_spikes.append(s)
    np.testing.assert_array_equal(spikes, expected_spikes)
    np.testing.assert_allclose(res.state("y", "theta")[:, 0], expected_theta, atol=1e-12)


def test_adaptation_current_reduces_rate():
    inputs = np.ones((1000, 1))
    plain = _drive(neuroport.LIF(tau=0.02, v_threshold=1.0), 60.0, inputs)
    adapt = _drive(neuroport.LIF(tau=0.02, v_threshold=1.0, tau_adapt=0.2, b_adapt=5.0), 60.0, inputs)
    assert adapt.spikes["y"].count < 0.7 * plain.spikes["y"].count


def test_conductance_lif_steady_state_matches_closed_form():
    # constant excitatory conductance g (every step a spike of weight w into a g with tau_e):
    # steady state g* = w / de, v* = (E_L + g* E_e) / (1 + g*) with no spiking (high threshold)
    dt, tau_e, w = 1e-4, 0.005, 0.01
    model = neuroport.CondLIF(tau_mem=0.02, e_leak=-60.0, e_exc=0.0, e_inh=-80.0, tau_exc=tau_e,
                              tau_inh=0.01, v_threshold=100.0, v_reset=-60.0)
    res = _drive(model, w, np.ones((20000, 1)), dt=dt, probes=("v", "g_exc"))
    g_star = w / (dt / tau_e)
    np.testing.assert_allclose(res.state("y", "g_exc")[-1, 0], g_star, rtol=1e-6)
    v_star = (-60.0 + g_star * 0.0) / (1 + g_star)
    np.testing.assert_allclose(res.state("y")[-1, 0], v_star, rtol=1e-4)


def test_conductance_inhibition_pulls_toward_e_inh():
    model = neuroport.CondLIF(tau_mem=0.02, e_leak=-60.0, e_inh=-80.0, v_threshold=0.0, v_reset=-60.0)
    res = _drive(model, -0.5, np.ones((2000, 1)), dt=1e-4)
    v = res.state("y")[:, 0]
    assert -80.0 < v[-1] < -70.0  # hyperpolarised between E_L and E_i
    assert res.spikes["y"].count == 0


def test_conductance_weights_split_by_sign():
    net = neuroport.Network()
    x = net.input(2, name="x")
    y = net.population(1, neuroport.CondLIF(), name="y")
    net.connect(x, y, weight=np.array([[0.3, -0.7]]))
    program = neuroport.compile(net.to_nir(), dt=1e-3)
    ports = {p.extra["port"]: p.weights.toarray() for p in program.projections}
    np.testing.assert_allclose(ports["exc"], [[0.3, 0.0]])
    np.testing.assert_allclose(ports["inh"], [[0.0, 0.7]])


def test_cuba_two_synapse_types():
    # separate inhibitory time constant: after one inhibitory spike the inhibitory current decays with tau_syn_inh
    model = neuroport.CubaLIF(tau_syn=0.005, tau_syn_inh=0.01, tau_mem=0.02, v_threshold=100.0)
    inputs = np.zeros((40, 2))
    inputs[0, 1] = 1
    res = _drive(model, np.array([[1.0, -1.0]]), inputs, probes=("u_inh",))
    u_inh = res.state("y", "u_inh")[:, 0]
    np.testing.assert_allclose(u_inh[1:] / u_inh[:-1], 1 - 1e-3 / 0.01, rtol=1e-12)


def test_depression_by_hand():
    dt, tau_rec, u_se, w = 1e-3, 0.1, 0.5, 10.0
    net = neuroport.Network()
    x = net.input(1, name="x")
    y = net.population(1, neuroport.IF(v_threshold=1e9, r=1.0), name="y")
    net.connect(x, y, weight=w, depression=(tau_rec, u_se))
    inputs = np.zeros((100, 1))
    spike_steps = [5, 10, 15, 60]
    inputs[spike_steps, 0] = 1
    res = neuroport.run(net, dt=dt, steps=100, inputs=inputs, timing="ideal", probes=[("y", "v")])
    jumps = np.diff(np.concatenate([[0.0], res.state("y")[:, 0]]))[spike_steps]
    x_res, expected = 1.0, []
    for t in range(100):
        x_res += (1 - x_res) * dt / tau_rec
        if t in spike_steps:
            expected.append(dt * w * u_se * x_res)  # IF gain dt * r
            x_res -= u_se * x_res
    np.testing.assert_allclose(jumps, expected, rtol=1e-12)
    assert jumps[1] < jumps[0] and jumps[3] > jumps[2]  # depresses, then recovers


def test_extension_nodes_round_trip(tmp_path):
    net = neuroport.Network()
    x = net.input(3, name="x")
    a = net.population(4, neuroport.LIF(tau=0.02, refractory=2e-3, tau_theta=0.1, theta_plus=0.1), name="a")
    b = net.population(2, neuroport.CondLIF(tau_adapt=0.1, b_adapt=0.02), name="b")
    net.connect(x, a, weight=2.0, depression=(0.2, 0.3))
    net.connect(a, b, weight=0.4)
    path = tmp_path / "ext.nir"
    neuroport.write(path, net)
    back = neuroport.Network.from_nir(neuroport.read(path))
    assert [type(n).__name__ for n in back.nodes.values()] == [type(n).__name__ for n in net.nodes.values()]
    for name, node in net.nodes.items():
        for field, value in vars(node).items():
            if field in ("input_type", "output_type", "metadata"):
                continue
            np.testing.assert_array_equal(np.asarray(getattr(back.nodes[name], field)), np.asarray(value))
    inputs = np.random.default_rng(0).random((200, 3)) < 0.3
    r1 = neuroport.run(net, dt=1e-3, steps=200, inputs=inputs.astype(float))
    r2 = neuroport.run(back, dt=1e-3, steps=200, inputs=inputs.astype(float))
    for pop in ("a", "b"):
        np.testing.assert_array_equal(r1.spikes[pop].to_dense(), r2.spikes[pop].to_dense())


def test_bad_extension_parameters():
    net = neuroport.Network()
    x = net.input(1)
    y = net.population(1, neuroport.LIF(refractory=1.5e-3), name="y")
    net.connect(x, y)
    with pytest.raises(ParameterError, match=r"y\.refractory.*whole number of steps"):
        neuroport.compile(net.to_nir(), dt=1e-3)
    net2 = neuroport.Network()
    x2 = net2.input(1)
    y2 = net2.population(1, neuroport.LIF(), name="y")
    with pytest.raises(ParameterError, match=r"u_se"):
        net2.connect(x2, y2, depression=(0.1, 1.5))
        neuroport.compile(net2.to_nir(), dt=1e-3)


def test_bias_into_conductance_neuron_is_refused():
    import nir

    from neuroport.nodes import CondLIF

    graph = nir.NIRGraph(
        nodes={"x": nir.Input(input_type={"input": np.array([1])}),
               "fc": nir.Affine(weight=np.array([[1.0]]), bias=np.array([0.5])),
               "y": CondLIF(tau_mem=0.02, e_leak=-60.0, e_exc=0.0, e_inh=-80.0, tau_exc=0.005,
                            tau_inh=0.01, v_threshold=-50.0, v_reset=-60.0)},
        edges=[("x", "fc"), ("fc", "y")], type_check=False)
    with pytest.raises(UnsupportedNodeError, match="Affine bias"):
        neuroport.compile(graph, dt=1e-3)


@pytest.mark.parametrize("tau_syn_inh", [0.0, 0.01])
def test_affine_bias_reaches_v_in_its_step_with_one_or_two_ports(tau_syn_inh):
    # Input -> Affine(w=1, b=1) -> AdaptiveLIF with a synaptic filter; no input spikes, so the
    # second (inhibitory) current is 0 and both variants must give the hand-computed trace:
    # u[t] = u[t-1](1 - du) + du*dv*r*b ; v[t] = v[t-1](1 - dv) + u[t]
    import nir

    from neuroport.nodes import AdaptiveLIF

    node = AdaptiveLIF(tau_mem=0.02, v_threshold=10.0, tau_syn=0.005, tau_syn_inh=tau_syn_inh)
    graph = nir.NIRGraph(nodes={"x": nir.Input(input_type={"input": np.array([1])}),
                                "fc": nir.Affine(weight=np.array([[1.0]]), bias=np.array([1.0])),
                                "y": node},
                         edges=[("x", "fc"), ("fc", "y")], type_check=False)
    res = neuroport.run(graph, dt=1e-3, steps=3, inputs=np.zeros((3, 1)), probes=[("y", "v")])
    du, dv = 0.2, 0.05
    u = v = 0.0
    expected = []
    for _ in range(3):
        u = u * (1 - du) + du * dv * 1.0
        v = v * (1 - dv) + u
        expected.append(v)
    np.testing.assert_allclose(res.state("y")[:, 0], expected, rtol=1e-12)
