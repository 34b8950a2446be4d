"""``neuroport info FILE.nir``: nodes, sizes, synapse counts and parameter ranges."""

from __future__ import annotations

import json

import h5py
import nir
import numpy as np

import neuroport
from neuroport import profiles
from neuroport.structure import population_model


def register(sub) -> None:
    p = sub.add_parser("info", help="describe a .nir file: nodes, sizes, synapses, parameter ranges",
                       description="Print every node of a NIR graph with its type, size and the range of "
                                   "each parameter, the synapse count of every weight node, the edges, and the "
                                   "compile options and probes the file records (neuroport.write(..., options=)).")
    p.add_argument("file", help="a .nir file (plain NIR or with neuroport extension nodes)")
    p.set_defaults(func=run)


def describe(graph) -> str:
    """The text ``neuroport info`` prints for ``graph``."""
    lines = [f"{'node':<28} {'type':<26} {'size':>8}  parameters"]
    total_syn = 0
    for name, node in graph.nodes.items():
        kind = type(node).__name__
        if getattr(type(node), "to_dict", None) and kind != "NIRGraph":
            kind = node.to_dict().get("type", kind)
        size = ""
        out = getattr(node, "output_type", None)
        if isinstance(out, dict) and out.get("output") is not None:
            size = "x".join(str(int(s)) for s in np.atleast_1d(out["output"]))
        params = []
        for field, value in vars(node).items():
            if field in ("input_type", "output_type", "metadata") or isinstance(value, (dict, list)):
                continue
            arr = np.asarray(value)
            if arr.dtype.kind not in "fiu" or arr.size == 0:
                continue
            if field in ("weight", "data"):
                nnz = int(np.count_nonzero(arr))
                total_syn += nnz
                params.append(f"{field}: {nnz} synapses in [{arr.min():.4g}, {arr.max():.4g}]")
            elif field in ("indices", "indptr", "shape"):
                continue
            elif arr.size == 1 or np.all(arr == arr.flat[0]):
                params.append(f"{field}={arr.flat[0]:.4g}")
            else:
                params.append(f"{field}=[{arr.min():.4g}..{arr.max():.4g}]")
        role = population_model(node)
        if isinstance(node, nir.NIRGraph):
            params.append(f"subgraph of {len(node.nodes)} nodes")
        tag = f" ({role})" if role not in (None, "input") else ""
        lines.append(f"{name:<28} {kind + tag:<26} {size:>8}  {', '.join(params)}")
    lines.append(f"{len(graph.nodes)} nodes, {len(graph.edges)} edges, {total_syn} synapses (non-zero weights)")
    lines += _edge_lines(graph)
    lines += _recorded_lines(graph)
    return "\n".join(lines)


#: ``neuroport info`` lists at most this many edges (a summary line counts the rest).
MAX_EDGES_SHOWN = 60


def _edge_lines(graph) -> list:
    """``edges:`` and one ``source -> target`` line per edge (the first :data:`MAX_EDGES_SHOWN`)."""
    edges = list(graph.edges)
    if not edges:
        return ["edges: none"]
    lines = ["edges:"] + [f"  {a} -> {b}" for a, b in edges[:MAX_EDGES_SHOWN]]
    if len(edges) > MAX_EDGES_SHOWN:
        lines.append(f"  ... and {len(edges) - MAX_EDGES_SHOWN} more")
    return lines


def _recorded_lines(graph) -> list:
    """What the file records for compiling and running: options (dt in s, scheme, reset, timing), probes, rest."""
    meta = {str(k): v for k, v in (graph.metadata or {}).items() if str(k).startswith("neuroport.")}
    options, probes, other = [], None, []
    for key, value in meta.items():
        short = key.split(".", 1)[1]
        if isinstance(value, bytes):
            value = value.decode(errors="replace")
        if short == "dt":
            try:
                options.append(f"dt={float(np.asarray(value).item()):g} s")
            except (TypeError, ValueError):
                options.append(f"dt={value!r} (not a number)")
        elif short in ("scheme", "reset", "timing"):
            options.append(f"{short}={value}")
        elif short == "probes":
            try:
                probes = ", ".join(f"{p}.{v}" for p, v in json.loads(str(value)))
            except (ValueError, TypeError):
                probes = f"{str(value)[:80]!r} (not readable)"
        else:
            text = str(value)
            other.append(f"{short}={text[:60] + '...' if len(text) > 60 else text}")
    lines = ["recorded options: " + (", ".join(options) if options else
                                     "none (give --dt, or write the file with neuroport.write(..., options={'dt': ...}))")]
    if probes is not None:
        lines.append(f"recorded probes: {probes or 'none'}")
    if other:
        lines.append("recorded metadata: " + ", ".join(other))
    return lines


def suggest(graph, nir_version: str | None = None, path: str = "FILE") -> list:
    """Lines naming the import profile the graph's exporter fingerprints point to."""
    found = profiles.detect(graph, nir_version=nir_version)
    if not found:
        return []
    name, why = found[0]
    lines = [f"looks exported by {name}: {why}", f"  suggested: neuroport run {path} --profile {name} "
             f"(neuroport.compile(graph, profile={name!r}))"]
    lines += [f"  also possible: {n} ({w})" for n, w in found[1:]]
    return lines


def _file_version(path) -> str | None:
    """The nir version the file was written with (its root ``version`` attribute or dataset)."""
    try:
        with h5py.File(path, "r") as f:
            raw = f.attrs.get("version", f["version"][()] if "version" in f else None)
    except (OSError, KeyError):
        return None
    return raw.decode() if isinstance(raw, bytes) else (None if raw is None else str(raw))


def run(args) -> int:
    graph = neuroport.read(args.file)
    text = describe(graph)
    version = _file_version(args.file)
    if version:
        text += f"\nwritten by nir {version}"
    lines = suggest(graph, version, args.file)
    print("\n".join([text] + lines))
    return 0
