"""Each population's continuous-time equations, asked of its neuron model.

The equations of every model live in its model file (``equations(pn, reset)``
of :mod:`neuroport.models.lif`, :mod:`~neuroport.models.adaptive_lif`,
:mod:`~neuroport.models.cond_lif`, returning a
:class:`neuroport.models.equations.Equations`); this module looks them up in
the neuron-model registry, so a new model's Brian2 lowering needs no edit
here, and applies the one Brian2-specific convention they leave open: the
refractory period on Brian2's time grid. :mod:`.lowering` builds the Brian2
objects. See ``docs/brian2.md``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neuroport.errors import UnsupportedNodeError
from neuroport.models import neurons
from neuroport.models.equations import Equations


def supported_models() -> list:
    """The registered model names whose model has continuous-time equations."""
    return [key for key in neurons.registered() if hasattr(neurons.get(key), "equations")]


def refractory_hold(refractory_s: np.ndarray, dt: float) -> np.ndarray:
    """Brian2's ``refractory`` (s) that holds ``v`` as long as neuroport does.

    neuroport holds ``v`` for ``refractory/dt`` steps after the spike step; Brian2 integrates
    again once ``timestep(t - lastspike) >= timestep(refractory)``, i.e. holds
    ``refractory/dt - 1`` steps: one ``dt`` is added.
    """
    return (np.rint(refractory_s / dt) + 1.0) * dt


def build_spec(pn, *, reset: str, dt: float) -> Equations:
    """The :class:`~neuroport.models.equations.Equations` of population ``pn``.

    Raises
    ------
    UnsupportedNodeError
        The model is unknown or has no continuous-time equations (naming the supported ones).
    """
    model = neurons.get(pn.model) if neurons.supported(pn.model) else None
    if not hasattr(model, "equations"):
        raise UnsupportedNodeError(
            f"node {pn.name!r}: model {pn.model!r} has no continuous-time equations (no Brian2 lowering); "
            f"supported: {', '.join(supported_models())}")
    spec = model.equations(pn, reset)
    if spec.refractory_s is not None:
        spec = dataclasses.replace(spec, refractory_s=refractory_hold(spec.refractory_s, dt))
    return spec
