"""Backends (importable as ``neuroport.backends``): the in-tree engines.

The interface and the registry live in the core (:mod:`neuroport.backend`,
:mod:`neuroport.result`); they are re-exported here so that
``from neuroport.backends import get`` keeps working.
"""

from neuroport.backend import (  # noqa: F401  (re-exported)
    Backend,
    availability,
    available_names,
    get,
    names,
    register,
    unregister,
)
from neuroport.result import Result, SpikeTrain  # noqa: F401  (re-exported)
