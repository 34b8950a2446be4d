"""``neuroport.check``: run one network on several backends and judge them against a reference.

Every backend gets the same seeded Poisson input and the Program of its own
level (:func:`neuroport.api.prepare`: float for ``numpy``/``lava``, quantized
for fixed-point modes, the graph for ``brian2``). Each Result is compared with
the reference's (:func:`neuroport.compare.compare`) and judged by the
equivalence criteria (:func:`neuroport.compare.criteria`, bounds in ``neuroport.compare.THRESHOLDS``). A backend that raises is
recorded as a FAIL row with its error message; the check never crashes on it.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from neuroport import backend as registry
from neuroport.api import prepare
from neuroport.compare import EquivalenceReport, compare, criteria, format_rows
from neuroport.compile import compile as compile_graph
from neuroport.encoders import poisson
from neuroport.errors import UnsupportedNodeError

__all__ = ["CheckReport", "check", "poisson_inputs"]


@dataclass
class CheckReport:
    """Outcome of :func:`check`.

    Attributes
    ----------
    rows : list of dict
        Criteria rows (``pair``, ``criterion``, ``value``, ``threshold``,
        ``status`` in PASS / FAIL / SKIP).
    results : dict[str, Result]
        By backend mode, for the backends that ran.
    reports : dict[str, EquivalenceReport]
        By backend mode (each against the reference).
    reference : str
    notes : list of str
        Skipped backends and warnings seen during the runs.
    """

    rows: list = field(default_factory=list)
    results: dict = field(default_factory=dict)
    reports: dict = field(default_factory=dict)
    reference: str = ""
    notes: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(r["status"] == "FAIL" for r in self.rows)

    @property
    def failing_pairs(self) -> list:
        out = []
        for r in self.rows:
            if r["status"] == "FAIL" and r["pair"] not in out:
                out.append(r["pair"])
        return out

    def to_dict(self) -> dict:
        return {"reference": self.reference, "passed": self.passed, "failing_pairs": self.failing_pairs,
                "rows": [{k: _json_value(v) for k, v in r.items()} for r in self.rows],
                "reports": {n: _json_tree(rep.to_dict()) for n, rep in self.reports.items()},
                "spike_counts": {n: res.spike_counts() for n, res in self.results.items()},
                "notes": list(self.notes)}

    def __str__(self) -> str:
        lines = [format_rows(self.rows)] if self.rows else ["(no comparisons: fewer than two backends ran)"]
        lines += [f"note: {n}" for n in self.notes]
        lines.append("PASS" if self.passed else f"FAIL: {', '.join(self.failing_pairs)}")
        return "\n".join(lines)


def _json_value(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, np.generic):
        return v.item()
    return v


def _json_tree(d):
    if isinstance(d, dict):
        return {k: _json_tree(v) for k, v in d.items()}
    return _json_value(d)


def poisson_inputs(program, *, steps: int, rate_hz: float, seed: int) -> dict:
    """One seeded Poisson array ``(steps, size)`` per input population (seed + index)."""
    out = {}
    for i, name in enumerate(program.inputs):
        size = program.populations[name].size
        out[name] = np.asarray(poisson([rate_hz] * size, steps=steps, dt=program.dt, seed=seed + i))
    return out


def check(graph, *, dt: float | None = None, steps: int, backends=None, input_rate_hz: float = 20.0,
          seed: int = 0, timing: str = "hardware", scheme: str | None = None, reset: str | None = None,
          profile: str | None = None, reference: str | None = None, k: int = 1, tau: float | None = None,
          probes=(), progress: bool = True) -> CheckReport:
    """Run ``graph`` on several backends with one Poisson input and compare each with a reference.

    Parameters
    ----------
    graph : nir.NIRGraph or Network
    dt : float, optional
        Time step in s (required unless the graph records it or ``profile`` states it).
    steps : int
    backends : list of str, optional
        Modes to run; default every available one (those that cannot run
        this ``timing`` are skipped with a note).
    input_rate_hz : float
        Poisson rate of every input neuron (Hz).
    seed : int
        Seed of the input (``seed + i`` for the i-th input population).
    timing, scheme, reset, profile
        Compile options (see :func:`neuroport.compile`).
    reference : str, optional
        Mode the others are compared with (default ``numpy`` when listed,
        else the first).
    k, tau
        Spike-matching tolerance (steps) and van Rossum tau (s).
    probes : iterable of (population, variable)
        States to record and compare.
    progress : bool
        One line per backend on stderr.

    Returns
    -------
    CheckReport

    Examples
    --------
    >>> report = check(graph, dt=1e-3, steps=500, backends=["numpy", "brian2"])  # doctest: +SKIP
    >>> report.passed                                                             # doctest: +SKIP
    True
    """
    if hasattr(graph, "to_nir"):
        graph = graph.to_nir()
    explicit = backends is not None
    names = list(backends) if explicit else registry.available_names()
    if not names:
        raise ValueError("check: no backends to run")
    ref_name = reference or ("numpy" if "numpy" in names else names[0])
    if ref_name not in names:
        names.insert(0, ref_name)
    names.sort(key=lambda n: n != ref_name)
    base = compile_graph(graph, dt=dt, scheme=scheme, reset=reset, timing=timing, profile=profile,
                         probes=tuple(probes))
    inputs = poisson_inputs(base, steps=steps, rate_hz=input_rate_hz, seed=seed)
    report = CheckReport(reference=ref_name)
    errors = {}
    for i, name in enumerate(names):
        t0 = time.perf_counter()
        try:
            be = registry.get(name)
            ok, reason = be.available()
            if not ok:
                raise RuntimeError(f"unavailable: {reason}")
            if not explicit and base.timing not in be.timings:
                report.notes.append(f"{name} skipped: supports timing {', '.join(be.timings)} only")
                _say(progress, f"check: [{i + 1}/{len(names)}] {name}: skipped (timing {base.timing})")
                continue
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                program = prepare(graph, be, dt=dt, scheme=scheme, reset=reset, timing=timing, profile=profile,
                                  probes=tuple(probes))
                result = be.run(program, steps=steps, inputs=inputs, probes=tuple(probes), progress=False,
                                seed=seed)
            ours = [w for w in seen if type(w.message).__module__.startswith("neuroport")]
            if ours:
                kinds = sorted({type(w.message).__name__ for w in ours})
                report.notes.append(f"{name}: {len(ours)} warning(s) ({', '.join(kinds)}): {ours[0].message}")
            report.results[name] = result
            n_spk = sum(c for p, c in result.spike_counts().items() if p not in base.inputs)
            _say(progress, f"check: [{i + 1}/{len(names)}] {name}: {time.perf_counter() - t0:.2f} s, "
                           f"{n_spk} spikes")
        except UnsupportedNodeError as exc:
            if explicit:
                errors[name] = f"{type(exc).__name__}: {exc}"
            else:  # chosen by default: a backend that cannot lower this network is skipped, not failed
                report.notes.append(f"{name} skipped: {exc}")
            _say(progress, f"check: [{i + 1}/{len(names)}] {name}: cannot run this network ({exc})")
        except Exception as exc:  # a failing backend is a FAIL row, not a crash
            errors[name] = f"{type(exc).__name__}: {exc}"
            _say(progress, f"check: [{i + 1}/{len(names)}] {name}: FAILED ({errors[name]})")
    ref = report.results.get(ref_name)
    for name in names:
        if name == ref_name:
            continue
        pair = f"{ref_name} vs {name}"
        if name in errors or ref is None:
            msg = errors.get(name) or f"reference failed: {errors.get(ref_name, 'did not run')}"
            report.rows.append({"pair": pair, "criterion": "run", "value": msg, "threshold": "-", "status": "FAIL"})
            continue
        if name not in report.results:
            continue
        rep: EquivalenceReport = compare(ref, report.results[name], k=k, tau=tau, inputs=tuple(base.inputs))
        report.reports[name] = rep
        report.rows.extend(criteria(rep, program=base))
    # fixed-point backends are also held to the bit-exact criterion against numpy-fixed
    fixed_ref = report.results.get("numpy-fixed")
    if fixed_ref is not None and ref_name != "numpy-fixed":
        for name in names:
            if name in ("numpy-fixed", ref_name) or name not in report.results:
                continue
            if registry.get(name).level != "fixed":
                continue
            rep = compare(fixed_ref, report.results[name], k=k, tau=tau, inputs=tuple(base.inputs))
            report.reports[f"numpy-fixed vs {name}"] = rep
            report.rows.extend(criteria(rep, program=base))
    if ref is None and len(names) == 1:
        report.rows.append({"pair": ref_name, "criterion": "run", "value": errors.get(ref_name, "did not run"),
                            "threshold": "-", "status": "FAIL"})
    return report


def _say(progress: bool, line: str) -> None:
    if progress:
        print(line, file=sys.stderr, flush=True)
