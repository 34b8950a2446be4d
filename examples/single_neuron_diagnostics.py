"""Single-neuron diagnostics of neuroport's models, each against its closed-form expectation.

    .venv/bin/python examples/single_neuron_diagnostics.py [--out examples_output] [--backend numpy]

Writes five PNGs into ``--out``:

* ``diag_subthreshold.png``  PSPs of a LIF, a CubaLIF and a conductance-based LIF to one input spike;
* ``diag_fi_curve.png``      f-I curve of a refractory LIF against the analytic rate;
* ``diag_membrane_decay.png`` free decay of v from v_init against exp(-t / tau);
* ``diag_adaptation.png``    spike-frequency adaptation (adaptive threshold and adaptation current);
* ``diag_depression.png``    depression and recovery of successive PSPs (Tsodyks-Markram).
"""

import argparse
import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import neuroport

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--out", default="examples_output")
parser.add_argument("--backend", default="numpy", help="any float backend that runs the models (numpy, brian2)")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
DT = 1e-4  # s


def single(model, inputs, weight=1.0, probes=("v",), depression=None):
    net = neuroport.Network()
    x = net.input(inputs.shape[1], name="x")
    y = net.population(1, model, name="y")
    net.connect(x, y, weight=weight, depression=depression)
    return neuroport.run(net, backend=args.backend, dt=DT, steps=inputs.shape[0], inputs=inputs,
                         timing="ideal", probes=[("y", p) for p in probes])


def save(fig, name):
    FigureCanvasAgg(fig)
    fig.tight_layout()
    path = os.path.join(args.out, name)
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


t_ms = lambda n: np.arange(n) * DT * 1e3  # noqa: E731

# 1. subthreshold responses -------------------------------------------------------------
steps = 1500
pulse = np.zeros((steps, 1))
pulse[100, 0] = 1
fig = Figure(figsize=(10, 4))
ax = fig.add_subplot(121)
for label, model, w in [
    ("LIF, tau = 20 ms", neuroport.LIF(tau=0.02, v_threshold=10.0), 50.0),
    ("CubaLIF, tau_syn = 5 ms, tau_mem = 20 ms", neuroport.CubaLIF(tau_syn=0.005, tau_mem=0.02,
                                                                  v_threshold=10.0), 250.0),
]:
    v = single(model, pulse, weight=w).state("y")[:, 0]
    ax.plot(t_ms(steps), v, label=label)
ax.set_xlabel("time (ms)")
ax.set_ylabel("v (model units)")
ax.set_title("Current-based PSP (input spike at 10 ms)")
ax.legend(fontsize=8)
bx = fig.add_subplot(122)
for label, w in [("excitatory, E_e = 0 mV, w = 0.5", 0.5), ("inhibitory, E_i = -80 mV, w = -0.5", -0.5)]:
    coba = neuroport.CondLIF(v_threshold=0.0, e_leak=-60.0, v_reset=-60.0, v_init=-55.0)
    v = single(coba, pulse, weight=w).state("y")[:, 0]
    bx.plot(t_ms(steps), v, label=label)
bx.set_xlabel("time (ms)")
bx.set_ylabel("v (mV)")
bx.set_title("Conductance-based PSPs from v = -55 mV")
bx.legend(fontsize=8)
save(fig, "diag_subthreshold.png")

# 2. f-I curve ----------------------------------------------------------------------------
tau, vth, t_ref = 0.02, 1.0, 0.002
currents = np.linspace(0.0, 5.0, 26)
steps = 10000
net = neuroport.Network()
x = net.input(currents.size, name="x")
y = net.population(currents.size, neuroport.LIF(tau=tau, v_threshold=vth, refractory=t_ref), name="y")
net.connect(x, y, weight=np.eye(currents.size))
res = neuroport.run(net, backend=args.backend, dt=DT, steps=steps, inputs=np.tile(currents, (steps, 1)),
                    timing="ideal")
rates = res.spikes["y"].counts() / (steps * DT)
with np.errstate(divide="ignore", invalid="ignore"):
    analytic = np.where(currents > vth, 1.0 / (t_ref + tau * np.log(currents / (currents - vth))), 0.0)
fig = Figure(figsize=(6, 4))
ax = fig.add_subplot(111)
ax.plot(currents, analytic, "k-", label="analytic: 1 / (t_ref + tau ln(I / (I - v_th)))")
ax.plot(currents, rates, "o", label=f"neuroport ({args.backend}), dt = 0.1 ms")
ax.set_xlabel("input current r I (model units)")
ax.set_ylabel("firing rate (Hz)")
ax.set_title("f-I curve of a LIF neuron (tau = 20 ms, 2 ms refractory)")
ax.legend()
save(fig, "diag_fi_curve.png")

# 3. membrane decay -----------------------------------------------------------------------
steps = 1000
res = single(neuroport.LIF(tau=0.02, v_threshold=10.0, v_init=1.0), np.zeros((steps, 1)))
v = res.state("y")[:, 0]
fig = Figure(figsize=(6, 4))
ax = fig.add_subplot(111)
ax.plot(t_ms(steps), np.exp(-(np.arange(steps) + 1) * DT / 0.02), "k-", label="exp(-t / 20 ms)")
ax.plot(t_ms(steps)[::40], v[::40], "o", label="neuroport (Euler, dt = 0.1 ms)")
ax.set_xlabel("time (ms)")
ax.set_ylabel("v")
ax.set_title("Free membrane decay from v_init = 1")
ax.legend()
save(fig, "diag_membrane_decay.png")

# 4. adaptation ------------------------------------------------------------------------------
steps = 5000
drive = np.ones((steps, 1)) * 2.0
fig = Figure(figsize=(8, 5))
ax = fig.add_subplot(211)
bx = fig.add_subplot(212)
for label, model in [
    ("no adaptation", neuroport.LIF(tau=0.02, v_threshold=1.0)),
    ("adaptive threshold (tau 100 ms, +0.2)", neuroport.LIF(tau=0.02, v_threshold=1.0, tau_theta=0.1,
                                                             theta_plus=0.2)),
    ("adaptation current (tau 100 ms, b 0.3)", neuroport.LIF(tau=0.02, v_threshold=1.0, tau_adapt=0.1,
                                                              b_adapt=0.3)),
]:
    r = single(model, drive)
    s = r.spikes["y"].steps
    ax.plot(s * DT * 1e3, np.full(s.size, label.split(" (")[0]), "|", markersize=10)
    if s.size > 1:
        bx.plot(s[1:] * DT * 1e3, np.diff(s) * DT * 1e3, "o-", label=label)
ax.set_title("Spike-frequency adaptation under constant drive")
ax.set_xlabel("time (ms)")
bx.set_xlabel("time (ms)")
bx.set_ylabel("inter-spike interval (ms)")
bx.legend(fontsize=8)
save(fig, "diag_adaptation.png")

# 5. depression --------------------------------------------------------------------------------
steps = 6000
train = np.zeros((steps, 1))
spike_steps = list(range(100, 100 + 10 * 500, 500))[:8] + [5500]  # 20 Hz train, then a recovery spike
train[spike_steps, 0] = 1
res = single(neuroport.LIF(tau=0.005, v_threshold=100.0), train, weight=200.0, depression=(0.3, 0.4))
v = res.state("y")[:, 0]
amplitudes = [v[s:s + 50].max() - v[s - 1] for s in spike_steps]
fig = Figure(figsize=(8, 4))
ax = fig.add_subplot(121)
ax.plot(t_ms(steps), v)
ax.set_xlabel("time (ms)")
ax.set_ylabel("v")
ax.set_title("PSPs with short-term depression")
bx = fig.add_subplot(122)
bx.bar(range(1, len(amplitudes) + 1), amplitudes)
bx.set_xlabel("spike number (last: after 200 ms recovery)")
bx.set_ylabel("PSP amplitude")
bx.set_title("tau_rec = 300 ms, U = 0.4")
save(fig, "diag_depression.png")
