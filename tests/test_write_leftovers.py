"""Killed and interrupted writes (issue 12 defect 10): no partial temp file survives the next write."""

import os
import signal
import subprocess
import sys
import time

import pytest

from neuroport.fileutil import atomic_target, remove_stale

WRITER = r"""
import sys, time
from neuroport.fileutil import atomic_target
with atomic_target(sys.argv[1], suffix=".npz") as tmp:
    with open(tmp, "wb") as fh:
        fh.write(b"x" * 1000)
        fh.flush()
        print("writing", flush=True)
        time.sleep(60)
"""


def _leftovers(folder, name):
    return [p for p in os.listdir(folder) if p.startswith("." + name + ".")]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_writer_leaves_nothing_after_the_next_write(tmp_path, sig):
    target = tmp_path / "r.npz"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    assert len(_leftovers(tmp_path, "r.npz")) == 1
    proc.send_signal(sig)
    code = proc.wait(30)
    assert code != 0  # SIGINT interrupts the write (KeyboardInterrupt), it is not swallowed
    if sig == signal.SIGINT:
        assert not _leftovers(tmp_path, "r.npz")  # the writer cleaned up itself
    with atomic_target(target, suffix=".npz") as tmp:  # the next write removes the dead writer's file
        with open(tmp, "wb") as fh:
            fh.write(b"ok")
    assert target.read_bytes() == b"ok"
    assert not _leftovers(tmp_path, "r.npz")
    assert not target.with_name("r.npz").is_dir()


def test_live_writers_file_is_kept_and_others_untouched(tmp_path):
    target = tmp_path / "a.nir"
    mine = tmp_path / f".a.nir.{os.getpid()}.abcdefgh.nir.tmp"
    other = tmp_path / ".a.nir.notours"
    old = tmp_path / ".a.nir.99999999.abcdefgh.nir.tmp"  # no such pid
    for p in (mine, other, old):
        p.write_bytes(b"x")
    removed = remove_stale(target, ".nir.tmp")
    assert removed == [str(old)]
    assert mine.exists() and other.exists()
    os.utime(mine, (time.time() - 7200, time.time() - 7200))
    assert remove_stale(target, ".nir.tmp") == [str(mine)]


SLOW_WRITE = r"""
import sys, numpy as np, nir, neuroport
n = 3000
g = nir.NIRGraph.from_list(nir.Input(np.array([n])), nir.Linear(np.random.default_rng(0).random((n, n))),
                           nir.LIF(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n)),
                           nir.Output(np.array([n])))
print("go", flush=True)
for i in range(200):
    neuroport.write(sys.argv[1], g)
print("finished", flush=True)
"""


def test_sigint_during_nir_write_interrupts(tmp_path):
    # before: h5py swallowed the KeyboardInterrupt and the loop of writes went on
    target = tmp_path / "big.nir"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITE, str(target)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "go"
    deadline = time.time() + 60
    while not _leftovers(tmp_path, "big.nir") and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("SIGINT did not stop the writes")
    assert "finished" not in out and "KeyboardInterrupt" in err
    assert not _leftovers(tmp_path, "big.nir")
