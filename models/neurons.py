"""The neuron-model registry: Program model names -> model objects.

Every model lives in a file of its own (``lif.py``, ``adaptive_lif.py``,
``cond_lif.py``, ``qif.py``) with its parameter table, its continuous equations, its
``discretize`` and one step written against :mod:`neuroport.models.arithmetic`
(float or Loihi integers); ``base.py`` holds what they share. Importing this
module registers them all.

Examples
--------
>>> from neuroport.models import neurons
>>> neurons.get("cubalif").state_names
('u', 'v')
"""

from __future__ import annotations

from neuroport.models import adaptive_lif, cond_lif, lif, qif  # noqa: F401  (each registers its model)
from neuroport.models.base import Block, block_key, get, register, registered, runner, supported  # noqa: F401
from neuroport.errors import UnsupportedNodeError


def discretize(pn, opts):
    """Continuous -> discrete parameters of one population, by its model's ``discretize``.

    Returns ``(params, input_gain, u_gain, v_offset, emits, extra)``.
    """
    model = get(pn.model)
    if not hasattr(model, "discretize"):
        raise UnsupportedNodeError(f"node {pn.name!r}: model {pn.model!r} has no discretisation")
    return model.discretize(pn, opts)


def state_names(pop) -> tuple:
    """The state variables a population has on every backend (those of the model that runs it)."""
    return runner(pop).used_states(pop)


def block(pop, ar) -> Block:
    """A :class:`~neuroport.models.base.Block` of the single population ``pop`` under arithmetic ``ar``."""
    return Block(runner(pop), [pop], ar)
