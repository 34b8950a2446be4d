"""Per-node discrete-time conventions that NIR does not record, stored in the node's metadata.

NIR graphs say nothing about how a tool resets a neuron, how many spikes it
emits per step, how it compares with the threshold or how an input enters
the state. Every exporter assumes its own; neuroport keeps the choice per
node, in the node's ``metadata`` under the ``neuroport.`` namespace, so that a
graph neuroport writes back re-reads to the same spikes.

=========================== ==================================================================
key (node metadata)         values
=========================== ==================================================================
``neuroport.reset``         ``zero``: ``v <- v_reset`` right after the spike (NIR's reset);
                            ``subtract``: ``v <- v - (v_threshold - v_reset)`` right after the
                            spike (decayed in the next step);
                            ``subtract_undecayed``: the threshold is subtracted in the *next*
                            step, after its decay and input (snnTorch's ``subtract``:
                            ``v[t] = beta v[t-1] + x[t] - s[t-1] v_th``);
                            ``zero_hold``: the whole next membrane value is zeroed, the next
                            input never reaches it (snnTorch's ``zero`` on ``Synaptic``,
                            ``RLeaky``, ``RSynaptic``: ``v[t] = (1 - s[t-1]) (beta v[t-1] + x[t])``);
                            ``subtract_no_delay``: snnTorch's ``subtract`` with ``reset_delay=False``:
                            ``p = v[t-1] > v_th`` (the stored value), ``v = beta v[t-1] + x - p v_th``,
                            ``s = v > v_th``, then ``v -= (s - p) v_th`` (one threshold per spike,
                            taken back where ``p`` held and no spike came)
``neuroport.spikes``        ``single`` (0 or 1 per step); ``multi``: ``floor((v - v_reset) /
                            (v_threshold - v_reset))`` spikes per step, each removing one
                            threshold (Sinabs' ``MultiSpike``); the count is what the layer sends
``neuroport.threshold``     ``gt``: spike where ``v > v_threshold``; ``ge``: where ``v >= v_threshold``
``neuroport.input``         ``euler``: NIR's forward-Euler input term (``dt / tau_syn * w_in x``
                            into ``I``, ``dt / tau * r x`` into ``v`` of a ``LIF``, ``dt r x``
                            into an ``IF``); ``jump``: the weighted input is added to the
                            state as it is (``IF``: ``v += r x``; ``LIF``: ``v += r x``;
                            ``CubaLIF``: ``I += w_in x``, then ``v`` uses the new ``I``);
                            ``jump_delayed``: ``CubaLIF``'s ``I += w_in x`` *after* ``v`` was
                            updated with the previous ``I`` (Norse's ``LIFCell``): the input
                            reaches ``v`` one step later (compiled as one more step of delay
                            on every incoming projection)
``neuroport.tau_scale``     informative: the factor an import profile multiplied the node's
                            time constants by (so a second import does not apply it again)
=========================== ==================================================================

A node without a key takes the compile option (``reset=``) or the default.
"""

from __future__ import annotations

from typing import Mapping

from neuroport.errors import CompileError

PREFIX = "neuroport."
RESETS = ("zero", "subtract", "subtract_undecayed", "zero_hold", "subtract_no_delay")
SPIKES = ("single", "multi")
THRESHOLDS = ("gt", "ge")
INPUTS = ("euler", "jump", "jump_delayed")
#: every per-node convention: name -> its valid values
VALUES = {"reset": RESETS, "spikes": SPIKES, "threshold": THRESHOLDS, "input": INPUTS}
DEFAULTS = {"reset": "zero", "spikes": "single", "threshold": "gt", "input": "euler"}
#: the resets applied in the step after the spike (the stored ``v`` is the value before the reset)
DEFERRED = ("subtract_undecayed", "zero_hold", "subtract_no_delay")
_ALIASES = {">": "gt", ">=": "ge", "one": "single", "several": "multi"}


def check(key: str, value, where: str = "") -> str:
    """``value`` validated for convention ``key`` (aliases ``>``/``>=`` accepted)."""
    value = value.decode() if isinstance(value, bytes) else value
    value = _ALIASES.get(value, value)
    if key not in VALUES:
        raise CompileError(f"{where or 'semantics'}: unknown convention {key!r}; known: {', '.join(VALUES)}")
    if value not in VALUES[key]:
        raise CompileError(f"{where + ': ' if where else ''}{key}: expected one of {', '.join(VALUES[key])}, "
                           f"got {value!r}")
    return value


def recorded(node) -> dict:
    """The conventions recorded in ``node``'s metadata (only those present)."""
    meta = getattr(node, "metadata", None) or {}
    out = {}
    for key in VALUES:
        if PREFIX + key in meta:
            out[key] = check(key, meta[PREFIX + key], f"node metadata {PREFIX + key}")
    return out


def of_node(name: str, node, opts: Mapping, explicit: Mapping | None = None) -> dict:
    """The conventions of node ``name``: ``explicit`` (compile arguments) > node metadata >
    ``opts`` (profile / graph / default options: ``reset``) > :data:`DEFAULTS`."""
    out = dict(DEFAULTS)
    for key in VALUES:
        if opts.get(key) is not None and key != "input":
            out[key] = check(key, opts[key])
    out.update(recorded(node))
    for key, value in (explicit or {}).items():
        if value is not None:
            out[key] = check(key, value)
    return out


def annotate(node, **conventions) -> None:
    """Record ``conventions`` (``reset=``, ``spikes=``, ...) in ``node``'s metadata, in place."""
    meta = dict(getattr(node, "metadata", None) or {})
    for key, value in conventions.items():
        if key == "tau_scale":
            meta[PREFIX + key] = float(value)
        elif value is not None:
            meta[PREFIX + key] = check(key, value)
    node.metadata = meta


def describe(sem: Mapping) -> str:
    """``reset=zero_hold, spikes=multi`` for the conventions that differ from the defaults."""
    parts = [f"{k}={v}" for k, v in sem.items() if k in DEFAULTS and DEFAULTS[k] != v]
    return ", ".join(parts) or "NIR defaults"
