"""Text for ``neuroport run --backend loihi2 --dry-run`` (helper; ``run.py`` wires it).

Usage from the ``run`` command::

    from neuroport.commands.run_dry import format_dry_run
    print(format_dry_run(backend.dry_run(program)))
"""

from __future__ import annotations


def format_dry_run(summary: dict) -> str:
    """Human-readable lines for the dict returned by ``Loihi2Backend.dry_run``.

    Examples
    --------
    >>> print(format_dry_run({"backend": "loihi2", "available": False, "reason": "no chip",
    ...                       "processes": 4, "process_counts": {"LIF": 1, "Dense": 1},
    ...                       "groups": {"lif": 1}, "built": False, "mapping": None}))
    backend loihi2: unavailable here (no chip)
    Lava processes: 4 (LIF 1, Dense 1); built without running: no
    LIF processes per population: lif 1
    mapping: not computed
    """
    lines = []
    state = "available" if summary.get("available") else f"unavailable here ({summary.get('reason', '')})"
    lines.append(f"backend {summary.get('backend', 'loihi2')}: {state}")
    counts = ", ".join(f"{k} {v}" for k, v in summary.get("process_counts", {}).items() if v)
    lines.append(f"Lava processes: {summary.get('processes', 0)} ({counts}); "
                 f"built without running: {'yes' if summary.get('built') else 'no'}")
    groups = summary.get("groups", {})
    if groups:
        lines.append("LIF processes per population: " + ", ".join(f"{k} {v}" for k, v in groups.items()))
    mapping = summary.get("mapping")
    if mapping is None:
        lines.append("mapping: not computed")
    elif hasattr(mapping, "to_table"):
        lines.append(mapping.to_table())
    else:
        lines.append(f"mapping: {mapping}")
    return "\n".join(lines)
