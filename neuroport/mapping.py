"""Resource mapping: which cores a Program needs, checked by named design rules.

:func:`map_program` places each neuron population on its own set of cores
(as Lava places one process per core group): a population of ``n`` neurons
whose incoming projections hold ``k`` synapses needs

    cores = max(ceil(n / neurons_per_core), ceil(k / synapses_per_core))

neurons spread evenly over them. Input populations are fed from the host
and take no neuro cores.

Populations that Lava can only run with one of neuroport's own processes
(adaptive and conductance-based neurons, refractoriness, subtractive reset,
``u_bias``) and projections with short-term depression have no Loihi 2
neuro-core model: they are still placed (the count is what they would need),
flagged ``cpu_only`` and listed in :attr:`MappingReport.warnings` as
:data:`CPU_ONLY` (a warning, not an error: ``loihi2`` runs refuse them). Then each rule in :data:`RULES` (small functions
``rule(program, hardware, report) -> [messages]``) runs; the checker prefixes
every message with the rule's name and raises one :class:`ResourceError`
listing them all, with needed vs available numbers.

Examples
--------
>>> # report = map_program(program); print(report); report.cores
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from neuroport.errors import CompileError, ResourceError
from neuroport.hardware import LOIHI2, HardwareSpec
from neuroport.models import neurons
from neuroport.program import FixedProgram
from neuroport.timing import compensate

#: How the resource map flags what Lava runs only in its CPU simulator.
CPU_ONLY = "CPU-only (custom neuroport process, no Loihi 2 neuro-core model)"
#: Models that Lava's LIF process, and so Loihi 2's neuro cores, run.
NEURO_CORE_MODELS = ("lif", "cubalif", "if", "threshold", "li", "cubali", "integrator")
#: The spiking ones among them.
SPIKING_CORE_MODELS = ("lif", "cubalif", "if", "threshold")


def custom_features(pop) -> list:
    """Why population ``pop`` needs a custom neuroport process (empty: Lava's LIF runs it).

    Works on float and fixed Programs; input populations need none.
    """
    if pop.is_input:
        return []
    if pop.model not in NEURO_CORE_MODELS:
        title = neurons.get(pop.model).title if neurons.supported(pop.model) else ""
        return [title or f"model {pop.model!r}"]
    out = []
    spiking = pop.model in SPIKING_CORE_MODELS and pop.emits == "spikes"
    if spiking and np.any(pop.param("refractory", 0) > 0):
        out.append(f"refractory period ({int(np.max(pop.param('refractory', 0)))} steps)")
    if spiking and pop.subtract:
        out.append("reset='subtract'")
    if spiking:
        out.extend(pop.conventions)
    if np.any(pop.param("u_bias", 0) != 0) or np.any(pop.param("u_bias_mant", 0) != 0):
        out.append("u_bias (a bias on the synaptic current)")
    onset = int((getattr(pop, "extra", None) or {}).get("bias_onset", 0) or 0)
    if onset:
        out.append(f"bias switched on at step {onset} (ideal timing compensated, neuroport.timing)")
    return out


def cpu_only(program) -> dict:
    """``{"population 'name'" or "projection 'name'": reason}`` for everything that has no
    Loihi 2 neuro-core model (see :data:`CPU_ONLY`)."""
    out = {}
    for pop in program.populations.values():
        feats = custom_features(pop)
        if feats:
            out[f"population {pop.name!r} ({pop.model})"] = ", ".join(feats)
    for proj in program.projections:
        if proj.extra.get("depression") is not None:
            out[f"projection {proj.name!r}"] = "short-term depression (neuroport Depression process)"
    return out


@dataclass(frozen=True)
class PopulationPlacement:
    """Where one population goes and what it holds."""

    name: str
    neurons: int
    cores: int
    first_core: int
    neurons_per_core: int       #: largest count on one of its cores
    synapses_in: int            #: incoming synapses (all projections)
    synapses_per_core: int      #: largest count on one of its cores
    max_fan_in: int             #: largest number of synapses of one neuron
    max_fan_out: int            #: largest number of synapses of one source neuron (all projections)
    cpu_only: str = ""          #: why no Loihi 2 neuro core runs it (empty: one does), see CPU_ONLY


@dataclass
class MappingReport:
    """Result of :func:`map_program`.

    Attributes
    ----------
    hardware : HardwareSpec
    placements : dict[str, PopulationPlacement]
    cores, chips : int
        Needed in total.
    max_delay : int
        Largest projection delay in steps (hardware latency included).
    errors : list of str
        Design-rule violations (``"rule_name: message"``); empty when it fits.
    warnings : list of str
        What runs only in Lava's CPU simulator (:data:`CPU_ONLY`), one line per
        population or projection; does not make the network "not fit".
    """

    hardware: HardwareSpec
    placements: dict = field(default_factory=dict)
    cores: int = 0
    chips: int = 0
    max_delay: int = 0
    neurons: int = 0
    synapses: int = 0
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def fits(self) -> bool:
        return not self.errors

    def to_table(self) -> str:
        hw = self.hardware
        rows = [("population", "neurons", "cores", "first core", "neurons/core", "synapses in",
                 "synapses/core", "max fan-in", "max fan-out")]
        for p in self.placements.values():
            rows.append((p.name, p.neurons, p.cores, p.first_core, p.neurons_per_core, p.synapses_in,
                         p.synapses_per_core, p.max_fan_in, p.max_fan_out))
        widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
        lines = [f"Mapping on {hw.name}: {self.neurons} neurons, {self.synapses} synapses, "
                 f"{self.cores} of {hw.total_cores} cores ({hw.cores_per_chip} per chip), "
                 f"{self.chips} of {hw.chips} chip(s), max delay {self.max_delay} steps"]
        for k, r in enumerate(rows):
            lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines += [f"warning: {w}" for w in self.warnings]
        lines.append("fits" if self.fits else "DOES NOT FIT:\n  " + "\n  ".join(self.errors))
        return "\n".join(lines)

    __str__ = to_table

    def to_dict(self) -> dict:
        return {"hardware": self.hardware.name, "cores": self.cores, "chips": self.chips,
                "neurons": self.neurons, "synapses": self.synapses, "max_delay": self.max_delay,
                "fits": self.fits, "errors": list(self.errors), "warnings": list(self.warnings),
                "placements": {n: p.__dict__.copy() for n, p in self.placements.items()}}


def _fan(program, name):
    """(max fan-in per neuron, synapses in) for population ``name``."""
    fan_in = np.zeros(program.populations[name].size, dtype=np.int64)
    for proj in program.incoming(name):
        fan_in += np.diff(proj.weights.indptr)
    return fan_in


def _place(program, hw: HardwareSpec) -> MappingReport:
    report = MappingReport(hardware=hw)
    fan_out = {n: np.zeros(p.size, dtype=np.int64) for n, p in program.populations.items()}
    for proj in program.projections:
        fan_out[proj.pre] += np.bincount(proj.weights.indices, minlength=program.populations[proj.pre].size)
    core = 0
    for name, pop in program.populations.items():
        if pop.is_input:
            continue
        fan_in = _fan(program, name)
        syn = int(fan_in.sum())
        cores = max(1, math.ceil(pop.size / hw.neurons_per_core), math.ceil(syn / hw.synapses_per_core))
        per_core = math.ceil(pop.size / cores)
        # largest synapse count on one core: neurons split in contiguous blocks
        if pop.size:
            blocks = np.add.reduceat(fan_in, np.arange(0, pop.size, per_core))
            syn_core = int(blocks.max())
        else:
            syn_core = 0
        feats = custom_features(pop)
        report.placements[name] = PopulationPlacement(
            name, pop.size, cores, core, per_core, syn, syn_core, int(fan_in.max(initial=0)),
            int(fan_out[name].max(initial=0)), CPU_ONLY if feats else "")
        core += cores
    report.cores = core
    report.chips = math.ceil(core / hw.cores_per_chip)
    report.neurons = program.n_neurons
    report.synapses = program.n_synapses
    report.max_delay = max((p.max_delay for p in program.projections), default=0)
    report.warnings = [f"{what}: {CPU_ONLY}: {why}" for what, why in cpu_only(program).items()]
    return report


# ------------------------------------------------------------------ design rules
def cores_available(program, hw, report):
    if report.cores > hw.total_cores:
        return [f"cores needed {report.cores} > available {hw.total_cores} "
                f"({hw.chips} chip(s) x {hw.cores_per_chip} cores; {report.neurons} neurons at up to "
                f"{hw.neurons_per_core} per core); chips needed {report.chips}"]
    return []


def neurons_per_core(program, hw, report):
    return [f"population {p.name!r}: {p.neurons_per_core} neurons on one core > max {hw.neurons_per_core}"
            for p in report.placements.values() if p.neurons_per_core > hw.neurons_per_core]


def synapses_per_core(program, hw, report):
    return [f"population {p.name!r}: {p.synapses_per_core} synapses on one core > max {hw.synapses_per_core}"
            for p in report.placements.values() if p.synapses_per_core > hw.synapses_per_core]


def fan_in(program, hw, report):
    return [f"population {p.name!r}: a neuron has {p.max_fan_in} input synapses > max {hw.max_fan_in}"
            for p in report.placements.values() if p.max_fan_in > hw.max_fan_in]


def delays(program, hw, report):
    limit = hw.max_delay + hw.hardware_latency
    out = []
    for proj in program.projections:
        if proj.nnz and proj.max_delay > limit:
            n = int(np.count_nonzero(proj.delays > limit))
            out.append(f"projection {proj.name!r}: delay {proj.max_delay} steps > max {limit} "
                       f"({hw.hardware_latency} + {hw.max_delay} of DelayDense) on {n} synapse(s)")
        if proj.nnz and int(proj.delays.min()) < hw.hardware_latency:
            out.append(f"projection {proj.name!r}: delay {int(proj.delays.min())} < hardware latency "
                       f"{hw.hardware_latency} step (compile with timing='hardware')")
    return out


def weight_bits(program, hw, report):
    """Fixed Programs: mantissas inside the sign mode's range; float Programs pass (quantize checks them)."""
    if not isinstance(program, FixedProgram):
        return []
    out = []
    e_lo, e_hi = hw.weight_exp_range
    for proj in program.projections:
        mode = proj.extra.get("sign_mode", "MIXED")
        lo, hi = hw.weight_range(mode)
        data = proj.weights.data
        if data.size and (data.min() < lo or data.max() > hi):
            out.append(f"projection {proj.name!r}: weights [{data.min()}, {data.max()}] outside {mode} "
                       f"range [{lo}, {hi}] ({hw.weight_bits}-bit mantissa)")
        exp = int(proj.extra.get("weight_exp", 0))
        dep = proj.extra.get("depression")
        if dep is not None and "bits" in dep:
            # the quantizer lowers a depressing projection's exponent by the payload's fraction bits
            exp += int(dep["bits"])
        if not e_lo <= exp <= e_hi:
            out.append(f"projection {proj.name!r}: weight_exp {exp} outside [{e_lo}, {e_hi}]")
    return out


#: Rules run in order by :func:`check`; each returns a list of messages.
RULES = [cores_available, neurons_per_core, synapses_per_core, fan_in, delays, weight_bits]


def check(program, hw, report, rules=None) -> list:
    """Run every rule; messages prefixed with the rule's name."""
    errors = []
    for rule in rules or RULES:
        errors += [f"{rule.__name__}: {m}" for m in rule(program, hw, report)]
    return errors


def map_program(program, hardware: HardwareSpec = LOIHI2, *, raise_on_error: bool = True) -> MappingReport:
    """Place ``program`` on ``hardware`` and check every design rule.

    Parameters
    ----------
    program : Program
        Float or fixed. An ideal-timing Program is mapped as the hardware runs it,
        with its compensating delays (:func:`neuroport.timing.compensate`); where none
        exist, the delay rule reports the 0-step projections.
    hardware : HardwareSpec
        Default :data:`~neuroport.hardware.LOIHI2` (one chip; ``LOIHI2.with_chips(8)`` for a board).
    raise_on_error : bool
        Raise when a rule fails (default); else return the report with ``errors``.

    Returns
    -------
    MappingReport

    Raises
    ------
    ResourceError
        Listing every violated rule with needed vs available numbers.

    Examples
    --------
    >>> import numpy as np, neuroport
    >>> net = neuroport.Network()
    >>> x = net.input(2, name="x")
    >>> y = net.population(3, neuroport.LIF(tau=0.02, v_threshold=1.0), name="y")
    >>> _ = net.connect(x, y, weight=0.37)

    >>> report = neuroport.map(net.compile(dt=1e-3))              # this function, as neuroport.map
    >>> report.fits, report.neurons, report.synapses
    (True, 3, 6)
    >>> print(report.to_table().splitlines()[0])
    Mapping on loihi2: 3 neurons, 6 synapses, 1 of 128 cores (128 per chip), 1 of 1 chip(s), max delay 1 steps
    """
    try:
        program = compensate(program)
    except CompileError:
        pass  # the delay rule names the projections that the hardware cannot run in 0 steps
    report = _place(program, hardware)
    report.errors = check(program, hardware, report)
    if report.errors and raise_on_error:
        raise ResourceError(f"the network does not fit {hardware.name} "
                            f"({hardware.chips} chip(s)):\n  " + "\n  ".join(report.errors))
    return report
