"""Backend interface, registry and :class:`Result`: re-exported from the core.

They live in :mod:`neuroport.backend` (interface, registry, shared run
checks) and :mod:`neuroport.result` (:class:`SpikeTrain`, :class:`Result`),
so that the core never imports a backend. This module keeps older and
third-party imports (``from neuroport.backends.base import Backend, Result``)
working; new code imports from the core.
"""

from neuroport.backend import (  # noqa: F401  (re-exported)
    ENTRY_POINT_GROUP,
    LEVELS,
    Backend,
    all_probes,
    availability,
    available_names,
    check_steps,
    get,
    names,
    normalize_inputs,
    python_version_reason,
    register,
    unregister,
)
from neuroport.result import Result, SpikeTrain  # noqa: F401  (re-exported)
