"""Kill a process in the middle of a Lava run and count what it leaves behind (issue 12, defect 3).

``python -m neuroport.backends.lava.kill_check --child`` runs a small ``lava-fixed``
network for many steps and prints one line ``READY {"pid": ..., "shm": [...]}``
once Lava's runtime is up (``shm``: the names of the shared-memory segments of
its channels). :func:`kill_once` starts that child in a session of its own,
records every process of the session and every descendant (from ``/proc``),
sends one signal to the child only, and counts, after a grace period, the
recorded processes still alive (zombies count as gone) and the segments still
in ``/dev/shm``. Used by ``tests/test_lava_cleanup.py`` (one kill per signal)
and ``benchmarks/kill_lava.py`` (five each).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

READY = "READY "


def _stat(pid: int):
    """``(state, ppid, session)`` of ``pid`` from ``/proc``, or None when it does not exist."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            data = fh.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[3])


def _all_pids() -> list:
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def related(root: int) -> set:
    """Processes in ``root``'s session or descending from it (``root`` excluded)."""
    stats = {pid: st for pid in _all_pids() if (st := _stat(pid)) is not None}
    found = {pid for pid, st in stats.items() if st[2] == root}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, st in stats.items():
            if st[1] == parent and pid not in found:
                found.add(pid)
                frontier.append(pid)
    found.discard(root)
    return found


def alive(pids) -> list:
    """Those of ``pids`` that exist and are not zombies."""
    out = []
    for pid in pids:
        st = _stat(pid)
        if st is not None and st[0] not in ("Z", "X"):
            out.append(pid)
    return out


def kill_once(sig: int, *, settle: float = 0.5, grace: float = 20.0, ready_timeout: float = 180.0) -> dict:
    """Start the child, kill it with ``sig`` once Lava runs, and count what is left.

    Returns
    -------
    dict
        ``signal`` (name), ``workers`` (processes recorded while running),
        ``survivors`` (of them, still alive after ``grace`` s), ``shm`` (segments
        the run had), ``shm_left`` (of them, still in ``/dev/shm``), ``exit``
        (the child's return code).
    """
    child = subprocess.Popen([sys.executable, "-m", "neuroport.backends.lava.kill_check", "--child"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    info = None
    deadline = time.monotonic() + ready_timeout
    try:
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            if line.startswith(READY):
                info = json.loads(line[len(READY):])
                break
        if info is None:
            raise RuntimeError("the Lava child never reported READY")
        time.sleep(settle)
        workers = related(child.pid)
        os.kill(child.pid, sig)
        try:
            code = child.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            code = None
        end = time.monotonic() + grace
        while time.monotonic() < end:
            left = alive(workers)
            shm_left = [n for n in info["shm"] if os.path.exists(os.path.join("/dev/shm", n))]
            if not left and not shm_left:
                break
            time.sleep(0.2)
        left = alive(workers)
        shm_left = [n for n in info["shm"] if os.path.exists(os.path.join("/dev/shm", n))]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return {"signal": signal.Signals(sig).name, "workers": len(workers), "survivors": len(left),
            "survivor_pids": left, "shm": len(info["shm"]), "shm_left": len(shm_left), "shm_left_names": shm_left,
            "exit": code}


def cleanup(result: dict) -> None:
    """Kill what a failed :func:`kill_once` left behind (its recorded pids and segments only)."""
    for pid in result.get("survivor_pids", []):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for name in result.get("shm_left_names", []):
        try:
            os.unlink(os.path.join("/dev/shm", name))
        except OSError:
            pass


def _child(steps: int = 200_000) -> None:
    import warnings

    import nir
    import numpy as np

    import neuroport
    from neuroport import backends
    from neuroport.backends.lava import backend as lava_backend

    warnings.simplefilter("ignore")
    n = 3
    g = nir.NIRGraph.from_list(
        nir.Input(np.array([2])), nir.Linear(np.ones((n, 2))),
        nir.LIF(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n)),
        nir.Linear(np.ones((2, n))),
        nir.LIF(tau=np.full(2, 0.01), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2)),
        nir.Output(np.array([2])))
    fixed, _ = neuroport.quantize(neuroport.compile(g, dt=1e-3))
    original = lava_backend._run_watched

    def announce(root, n_steps):
        smm = root._runtime._messaging_infrastructure.smm
        names = [h.name.lstrip("/") for h in getattr(smm, "_shared_memory_handles", [])]
        print(READY + json.dumps({"pid": os.getpid(), "shm": names}), flush=True)
        return original(root, n_steps)

    lava_backend._run_watched = announce
    x = (np.random.default_rng(0).random((steps, 2)) < 0.2).astype(float)
    backends.get("lava-fixed").run(fixed, steps=steps, inputs=x, progress=False)


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child()
