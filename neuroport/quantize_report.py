"""The reports of :func:`neuroport.quantize.quantize` and :func:`fidelity` (float vs fixed spikes).

Everything here is importable from :mod:`neuroport.quantize` as well.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from neuroport import backend as registry
from neuroport.errors import QuantizationError, QuantizationWarning
from neuroport.hardware import LOIHI2, HardwareSpec
from neuroport.program import Program

__all__ = ["ParamEntry", "PopulationBound", "QuantizationReport", "FidelityReport", "fidelity", "match_spikes",
           "weight_loss", "MAX_WEIGHTS_ZEROED", "MAX_WEIGHT_SUM_ERROR"]


# ------------------------------------------------------------------ report
#: Default loss thresholds of one projection's weights (``quantize(max_weights_zeroed=..., max_weight_sum_error=...)``):
#: above either, the projection is a loss (a QuantizationWarning; strict mode raises).
MAX_WEIGHTS_ZEROED = 0.10
MAX_WEIGHT_SUM_ERROR = 0.05


def weight_loss(x, back) -> tuple:
    """``(zeroed_fraction, sum_error)`` of one projection's weights ``x`` (float) and what runs, ``back``.

    ``zeroed_fraction``: non-zero weights that became 0, over the non-zero
    weights (0 when there are none). ``sum_error``: ``|sum(back) - sum(x)| /
    sum(|x|)``, the error of the total weight relative to its magnitude (the
    sum of magnitudes, so that mixed signs cancelling to ~0 do not divide by ~0).
    """
    x = np.asarray(x, dtype=float)
    back = np.asarray(back, dtype=float)
    nz = x != 0
    if not nz.any():
        return 0.0, 0.0
    zeroed = float(np.count_nonzero(nz & (back == 0)) / np.count_nonzero(nz))
    return zeroed, float(abs(back.sum() - x.sum()) / np.abs(x).sum())


def _finite_max(a) -> float:
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    return float(np.max(np.abs(a))) if a.size else 0.0


class ParamEntry:
    """One quantized field of one population or projection.

    Attributes
    ----------
    kind : {"population", "projection"}
    owner, field : str
    scale : float
        Integer units per float unit of this field.
    range : (int, int)
        Inclusive hardware range of the stored integers.
    bits : int
        Bits the largest stored magnitude uses (sign included for signed ranges).
    count : int
    max_abs : float
        Largest ``|value|`` in float units.
    max_abs_error, max_rel_error : float
        Of ``float -> fixed -> float`` (relative: over non-zero values; ``inf``
        when a zero became non-zero).
    clipped, underflow : int
        Values clamped into the range / non-zero values that became 0. A
        clipped value is always a loss; an underflow is one for decays and
        thresholds (the dynamics change), and for weights only when every
        non-zero weight of the projection vanished (otherwise it is the
        rounding of an 8-bit mantissa, within half a step).
    zeroed_fraction, sum_error : float
        Weights of a non-plastic projection only (:func:`weight_loss`): the
        fraction of non-zero weights that became 0, and the error of the
        weight sum relative to the sum of magnitudes. Above the thresholds
        (:data:`MAX_WEIGHTS_ZEROED`, :data:`MAX_WEIGHT_SUM_ERROR` by default)
        the entry is a loss.
    losses : list of str
        Loss reasons beyond clipping and underflow (the thresholds above).
    clipped_index, clipped_values, underflow_index, underflow_values : numpy.ndarray
        Every one of them (indices into the field's flat array, float values).
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    @classmethod
    def build(cls, owner, field, x, back, ints, scale, rng, *, clipped, underflow, kind="population", note="",
              underflow_is_loss=True, losses=()):
        x = np.asarray(x, dtype=float)
        back = np.asarray(back, dtype=float)
        ok = np.isfinite(x)
        err = np.where(ok, np.abs(back - np.where(ok, x, 0.0)), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(x != 0, err / np.abs(np.where(x != 0, x, 1.0)), np.where(err > 0, np.inf, 0.0))
        rel = np.where(ok, rel, 0.0)
        ints = np.asarray(ints, dtype=np.int64)
        mag = int(np.max(np.abs(ints), initial=0))
        bits = mag.bit_length() + int(rng[0] < 0 and mag > 0)
        ci, ui = np.flatnonzero(clipped), np.flatnonzero(underflow)
        return cls(kind=kind, owner=owner, field=field, scale=float(scale), range=(int(rng[0]), int(rng[1])),
                   bits=bits, count=int(x.size), max_abs=_finite_max(x),
                   max_abs_error=float(err.max(initial=0.0)), max_rel_error=float(rel.max(initial=0.0)),
                   clipped=int(ci.size), clipped_index=ci, clipped_values=x[ci],
                   underflow=int(ui.size), underflow_index=ui, underflow_values=x[ui], note=note,
                   underflow_is_loss=bool(underflow_is_loss), losses=list(losses))

    @property
    def lossy(self) -> bool:
        return self.clipped > 0 or (self.underflow > 0 and self.underflow_is_loss) or bool(getattr(self, "losses", ()))

    @property
    def name(self) -> str:
        return f"{self.owner}.{self.field}"

    def loss_message(self) -> str:
        parts = []
        if self.clipped:
            v = self.clipped_values[0]
            parts.append(f"{self.clipped} value(s) outside [{self.range[0]}, {self.range[1]}] after scaling by "
                         f"{self.scale:.6g} were clipped (first: {v:.6g} at index {int(self.clipped_index[0])})")
        if self.underflow and self.underflow_is_loss:
            v = self.underflow_values[0]
            parts.append(f"{self.underflow} non-zero value(s) rounded to 0 (first: {v:.6g} at index "
                         f"{int(self.underflow_index[0])}, scale {self.scale:.6g})")
        parts += list(getattr(self, "losses", ()))
        return f"{self.kind} {self.name}: " + "; ".join(parts) + (f" [{self.note}]" if self.note else "")

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in ("kind", "owner", "field", "scale", "bits", "count", "max_abs",
                                             "max_abs_error", "max_rel_error", "clipped", "underflow", "note")}
        for k in ("zeroed_fraction", "sum_error"):
            if hasattr(self, k):
                out[k] = getattr(self, k)
        out["range"] = list(self.range)
        out["clipped_index"] = self.clipped_index.tolist()
        out["clipped_values"] = self.clipped_values.tolist()
        out["underflow_index"] = self.underflow_index.tolist()
        out["underflow_values"] = self.underflow_values.tolist()
        return _json_safe(out)


class PopulationBound:
    """Worst-case ``|u|`` and ``|v|`` of one population (every input spiking every step), in integers."""

    def __init__(self, name, scale, u_max, v_max, state_bits, single_step):
        self.name, self.scale, self.u_max, self.v_max = name, float(scale), float(u_max), float(v_max)
        self.state_bits, self.single_step = state_bits, float(single_step)

    def _headroom(self, value) -> float:
        if value <= 0:
            return float(self.state_bits - 1)
        return (self.state_bits - 1) - math.log2(value) if math.isfinite(value) else -math.inf

    @property
    def u_headroom_bits(self) -> float:
        return self._headroom(self.u_max)

    @property
    def v_headroom_bits(self) -> float:
        return self._headroom(self.v_max)

    @property
    def may_overflow(self) -> bool:
        integer = getattr(self, "integer", None)
        return self.u_headroom_bits < 0 or self.v_headroom_bits < 0 or bool(integer is not None and
                                                                            integer.u_worst > 2 ** (self.state_bits - 1) - 1)

    def to_dict(self) -> dict:
        integer = getattr(self, "integer", None)
        return _json_safe({"scale": self.scale, "u_worst": self.u_max, "v_worst": self.v_max,
                           "single_step_input": self.single_step, "u_headroom_bits": self.u_headroom_bits,
                           "v_headroom_bits": self.v_headroom_bits, "may_overflow": self.may_overflow,
                           **(integer.to_dict() if integer is not None else {})})


def _json_safe(obj):
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return "inf" if obj > 0 else ("-inf" if obj < 0 else "nan")
    return obj


class QuantizationReport:
    """What :func:`quantize` did to every parameter.

    Attributes
    ----------
    hardware : str
    entries : list of ParamEntry
    bounds : dict[str, PopulationBound]
        Worst-case state magnitude and headroom to the 24-bit range (``bounds[p].integer``: the
        :class:`neuroport.fixed_bounds.IntegerBound` from the integers that will run).
    losses : list of str
        One message per lossy entry (each also emitted as a QuantizationWarning).
    overflows : list of str
        One message per population whose integer worst case (every input spiking every step) can
        wrap ``u`` or Lava's 32-bit datapath (strict mode raises instead; not a loss by itself: the
        fixed backends count and warn when a wrap happens in a run).
    """

    def __init__(self, hardware: str, strict: bool = False):
        self.hardware = hardware
        self.strict = strict
        self.entries: list = []
        self.bounds: dict = {}
        self.losses: list = []
        self.overflows: list = []

    def add_overflow(self, message: str) -> None:
        """Record that a population's integer worst case can wrap ``u`` or Lava's 32-bit datapath
        (:mod:`neuroport.fixed_bounds`); strict mode raises :class:`QuantizationError` instead."""
        if not message:
            return
        if self.strict:
            raise QuantizationError(message + "; lower the incoming weights, lower min_threshold_bits (a smaller "
                                    "scale), or quantize with strict=False to run it and have the backends count "
                                    "the wraps")
        self.overflows.append(message)

    def add(self, entry: ParamEntry) -> None:
        self.entries.append(entry)
        if entry.lossy:
            msg = entry.loss_message()
            if self.strict:
                raise QuantizationError(msg)
            self.losses.append(msg)

    def finish(self) -> None:
        if self.losses:
            warnings.warn("quantization lost information:\n  " + "\n  ".join(self.losses)
                          + "\n(see the QuantizationReport; strict=True raises instead)",
                          QuantizationWarning, stacklevel=3)

    # -- queries -----------------------------------------------------------
    @property
    def lossy(self) -> bool:
        return bool(self.losses)

    @property
    def clipped(self) -> int:
        return sum(e.clipped for e in self.entries)

    @property
    def scales(self) -> dict:
        return {name: b.scale for name, b in self.bounds.items()}

    def entry(self, owner: str, field: str) -> ParamEntry:
        for e in self.entries:
            if e.owner == owner and e.field == field:
                return e
        raise KeyError(f"no report entry {owner}.{field}; entries: {', '.join(e.name for e in self.entries)}")

    def max_rel_error(self, field: str | None = None) -> float:
        errs = [e.max_rel_error for e in self.entries if field is None or e.field == field]
        return max(errs, default=0.0)

    def raise_if(self, *, max_rel_error: float | None = None, clipped: int | None = None) -> "QuantizationReport":
        """Raise :class:`QuantizationError` if any entry exceeds the limits; else return ``self``."""
        bad = []
        for e in self.entries:
            if max_rel_error is not None and e.max_rel_error > max_rel_error:
                bad.append(f"{e.name}: relative error {e.max_rel_error:.3g} > {max_rel_error:.3g}")
        if clipped is not None and self.clipped > clipped:
            names = ", ".join(f"{e.name} ({e.clipped})" for e in self.entries if e.clipped)
            bad.append(f"{self.clipped} clipped values > {clipped} allowed: {names}")
        if bad:
            raise QuantizationError("quantization outside limits: " + "; ".join(bad))
        return self

    # -- output --------------------------------------------------------------
    def to_table(self) -> str:
        head = ("object", "field", "scale", "bits", "range", "max|x|", "max abs err", "max rel err",
                "clipped", "underflow")
        rows = [head]
        for e in self.entries:
            rows.append((e.owner, e.field, f"{e.scale:.4g}", str(e.bits), f"[{e.range[0]}, {e.range[1]}]",
                         f"{e.max_abs:.4g}", f"{e.max_abs_error:.3g}", f"{e.max_rel_error:.3g}",
                         str(e.clipped), str(e.underflow)))
        lines = [f"Quantization report (hardware {self.hardware})", _format(rows), "",
                 "State headroom (worst case: every input spiking every step)"]
        rows = [("population", "scale", "u worst", "u headroom", "v worst", "v headroom", "")]
        for b in self.bounds.values():
            rows.append((b.name, f"{b.scale:.4g}", f"{b.u_max:.3g}", f"{b.u_headroom_bits:.1f} bit",
                         f"{b.v_max:.3g}", f"{b.v_headroom_bits:.1f} bit",
                         "may overflow" if b.may_overflow else "ok"))
        lines.append(_format(rows))
        if self.losses:
            lines += ["", "Losses:"] + [f"  {m}" for m in self.losses]
        if self.overflows:
            lines += ["", "Can overflow (integer worst case):"] + [f"  {m}" for m in self.overflows]
        return "\n".join(lines)

    __str__ = to_table

    def to_dict(self) -> dict:
        return {"hardware": self.hardware, "lossy": self.lossy, "clipped": self.clipped,
                "entries": [e.to_dict() for e in self.entries],
                "populations": {n: b.to_dict() for n, b in self.bounds.items()},
                "losses": list(self.losses), "overflows": list(self.overflows)}


def _format(rows) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    out = []
    for k, r in enumerate(rows):
        out.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


# ------------------------------------------------------------------ fidelity
def match_spikes(a: np.ndarray, b: np.ndarray, tolerance: int = 1) -> int:
    """Number of spikes of ``a`` and ``b`` (bool, shape ``(steps, n)``) paired within ``tolerance`` steps.

    Greedy: exact coincidences first, then offsets ``+1, -1, +2, ...``; each
    spike pairs at most once.
    """
    a, b = a.copy(), b.copy()
    total = 0
    for k in range(tolerance + 1):
        for off in ((0,) if k == 0 else (k, -k)):
            if off >= 0:
                m = a[: a.shape[0] - off] & b[off:]
                a[: a.shape[0] - off] &= ~m
                b[off:] &= ~m
            else:
                m = a[-off:] & b[: b.shape[0] + off]
                a[-off:] &= ~m
                b[: b.shape[0] + off] &= ~m
            total += int(m.sum())
    return total


class FidelityReport:
    """Float vs fixed spikes per population.

    Attributes
    ----------
    rows : dict[str, dict]
        Per population: ``spikes_float``, ``spikes_fixed``, ``matched``,
        ``match_rate`` (``2 * matched / (n_float + n_fixed)``, 1 when both
        are 0), ``rate_float_hz``, ``rate_fixed_hz``, ``rate_error``
        (``|fixed - float| / float``; 0 when both are 0, ``inf`` when only
        float is 0).
    tolerance : int
        Steps within which two spikes match.
    """

    def __init__(self, rows: dict, tolerance: int, steps: int):
        self.rows, self.tolerance, self.steps = rows, tolerance, steps

    @property
    def min_match_rate(self) -> float:
        return min((r["match_rate"] for r in self.rows.values()), default=1.0)

    @property
    def max_rate_error(self) -> float:
        return max((r["rate_error"] for r in self.rows.values()), default=0.0)

    def to_table(self) -> str:
        rows = [("population", "spikes float", "spikes fixed", f"match (+-{self.tolerance})", "rate float Hz",
                 "rate fixed Hz", "rate error")]
        for n, r in self.rows.items():
            rows.append((n, str(r["spikes_float"]), str(r["spikes_fixed"]), f"{r['match_rate']:.4f}",
                         f"{r['rate_float_hz']:.4g}", f"{r['rate_fixed_hz']:.4g}", f"{r['rate_error']:.3g}"))
        return f"Fidelity float vs fixed over {self.steps} steps\n" + _format(rows)

    __str__ = to_table

    def to_dict(self) -> dict:
        return _json_safe({"tolerance": self.tolerance, "steps": self.steps, "populations": self.rows})


def fidelity(program: Program, steps: int, inputs=None, *, hardware: HardwareSpec = LOIHI2, tolerance: int = 1,
             fixed_program: Program | None = None, populations=None, **quantize_options) -> FidelityReport:
    """Run ``program`` on ``numpy`` (float) and ``numpy-fixed`` and compare the spikes.

    Parameters
    ----------
    program : Program
        The float Program (``timing="hardware"``).
    steps : int
    inputs : array or dict
        Spike inputs (0/1), as for :meth:`Backend.run`.
    hardware : HardwareSpec
    tolerance : int
        Spikes within this many steps match.
    fixed_program : Program, optional
        An already quantized Program (else ``quantize(program, hardware, **quantize_options)``,
        whose warnings propagate).
    populations : iterable of str, optional
        Populations to compare (default: every spiking non-input population).

    Returns
    -------
    FidelityReport

    Examples
    --------
    >>> # rep = fidelity(program, 1000, spikes); print(rep); rep.min_match_rate
    """
    if fixed_program is None:
        # here, not at the top: neuroport.quantize imports this module (a cycle)
        from neuroport.quantize import quantize

        fixed_program, _ = quantize(program, hardware, **quantize_options)
    ref = registry.get("numpy").run(program, steps=steps, inputs=inputs, progress=False)
    got = registry.get("numpy-fixed").run(fixed_program, steps=steps, inputs=inputs, progress=False)
    names = populations or [n for n, p in program.populations.items() if not p.is_input and p.emits == "spikes"]
    rows = {}
    for n in names:
        a, b = ref.spikes[n].to_dense(), got.spikes[n].to_dense()
        na, nb = int(a.sum()), int(b.sum())
        m = match_spikes(a, b, tolerance)
        ra, rb = ref.spikes[n].rate_hz(program.dt), got.spikes[n].rate_hz(program.dt)
        rate_err = 0.0 if na == nb == 0 else (abs(rb - ra) / ra if ra > 0 else math.inf)
        rows[n] = {"spikes_float": na, "spikes_fixed": nb, "matched": m,
                   "match_rate": 1.0 if na + nb == 0 else 2.0 * m / (na + nb),
                   "rate_float_hz": ra, "rate_fixed_hz": rb, "rate_error": rate_err}
    return FidelityReport(rows, tolerance, steps)
