"""Backends (importable as ``neuroport.backends``): interface, registry and the in-tree engines."""

from neuroport.backends.base import (  # noqa: F401
    Backend,
    Result,
    SpikeTrain,
    availability,
    available_names,
    get,
    names,
    register,
    unregister,
)
