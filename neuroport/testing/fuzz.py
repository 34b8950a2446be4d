"""Seeded mutations of small ``.nir`` files, each run in a forked child under memory and time limits.

:func:`generate` writes ``count`` mutated files (a base network, then one
mutation of a kind in :data:`KINDS`); :func:`run_case` reads, compiles,
quantizes and runs one for a few steps in a forked child with
``RLIMIT_AS`` and a wall-clock limit, and classifies the outcome:

* ``refused``: a :class:`~neuroport.errors.NeuroportError`;
* ``ok``: it ran and every state and spike count is finite;
* ``escape``: another exception (a defect), ``invalid`` (ran, non-finite
  result), ``oom`` (MemoryError or killed), ``hang`` (over the time limit).

``benchmarks/fuzz.py`` runs a few hundred; ``tests/test_fuzz.py`` ~40.
"""

from __future__ import annotations

import os
import json
import resource
import signal
import time

import h5py
import numpy as np

KINDS = ("truncate", "dtype", "huge_shape", "bad_value", "missing_field", "bad_edges", "link", "name",
         "metadata", "garbage")


def base_network(rng):
    import neuroport

    net = neuroport.Network()
    n_in, n_out = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    x = net.input(n_in, name="x")
    spec = [neuroport.LIF(tau=0.01, v_threshold=1.0), neuroport.CubaLIF(tau_syn=0.005, tau_mem=0.02)][
        int(rng.integers(2))]
    y = net.population(n_out, spec, name="y")
    net.connect(x, y, weight=rng.uniform(0, 2, (n_out, n_in)))
    net.output(y)
    return net


def _datasets(f):
    out = []
    f.visititems(lambda name, obj: out.append(name) if isinstance(obj, h5py.Dataset) else None)
    out = [n for n in out if "/" in n]
    return [n for n in out if not n.endswith("/type")] or out


def mutate(path: str, kind: str, rng) -> None:
    """Apply one mutation of ``kind`` to the file at ``path`` in place."""
    if kind == "truncate":
        data = open(path, "rb").read()
        open(path, "wb").write(data[:int(rng.integers(0, len(data)))])
        return
    if kind == "garbage":
        data = bytearray(open(path, "rb").read())
        for i in rng.integers(0, len(data), int(rng.integers(1, 50))):
            data[i] = int(rng.integers(256))
        open(path, "wb").write(bytes(data))
        return
    with h5py.File(path, "a") as f:
        names = _datasets(f)
        target = names[int(rng.integers(len(names)))]
        parent, leaf = target.rsplit("/", 1)
        group = f[parent]
        if kind == "dtype":
            choice = int(rng.integers(4))
            value = [np.array([b"x"] * 3), np.zeros(2, dtype=[("a", "f8"), ("b", "i4")]),
                     np.array([1 + 2j, 3j]), np.array(b"text")][choice]
            del group[leaf]
            group[leaf] = value
        elif kind == "huge_shape":
            del group[leaf]
            if rng.integers(2):
                group.create_dataset(leaf, shape=(int(10 ** rng.integers(8, 11)),), dtype="f8",
                                     chunks=(1 << 16,), compression="gzip", fillvalue=1.0)
            else:
                group[leaf] = np.array([2 ** 31, 2 ** 32, 2 ** 62][int(rng.integers(3))] * np.ones(
                    int(rng.integers(1, 3)), dtype=np.int64))
        elif kind == "bad_value":
            old = group[leaf][()]
            if isinstance(old, np.ndarray) and old.dtype.kind in "biuf":
                new = old.astype(np.float64).copy()
                new.reshape(-1)[int(rng.integers(max(new.size, 1)))] = [np.nan, np.inf, -np.inf, -1.0, 0.0, 1e300][
                    int(rng.integers(6))] if new.size else 0
                del group[leaf]
                group[leaf] = new
        elif kind == "missing_field":
            del group[leaf]
        elif kind == "bad_edges":
            graphs = [n for n in names if n.endswith("edges")]
            e = f[graphs[0]]
            edges = e[()]
            del f[graphs[0]]
            choice = int(rng.integers(4))
            f[graphs[0]] = [edges.reshape(-1)[: (edges.size // 3) * 3].reshape(-1, 3) if edges.size >= 3 else edges,
                            np.array([[b"x", b"ghost"]]), np.array([[b"y", b"y"]] + list(edges)),
                            np.array([1, 2, 3])][choice]
        elif kind == "link":
            group["lnk"] = [h5py.SoftLink("/node"), h5py.SoftLink("/none"),
                            h5py.ExternalLink("/etc/hostname", "/x")][int(rng.integers(3))]
        elif kind == "name":
            nodes = f["node/nodes"]
            old = list(nodes)[int(rng.integers(len(nodes)))]
            new = ["ü" * int(rng.integers(1, 200)), "a.b", "..x", " ", "n" * 2000][int(rng.integers(5))]
            nodes.move(old, new)
        elif kind == "metadata":
            meta = f["node/metadata"]
            key = ["neuroport.timing", "neuroport.probes", "neuroport.dt", "neuroport.node_order",
                   "neuroport.scheme"][int(rng.integers(5))]
            if key in meta:
                del meta[key]
            meta[key] = [np.array([1, 2]), "[[1, 2]]", "{", np.array([np.nan]), "-1e-3", '["y"]'][
                int(rng.integers(6))]


def generate(folder, count: int, seed: int = 0) -> list:
    """``count`` (path, kind) pairs, mutated copies of small networks, kinds in turn."""
    import neuroport

    rng = np.random.default_rng(seed)
    cases = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        path = os.path.join(os.fspath(folder), f"case{i:04d}_{kind}.nir")
        neuroport.write(path, base_network(rng), options={"dt": 1e-3})
        mutate(path, kind, rng)
        cases.append((path, kind))
    return cases


def _exercise(path: str) -> str:
    import neuroport
    from neuroport import backend

    graph = neuroport.read(path)
    program = neuroport.compile(graph, dt=1e-3)
    fixed, _ = neuroport.quantize(program)
    steps = 20
    for prog, mode in ((program, "numpy"), (fixed, "numpy-fixed")):
        inputs = {n: np.ones((steps, prog.populations[n].size)) for n in prog.inputs}
        result = backend.get(mode).run(prog, steps=steps, inputs=inputs, progress=False)
        if not all(np.isfinite(t.count) for t in result.spikes.values()):
            return "invalid"
    return "ok"


def run_case(path: str, *, mem_bytes: int = 2 << 30, timeout_s: float = 60.0) -> tuple:
    """(outcome, detail) of reading and running ``path`` in a forked child (see the module docstring)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        outcome = ("escape", "no result")
        try:
            resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
            import warnings

            import neuroport

            warnings.simplefilter("ignore")
            try:
                outcome = (_exercise(path), "")
            except neuroport.NeuroportError as exc:
                outcome = ("refused", f"{type(exc).__name__}: {str(exc)[:200]}")
            except MemoryError:
                outcome = ("oom", "MemoryError")
            except BaseException as exc:  # noqa: BLE001  (what the fuzz counts)
                outcome = ("escape", f"{type(exc).__name__}: {str(exc)[:300]}")
        finally:
            os.write(w, json.dumps(list(outcome)).encode())  # outcome: (kind, message) strings
            os._exit(0)
    os.close(w)
    deadline = time.monotonic() + timeout_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(r)
            return "hang", f"over {timeout_s} s"
        time.sleep(0.02)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    if not data:
        return "oom", f"child died (status {status})"
    return tuple(json.loads(data.decode()))
