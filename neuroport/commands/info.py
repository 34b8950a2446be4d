"""``neuroport info FILE.nir``: nodes, sizes, synapse counts and parameter ranges."""

from __future__ import annotations

import h5py
import nir
import numpy as np

import neuroport
from neuroport import profiles
from neuroport.structure import population_model


def register(sub) -> None:
    p = sub.add_parser("info", help="describe a .nir file: nodes, sizes, synapses, parameter ranges",
                       description="Print every node of a NIR graph with its type, size and the range of "
                                   "each parameter, and the synapse count of every weight node.")
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
    meta = {k: v for k, v in (graph.metadata or {}).items() if str(k).startswith("neuroport.")}
    if meta:
        lines.append("recorded: " + ", ".join(f"{k.split('.', 1)[1]}={v}" for k, v in meta.items()))
    return "\n".join(lines)


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
