"""pytest plugin: a ``backend`` fixture over every registered backend mode.

Use it from a test suite with ``pytest_plugins = ["neuroport.testing.plugin"]``.
A mode that cannot run here (missing package, no chip, wrong Python) is
skipped with its reason, so a new backend joins the suite by registering
under the ``neuroport.backends`` entry-point group.
"""

from __future__ import annotations

import pytest

from neuroport import backend as registry


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", registry.names(), indirect=True)


@pytest.fixture
def backend(request):
    """The backend instance for one registered mode (skipped with its reason if unavailable)."""
    name = request.param
    instance = registry.get(name)
    ok, reason = instance.available()
    if not ok:
        pytest.skip(f"backend {name} unavailable: {reason}")
    return instance


def supports(backend, case, *, timing: str) -> tuple[bool, str]:
    """Whether ``backend`` can run ``case`` with ``timing`` (``(False, reason)`` otherwise)."""
    if timing not in backend.timings:
        return False, f"{backend.name} supports timing {backend.timings}, not {timing!r}"
    return True, ""
