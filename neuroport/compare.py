"""Equivalence metrics between two Results of the same network, and the equivalence criteria (:data:`THRESHOLDS`).

:func:`compare` measures; :func:`criteria` judges. All spike metrics work on
the step grid (``SpikeTrain.steps``); times and rates are converted with the
Results' ``dt``.

Metrics, per population (both Results must have the same populations/sizes):

* spike count and mean rate (Hz) of each side;
* **matched fraction within +-k steps**: for every neuron, spikes of ``a``
  are paired greedily (in time order, each to the earliest still unpaired
  spike of ``b`` within ``k`` steps), one to one. ``match_ab`` = paired /
  spikes of ``a``, ``match_ba`` likewise with the roles swapped, ``match``
  = the smaller (1.0 when neither side spiked);
* **van Rossum distance** with time constant ``tau`` (s): each train is
  filtered with ``f[t] = f[t-1] exp(-dt/tau) + s[t]`` and
  ``D = sqrt(dt/tau * sum_t (f_a[t] - f_b[t])^2)`` summed over the run; the
  report gives the mean of ``D`` over neurons (one lone spike against
  nothing gives about ``1/sqrt(2)``);
* **ISI CV**: per neuron with >= 3 spikes ``std(isi) / mean(isi)`` (ddof 0),
  averaged over those neurons (NaN when none);
* **first divergence**: the first step at which the sets of spiking neurons
  differ (``None`` when the trains are identical).

Per probed state present in both Results: max absolute difference and max
relative difference ``max|a - b| / max(max|a|, max|b|)`` (relative to the
state's scale, so zero crossings do not blow it up).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.signal import lfilter

from neuroport import backend as registry
from neuroport.errors import InputError
from neuroport.result import require_unbatched
from neuroport.timing import align

__all__ = ["PopulationMetrics", "StateMetrics", "EquivalenceReport", "compare", "criteria",
           "matched_fraction", "van_rossum", "isi_cv", "first_divergence", "is_recurrent", "mode_kind",
           "THRESHOLDS"]


# --------------------------------------------------------------------------- metrics
def _match_count(x: np.ndarray, y: np.ndarray, k: int) -> int:
    """Greedy one-to-one pairing of sorted step arrays within +-k; number of pairs."""
    i = j = pairs = 0
    while i < x.size and j < y.size:
        if y[j] < x[i] - k:
            j += 1
        elif y[j] > x[i] + k:
            i += 1
        else:
            pairs += 1
            i += 1
            j += 1
    return pairs


def _per_neuron(train) -> list:
    order = np.lexsort((train.steps, train.neurons))
    steps, neurons = train.steps[order], train.neurons[order]
    bounds = np.searchsorted(neurons, np.arange(train.size + 1))
    return [steps[bounds[n]:bounds[n + 1]] for n in range(train.size)]


def matched_fraction(a, b, k: int = 1) -> tuple[float, float]:
    """``(match_ab, match_ba)`` for two SpikeTrains of one population (see module doc).

    Examples
    --------
    >>> import numpy as np
    >>> from neuroport.result import SpikeTrain
    >>> a = SpikeTrain(np.array([10, 50, 90]), np.array([0, 0, 1]), size=2, num_steps=100)
    >>> b = SpikeTrain(np.array([11, 70, 90]), np.array([0, 0, 1]), size=2, num_steps=100)

    >>> from neuroport.compare import matched_fraction
    >>> matched_fraction(a, b, k=1)          # 10~11 and 90 match; 50 and 70 do not
    (0.6666666666666666, 0.6666666666666666)
    >>> matched_fraction(a, b, k=0)          # only the spike at step 90 coincides exactly
    (0.3333333333333333, 0.3333333333333333)
    """
    _same_shape(a, b)
    pa, pb = _per_neuron(a), _per_neuron(b)
    pairs = sum(_match_count(x, y, k) for x, y in zip(pa, pb))
    fab = pairs / a.count if a.count else (1.0 if b.count == 0 else 0.0)
    fba = pairs / b.count if b.count else (1.0 if a.count == 0 else 0.0)
    return float(fab), float(fba)


def _dense(train, neurons=None) -> np.ndarray:
    cols = np.arange(train.size) if neurons is None else neurons
    out = np.zeros((train.num_steps, cols.size))
    sel = np.isin(train.neurons, cols)
    pos = np.searchsorted(cols, train.neurons[sel])
    np.add.at(out, (train.steps[sel], pos), 1.0)
    return out


def van_rossum(a, b, *, tau: float, dt: float) -> np.ndarray:
    """Van Rossum distance per neuron (shape ``(size,)``), on the step grid.

    Examples
    --------
    >>> import numpy as np
    >>> from neuroport.result import SpikeTrain
    >>> a = SpikeTrain(np.array([10, 50, 90]), np.array([0, 0, 1]), size=2, num_steps=100)
    >>> b = SpikeTrain(np.array([11, 70, 90]), np.array([0, 0, 1]), size=2, num_steps=100)

    >>> from neuroport.compare import van_rossum
    >>> d = van_rossum(a, b, tau=0.01, dt=1e-3)
    >>> d.shape, float(d[1])                 # neuron 1's trains are identical
    ((2,), 0.0)
    >>> bool(d[0] > van_rossum(a, a, tau=0.01, dt=1e-3)[0])
    True
    """
    _same_shape(a, b)
    if not tau > 0:
        raise InputError(f"van Rossum tau: expected > 0 s, got {tau}")
    decay = math.exp(-dt / tau)
    out = np.zeros(a.size)
    block = max(1, int(4_000_000 // max(1, a.num_steps)))
    for start in range(0, a.size, block):
        cols = np.arange(start, min(a.size, start + block))
        diff = _dense(a, cols) - _dense(b, cols)
        filtered = lfilter([1.0], [1.0, -decay], diff, axis=0)
        out[cols] = np.sqrt(dt / tau * np.sum(filtered ** 2, axis=0))
    return out


def isi_cv(train) -> float:
    """Mean ISI coefficient of variation over neurons with >= 3 spikes (NaN if none).

    Examples
    --------
    >>> import numpy as np
    >>> from neuroport.result import SpikeTrain
    >>> from neuroport.compare import isi_cv
    >>> regular = SpikeTrain(np.array([0, 10, 20, 30]), np.zeros(4, int), size=1, num_steps=40)
    >>> irregular = SpikeTrain(np.array([0, 2, 20, 30]), np.zeros(4, int), size=1, num_steps=40)
    >>> isi_cv(regular), round(isi_cv(irregular), 3)          # ISIs 2, 18, 10: std / mean = 6.532 / 10
    (0.0, 0.653)
    >>> isi_cv(SpikeTrain(np.array([5]), np.zeros(1, int), size=1, num_steps=40))   # fewer than 3 spikes
    nan
    """
    cvs = []
    for steps in _per_neuron(train):
        if steps.size >= 3:
            isi = np.diff(steps).astype(np.float64)
            cvs.append(isi.std() / isi.mean())
    return float(np.mean(cvs)) if cvs else math.nan


def first_divergence(a, b) -> int | None:
    """First step where the two trains' spiking neurons differ, ``None`` if identical.

    Examples
    --------
    >>> import numpy as np
    >>> from neuroport.result import SpikeTrain
    >>> a = SpikeTrain(np.array([10, 50, 90]), np.array([0, 0, 1]), size=2, num_steps=100)
    >>> b = SpikeTrain(np.array([11, 70, 90]), np.array([0, 0, 1]), size=2, num_steps=100)

    >>> from neuroport.compare import first_divergence
    >>> first_divergence(a, b), first_divergence(a, a)
    (10, None)
    """
    _same_shape(a, b)
    ka = set(zip(a.steps.tolist(), a.neurons.tolist()))
    kb = set(zip(b.steps.tolist(), b.neurons.tolist()))
    diff = ka ^ kb
    return min(s for s, _ in diff) if diff else None


def _same_shape(a, b) -> None:
    if a.size != b.size:
        raise InputError(f"spike trains of different sizes: {a.size} vs {b.size} neurons")
    if a.num_steps != b.num_steps:
        raise InputError(f"spike trains of different lengths: {a.num_steps} vs {b.num_steps} steps")


# --------------------------------------------------------------------------- report
@dataclass
class PopulationMetrics:
    count_a: int
    count_b: int
    rate_a_hz: float
    rate_b_hz: float
    match_ab: float
    match_ba: float
    match: float
    van_rossum: float
    cv_a: float
    cv_b: float
    first_divergence: int | None


@dataclass
class StateMetrics:
    max_abs: float
    max_rel: float


@dataclass
class EquivalenceReport:
    """Metrics between Result ``a`` (the reference) and Result ``b``.

    ``populations`` maps population name -> :class:`PopulationMetrics`
    (inputs left out); ``states`` maps ``"pop.var"`` -> :class:`StateMetrics`.
    """

    a: str
    b: str
    dt: float
    num_steps: int
    k: int
    tau: float
    populations: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)

    @property
    def pair(self) -> str:
        return f"{self.a} vs {self.b}"

    @property
    def first_divergence(self) -> int | None:
        steps = [m.first_divergence for m in self.populations.values() if m.first_divergence is not None]
        return min(steps) if steps else None

    @property
    def spikes_identical(self) -> bool:
        return self.first_divergence is None

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "dt": self.dt, "num_steps": self.num_steps, "k": self.k,
                "tau": self.tau, "first_divergence": self.first_divergence,
                "populations": {n: _clean(asdict(m)) for n, m in self.populations.items()},
                "states": {n: _clean(asdict(m)) for n, m in self.states.items()}}

    def __str__(self) -> str:
        lines = [f"{self.pair}: {self.num_steps} steps of {self.dt:g} s, "
                 f"first divergence {self.first_divergence if not self.spikes_identical else 'none'}"]
        lines.append(f"  {'population':<16}{'spikes a':>10}{'spikes b':>10}{'rate a Hz':>11}{'rate b Hz':>11}"
                     f"{f'match+-{self.k}':>10}{'vR dist':>9}{'CV a':>7}{'CV b':>7}")
        for name, m in self.populations.items():
            lines.append(f"  {name:<16}{m.count_a:>10}{m.count_b:>10}{m.rate_a_hz:>11.3f}{m.rate_b_hz:>11.3f}"
                         f"{m.match:>10.2%}{m.van_rossum:>9.3f}{m.cv_a:>7.3f}{m.cv_b:>7.3f}")
        for name, s in self.states.items():
            lines.append(f"  state {name}: max abs diff {s.max_abs:.3g}, max rel diff {s.max_rel:.3g}")
        return "\n".join(lines)


def _clean(d: dict) -> dict:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}


def compare(a, b, *, k: int = 1, tau: float | None = None, populations=None,
            inputs: tuple = ()) -> EquivalenceReport:
    """Equivalence metrics of Result ``b`` against reference Result ``a``.

    Parameters
    ----------
    a, b : Result
        Two runs of the same network (same populations, sizes, steps, dt). A run of
        an ideal-timing Program on pipelined hardware (``Result.meta["latency"]``,
        :func:`neuroport.timing.compensate`) is shifted back by each population's
        latency first, and both are cut to the steps both cover
        (:func:`neuroport.timing.align`); ``report.num_steps`` says how many.
    k : int
        Tolerance in steps for the spike matching.
    tau : float, optional
        Van Rossum time constant in s (default ``max(10 * dt, 0.01)``).
    populations : iterable of str, optional
        Default: every population in both Results except ``inputs``.
    inputs : tuple of str
        Populations to leave out (the inputs, identical by construction).

    Examples
    --------
    >>> from neuroport.backends.base import Result, SpikeTrain
    >>> import numpy as np
    >>> t = lambda s: {"p": SpikeTrain(np.array(s), np.zeros(len(s), int), 1, 100)}
    >>> rep = compare(Result("x", 1e-3, 100, t([10, 50])), Result("y", 1e-3, 100, t([11, 60])))
    >>> rep.populations["p"].match
    0.5
    """
    require_unbatched(a, "compare")
    require_unbatched(b, "compare")
    if a.num_steps != b.num_steps:
        raise InputError(f"Results of different lengths: {a.backend} ran {a.num_steps} steps, "
                         f"{b.backend} ran {b.num_steps}")
    if not math.isclose(a.dt, b.dt, rel_tol=1e-12):
        raise InputError(f"Results with different dt: {a.dt} vs {b.dt}")
    a, b = align(a, b)
    dt = a.dt
    tau = max(10 * dt, 0.01) if tau is None else float(tau)
    names = [n for n in a.spikes if n in b.spikes and n not in inputs] if populations is None else list(populations)
    report = EquivalenceReport(a.backend, b.backend, dt, a.num_steps, int(k), tau)
    for name in names:
        ta, tb = a.spikes[name], b.spikes[name]
        fab, fba = matched_fraction(ta, tb, k)
        vr = van_rossum(ta, tb, tau=tau, dt=dt)
        report.populations[name] = PopulationMetrics(
            ta.count, tb.count, ta.rate_hz(dt), tb.rate_hz(dt), fab, fba, min(fab, fba),
            float(vr.mean()) if vr.size else 0.0, isi_cv(ta), isi_cv(tb), first_divergence(ta, tb))
    for pop, variables in a.states.items():
        for var, xa in variables.items():
            xb = b.states.get(pop, {}).get(var)
            if xb is None or np.shape(xa) != np.shape(xb):
                continue
            xa64, xb64 = np.asarray(xa, np.float64), np.asarray(xb, np.float64)
            diff = float(np.max(np.abs(xa64 - xb64))) if xa64.size else 0.0
            scale = max(float(np.max(np.abs(xa64))) if xa64.size else 0.0,
                        float(np.max(np.abs(xb64))) if xb64.size else 0.0)
            report.states[f"{pop}.{var}"] = StateMetrics(diff, diff / scale if scale > 0 else 0.0)
    return report


# --------------------------------------------------------------------------- criteria
#: The stated equivalence bounds (docs/brian2.md tabulates the NIR pairs against them). Fixed vs float is "reported, not
#: assumed"; its bounds are deliberately loose sanity limits.
THRESHOLDS = {
    "nir.feedforward.match": 0.99,  # brian2 vs a discrete backend: spikes within +-1 step
    "nir.recurrent.rate": 0.05,  # relative rate difference per population
    "nir.recurrent.cv": 0.10,  # relative ISI CV difference per population
    "float.state_rel": 1e-9,  # numpy vs lava float
    "quant.match": 0.80,  # fixed vs float, feed-forward: spikes within +-1 step
    "quant.rate": 0.20,  # fixed vs float: relative rate difference
}


def mode_kind(name: str) -> str:
    """``"nir"``, ``"float"`` or ``"fixed"`` for a backend mode (by its declared level).

    Examples
    --------
    >>> from neuroport.compare import mode_kind
    >>> [mode_kind(name) for name in ("numpy", "numpy-fixed", "lava-fixed", "brian2")]
    ['float', 'fixed', 'fixed', 'nir']
    """
    try:
        level = registry.get(name).level
    except Exception:  # an unregistered name: guess from the name
        level = "fixed" if ("fixed" in name or "loihi" in name) else ("nir" if "brian" in name else "discrete")
    return {"nir": "nir", "discrete": "float", "fixed": "fixed"}.get(level, "float")


def is_recurrent(program) -> bool:
    """True when a projection is marked ``recurrent`` or the population graph has a cycle.

    Examples
    --------
    >>> import neuroport
    >>> from neuroport.compare import is_recurrent
    >>> net = neuroport.Network()
    >>> x = net.input(2, name="x")
    >>> y = net.population(2, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
    >>> _ = net.connect(x, y, weight=1.0)
    >>> is_recurrent(net.compile(dt=1e-3))
    False
    >>> _ = net.connect(y, y, weight=0.1)
    >>> is_recurrent(net.compile(dt=1e-3))
    True
    """
    if program is None:
        return False
    succ = {}
    for p in program.projections:
        if p.extra.get("recurrent"):
            return True
        succ.setdefault(p.pre, set()).add(p.post)
    state = {}

    def dfs(n) -> bool:
        state[n] = 1
        for m in succ.get(n, ()):
            if state.get(m) == 1 or (state.get(m) is None and dfs(m)):
                return True
        state[n] = 2
        return False

    return any(state.get(n) is None and dfs(n) for n in list(succ))


def _rel(x: float, ref: float) -> float:
    if math.isnan(x) or math.isnan(ref):
        return math.nan
    if ref == 0:
        return 0.0 if x == 0 else math.inf
    return abs(x - ref) / abs(ref)


def _row(pair, criterion, value, threshold, ok) -> dict:
    status = "SKIP" if ok is None else ("PASS" if ok else "FAIL")
    return {"pair": pair, "criterion": criterion, "value": value, "threshold": threshold, "status": status}


def criteria(report: EquivalenceReport, *, program=None, recurrent: bool | None = None,
             kinds: tuple | None = None) -> list:
    """Judge a report by the equivalence criteria (:data:`THRESHOLDS`); one row per criterion and population.

    Parameters
    ----------
    report : EquivalenceReport
        From :func:`compare` (``a`` is the reference).
    program : Program, optional
        Used to decide whether the network is recurrent (see :func:`is_recurrent`).
    recurrent : bool, optional
        Overrides the detection.
    kinds : (str, str), optional
        Kinds of ``a`` and ``b`` (``"nir"``, ``"float"``, ``"fixed"``); default from
        the backends' declared levels (:func:`mode_kind`).

    Returns
    -------
    list of dict
        Keys ``pair``, ``criterion``, ``value``, ``threshold``, ``status``
        (``"PASS"``, ``"FAIL"``, or ``"SKIP"`` when a statistic cannot be
        computed, e.g. an ISI CV with fewer than 3 spikes per neuron).

    Examples
    --------
    >>> import numpy as np
    >>> from neuroport.result import SpikeTrain
    >>> a = SpikeTrain(np.array([10, 50, 90]), np.array([0, 0, 1]), size=2, num_steps=100)
    >>> b = SpikeTrain(np.array([11, 70, 90]), np.array([0, 0, 1]), size=2, num_steps=100)

    >>> from neuroport.result import Result
    >>> from neuroport.compare import compare, criteria
    >>> reference = Result("numpy", 1e-3, 100, {"p": a})
    >>> report = compare(reference, Result("brian2", 1e-3, 100, {"p": b}))
    >>> rows = criteria(report, recurrent=False)    # brian2 vs numpy, feed-forward: spikes within +-1 step
    >>> [(row["criterion"], round(row["value"], 3), row["threshold"], row["status"]) for row in rows]
    [('p spikes matched +-1 step', 0.667, 0.99, 'FAIL')]
    >>> [row["status"] for row in criteria(compare(reference, Result("numpy", 1e-3, 100, {"p": a})))]
    ['PASS']
    """
    ka, kb = kinds or (mode_kind(report.a), mode_kind(report.b))
    rec = is_recurrent(program) if recurrent is None else bool(recurrent)
    pair, rows, T = report.pair, [], THRESHOLDS
    pops = report.populations
    if ka == kb and ka in ("fixed", "float"):
        # fixed vs fixed: bit-identical; float vs float: identical spikes + states to 1e-9
        first = report.first_divergence
        rows.append(_row(pair, "identical spikes (first divergent step)", first if first is not None else "none",
                         "none", first is None))
        for name, s in report.states.items():
            if ka == "fixed":
                rows.append(_row(pair, f"{name} bit-identical (max abs diff)", s.max_abs, 0, s.max_abs == 0))
            else:
                rows.append(_row(pair, f"{name} max rel diff", s.max_rel, T["float.state_rel"],
                                 s.max_rel <= T["float.state_rel"]))
        return rows
    if "nir" in (ka, kb) and "fixed" not in (ka, kb):
        if not rec:
            for name, m in pops.items():
                rows.append(_row(pair, f"{name} spikes matched +-{report.k} step", m.match,
                                 T["nir.feedforward.match"], m.match >= T["nir.feedforward.match"]))
        else:
            for name, m in pops.items():
                r = _rel(m.rate_b_hz, m.rate_a_hz)
                rows.append(_row(pair, f"{name} rate rel diff", r, T["nir.recurrent.rate"],
                                 r <= T["nir.recurrent.rate"]))
                c = _rel(m.cv_b, m.cv_a)
                rows.append(_row(pair, f"{name} ISI CV rel diff", c, T["nir.recurrent.cv"],
                                 None if math.isnan(c) else c <= T["nir.recurrent.cv"]))
        return rows
    # quantization: fixed vs float (or fixed vs brian2): reported with loose bounds
    for name, m in pops.items():
        if not rec:
            rows.append(_row(pair, f"{name} spikes matched +-{report.k} step (quantization)", m.match,
                             T["quant.match"], m.match >= T["quant.match"]))
        r = _rel(m.rate_b_hz, m.rate_a_hz)
        rows.append(_row(pair, f"{name} rate rel diff (quantization)", r, T["quant.rate"], r <= T["quant.rate"]))
    return rows


def format_rows(rows: list) -> str:
    """A fixed-width table of criteria rows."""
    def fmt(v):
        if isinstance(v, float):
            return "nan" if math.isnan(v) else f"{v:.4g}"
        return str(v)

    header = ("pair", "criterion", "value", "threshold", "status")
    table = [header] + [tuple(fmt(r[h]) for h in header) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table)
