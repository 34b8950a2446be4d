"""A Lava run killed by SIGINT, SIGTERM or SIGKILL leaves no process and no /dev/shm segment (issue 12,
defect 3). One kill per signal here; ``benchmarks/kill_lava.py`` does five of each.

The child (``python -m neuroport.backends.lava.kill_check --child``) runs in a session of its own; every process
of that session or descending from the child is recorded from ``/proc`` while Lava runs (the workers,
the shared-memory manager, the resource tracker), the child alone is signalled, and the recorded
processes and the run's own segments (their names printed by the child) are checked afterwards.
"""

from __future__ import annotations

import os
import signal
import sys

import pytest

from neuroport import backends

_OK, _REASON = backends.get("lava-fixed").available()
pytestmark = [
    pytest.mark.skipif(not _OK, reason=f"Lava unavailable: {_REASON}"),
    pytest.mark.skipif(not sys.platform.startswith("linux") or not os.path.isdir("/dev/shm"),
                       reason="counts processes in /proc and segments in /dev/shm (Linux)"),
]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_killed_lava_run_leaves_nothing(sig):
    from neuroport.backends.lava.kill_check import cleanup, kill_once

    result = kill_once(sig)
    try:
        assert result["workers"] >= 3, result  # the run really had its workers when it was killed
        assert result["shm"] > 0, result
        assert result["survivors"] == 0, result
        assert result["shm_left"] == 0, result
        assert result["exit"] == -sig, result  # ended by that signal (SIGTERM re-delivered after cleanup)
    finally:
        cleanup(result)
