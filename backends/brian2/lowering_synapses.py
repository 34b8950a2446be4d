"""Brian2 ``Synapses`` for the pathways between populations: static, depressing, plastic, graded.

Every spike pathway adds to a target variable (``J``/``Ji`` for currents held
over the step, ``g_exc``/``g_inh`` for conductance jumps); its Brian2 delay is
the Program's whole-step delay (minus one for a source updated later in the
step, see ``docs/brian2.md``). Short-term depression keeps its resource ``x``
on the synapses (per synapse, but every synapse of one pre channel sees the
same spikes, so it equals neuroport's per-channel resource); STDP keeps the
traces on the synapses and learns after every population has updated.
"""

from __future__ import annotations

import numpy as np

from neuroport.errors import UnsupportedNodeError

#: Before every population block (after the spike generators at order 1): recovery of depression resources.
ORDER_RECOVERY = 3


def _place(obj, order: int) -> None:
    obj.when = "groups"
    obj.order = order


def static(b2, source, target, var, cols, rows, data, eff, dt, order, name):
    """``var_post += w`` per spike, Brian2 delay ``eff * dt``."""
    syn = b2.Synapses(source, target, "w : 1 (constant)", on_pre=f"{var}_post += w", namespace={}, name=name)
    syn.connect(i=cols, j=rows)
    syn.w = data
    syn.delay = eff * dt * b2.second
    _place(syn.pre, order)
    return syn


def depressed(b2, source, target, var, cols, rows, data, eff, dt, order, name, node, method):
    """Tsodyks-Markram depression: ``tau_rec dx/dt = 1 - x`` integrated every step (``method``),
    on a spike ``var_post += w * U * x`` then ``x -= U * x``.

    Recovery runs at the start of the step (``ORDER_RECOVERY``) and the release at arrival. A pre
    channel's synapses all have one delay per target, so the intervals between releases, and hence
    ``x`` at each release, equal neuroport's per-channel value taken at emission.
    """
    tau_rec = np.asarray(node.tau_rec, dtype=np.float64).reshape(-1)
    u_se = np.asarray(node.u_se, dtype=np.float64).reshape(-1)
    model = ("w : 1 (constant)\nU : 1 (constant)\ntau_rec : second (constant)\n"
             "dx/dt = (1 - x) / tau_rec : 1 (clock-driven)\n")
    syn = b2.Synapses(source, target, model, on_pre=f"{var}_post += w * U * x\nx -= U * x", method=method,
                      namespace={}, name=name)
    syn.connect(i=cols, j=rows)
    syn.w = data
    syn.U = u_se[cols]
    syn.tau_rec = tau_rec[cols] * b2.second
    syn.x = 1.0
    syn.delay = eff * dt * b2.second
    _place(syn.pre, order)
    _place(syn.state_updater, ORDER_RECOVERY)
    return syn


def _rule_code(p: dict) -> tuple[str, str]:
    """Potentiation (on a post spike) and depression (on an arriving pre spike) added to ``dw``."""
    if p["rule"] == "pair":
        pot, dep = "a_plus * apre", "-a_minus * apost"
        if p["bounds"] == "soft":
            pot, dep = f"{pot} * (w_max - w)", f"{dep} * (w - w_min)"
    else:  # diehl_cook
        pot = "eta * (apre - x_tar) * clip(w_max - w, 0, inf) ** mu"
        dep = "-a_minus * apost"
    return pot, dep


def plastic(b2, source, target, var, cols, rows, node, eff, delay, dt, order, learn_order, name, method):
    """STDP synapses (``neuroport.PlasticLinear``), weights in graph units.

    As Lava's learning engine (and ``neuroport.models.plasticity``), a pre spike is seen by learning in
    the step it is *emitted* and is delivered with the weight it had then (before that step's learning):
    with a Program delay ``d >= 1`` the weight is copied into slot ``t mod d`` of a ring of ``d``
    per-synapse copies (``w_sent_k``) when the spike leaves, and the delivery pathway (Brian2 delay
    ``eff * dt``) adds the copy of its emission step; with delay 0 it adds ``w``. Learning runs after every population (from ``learn_order``): traces decay
    (``tau dx/dt = -x``, clock-driven with ``method``), the pre trace adds this step's pre spikes, the
    post trace this step's post spikes; both weight changes are computed from the weights at the start
    of learning, added and clipped to ``[w_min, w_max]`` (the synapses touched this step only).
    """
    p = node.rule_params()
    if p["rule"] not in ("pair", "diehl_cook"):
        raise UnsupportedNodeError(f"{name}: STDP rule {p['rule']!r} has no Brian2 lowering")
    pot, dep = _rule_code(p)
    # a spike carries the weight it left with: one stored copy per step in flight (ring of `delay` slots)
    slots = max(int(delay), 1)
    late = int(np.unique(np.asarray(eff) - delay)[0]) if np.size(eff) else 0
    sent_vars = "".join(f"w_sent_{k} : 1\n" for k in range(slots))
    send_code = "\n".join(f"w_sent_{k} = w * int(t_in_timesteps % {slots} == {k}) + "
                           f"w_sent_{k} * int(t_in_timesteps % {slots} != {k})" for k in range(slots))
    arrive_slot = f"((t_in_timesteps - {int(delay) + late}) % {slots})"
    carried = " + ".join(f"w_sent_{k} * int({arrive_slot} == {k})" for k in range(slots))
    model = ("w : 1\n" + sent_vars + "dw : 1\ntouched : 1\n"
             "dapre/dt = -apre / tau_pre : 1 (clock-driven)\n"
             "dapost/dt = -apost / tau_post : 1 (clock-driven)\n")
    ns = {k: p[k] for k in ("a_plus", "a_minus", "eta", "x_tar", "mu", "w_min", "w_max")}
    ns.update({"tau_pre": p["tau_pre"] * b2.second, "tau_post": p["tau_post"] * b2.second})
    on_pre = {"pre": f"{var}_post += {carried if delay >= 1 else 'w'}", "send": send_code,
              "trace_pre": "apre += 1", "learn_pre": f"dw += {dep}\ntouched = 1"}
    on_post = {"learn_post": f"apost += 1\ndw += {pot}\ntouched = 1"}
    syn = b2.Synapses(source, target, model, on_pre=on_pre, on_post=on_post, method=method, namespace=ns,
                      name=name)
    syn.connect(i=cols, j=rows)
    syn.w = node.weight[rows, cols]
    syn.pre.delay = eff * dt * b2.second
    _place(syn.pre, order)
    _place(syn.send, learn_order)
    _place(syn.state_updater, learn_order)
    _place(syn.trace_pre, learn_order + 1)
    _place(syn.learn_post, learn_order + 2)
    _place(syn.learn_pre, learn_order + 3)
    apply = syn.run_regularly("w = touched * clip(w + dw, w_min, w_max) + (1 - touched) * w\n"
                              "dw = 0\ntouched = 0", when="groups", order=learn_order + 4,
                              name=f"{name}_apply")
    return syn, apply


def graded(b2, pre_group, target, path, cols, rows, data, eff, order, k):
    """Graded (``v``) output of a non-spiking population: a summed variable, delay 0 or 1 only."""
    uniq = np.unique(eff)
    if uniq.size != 1 or int(uniq[0]) not in (0, 1):
        raise UnsupportedNodeError(
            f"{path.name}: backend 'brian2' sends the graded output of {path.pre!r} with a delay of 0 or 1 "
            f"step only, got {sorted(set(int(d) for d in uniq))} (after the timing rule)")
    var = f"Jg{k}"
    syn = b2.Synapses(pre_group, target, f"w : 1 (constant)\n{var}_post = w * v_pre : 1 (summed)",
                      name=f"np_proj_{k}")
    syn.connect(i=cols, j=rows)
    syn.w = data
    updater = syn.summed_updaters[f"{var}_post"]
    # delay 0: read v_pre after its update this step; delay 1: read it before (start of the step)
    _place(updater, order if int(uniq[0]) == 0 else 2)
    return syn
