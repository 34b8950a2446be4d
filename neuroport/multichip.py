"""Multi-chip mapping: populations split into cores, cores assigned to chips, inter-chip traffic.

:func:`map_chips` places a Program on a board or system of Loihi 2 chips
(:data:`~neuroport.hardware.KAPOHO_POINT`, :data:`~neuroport.hardware.HALA_POINT`,
or ``LOIHI2.with_chips(n)``) in three steps, all at block level (a block is
the contiguous slice of one population that one core holds; nothing loops
over synapses in Python):

1. **Split into cores.** A population of ``n`` neurons whose incoming
   projections hold ``k`` synapses takes ``max(ceil(n / neurons_per_core),
   ceil(k / synapses_per_core))`` cores, neurons spread evenly (as
   :func:`neuroport.mapping.map_program` counts them); when the fan-in is so
   uneven that one core of the even split would exceed its synapse memory, the
   cut points follow the cumulative fan-in instead (more cores). Input
   populations sit on the host and take no core.
2. **Block graph.** From each projection's CSR matrix, per destination core:
   the synapses it receives from each source core (``numpy.bincount`` of the
   source blocks of the stored column indices) and the spike messages per
   step it receives (each source neuron with at least one synapse on the core
   sends one message per spike to it, weighted by the neuron's spikes per
   step).
3. **Partition.** Cores are assigned to chips to minimise the synapses cut
   between chips (``objective="synapses"``, the default) or the inter-chip
   spike messages (``objective="traffic"``), subject to each chip's cores,
   neurons and synapses (:class:`~neuroport.hardware.HardwareSpec`
   ``cores_per_chip``, ``neurons_per_chip``, ``synapses_per_chip``): connected
   groups of cores that fit one chip stay whole (first fit, largest first);
   larger ones are split by greedy graph growing (a chip is filled with the
   unassigned core most strongly connected to what it holds, from a heap); then
   refinement: Fiduccia-Mattheyses passes (every core moved at most once, the
   best feasible move first even when it raises the cut, one direction per
   pair of chips in a pass, the best prefix kept, so the search climbs out of
   local minima such as an area split at a full chip; up to :data:`FM_MAX_WORK`
   cores**2 x chips), then single moves and pairwise swaps between chips that
   lower the cut, all within every chip's limits, repeated while the cut
   falls. This is a heuristic: it finds the
   optimum on small networks built with a known one (tests), not a proven
   optimum in general. ``balance=True`` spreads the cores evenly over all
   chips (no chip above ``ceil(cores / chips)``), as for a run that should
   use the whole board; the default packs the network onto as few chips as it needs.

Traffic model (an estimate, stated in every report): a spike of a neuron is
one message to each core on another chip that holds at least one of its
target synapses (the synapses fan out inside the destination core). Rates
come from a :class:`~neuroport.result.Result` (measured), from the caller
(Hz, per population or per neuron) or from :data:`DEFAULT_RATE_HZ` for every
neuron. Spikes of input populations come from the host and are reported per
chip as host input, not as inter-chip traffic.

Examples
--------
>>> # from neuroport.hardware import KAPOHO_POINT
>>> # chip_map = map_chips(program, KAPOHO_POINT, rates=result); print(chip_map)
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from neuroport.errors import CompileError, ParameterError, ResourceError
from neuroport.hardware import KAPOHO_POINT, HardwareSpec

#: Firing rate assumed for every neuron when no rates are given, Hz.
DEFAULT_RATE_HZ = 10.0
#: Largest cores x chips for which the refinement keeps a dense connection table (8 bytes each).
REFINE_MAX_ENTRIES = 4_000_000
#: Refinement passes at most.
REFINE_PASSES = 8
#: Largest cores**2 x chips for which the refinement runs Fiduccia-Mattheyses passes (hill-climbing moves).
FM_MAX_WORK = 50_000_000
OBJECTIVES = ("synapses", "traffic")


@dataclass
class ChipMap:
    """Result of :func:`map_chips`.

    Per core (one entry per block, shape ``(n_cores,)``): ``core_population``
    (index into ``populations``), ``core_start`` / ``core_stop`` (the neuron
    slice of the population), ``core_synapses`` (synapses stored on the core,
    i.e. the incoming synapses of its neurons) and ``core_chip``.

    Per chip (shape ``(chips,)``, all chips of the spec, unused ones zero):
    ``chip_cores``, ``chip_neurons``, ``chip_synapses``, ``chip_out`` /
    ``chip_in`` (spike messages per step sent to / received from other chips),
    ``chip_host_in`` (messages per step from the host's input populations).
    ``traffic`` has shape ``(chips, chips)``: messages per step from chip ``i``
    to chip ``j`` (zero diagonal).

    Totals: ``neurons``, ``synapses`` (the network's, inputs' synapses
    included), ``cut_synapses`` (synapses whose source and target neuron sit on
    different chips; from the host not counted), ``messages_per_step`` (all
    inter-chip messages per step), ``rate_source`` (where the rates came from).
    """

    hardware: HardwareSpec
    populations: list
    core_population: np.ndarray
    core_start: np.ndarray
    core_stop: np.ndarray
    core_synapses: np.ndarray
    core_chip: np.ndarray
    chip_cores: np.ndarray
    chip_neurons: np.ndarray
    chip_synapses: np.ndarray
    chip_out: np.ndarray
    chip_in: np.ndarray
    chip_host_in: np.ndarray
    traffic: np.ndarray
    neurons: int
    synapses: int
    cut_synapses: int
    messages_per_step: float
    rate_source: str
    objective: str = "synapses"
    balance: bool = False
    refined: bool = True
    dt: float = 0.0
    notes: list = field(default_factory=list)

    @property
    def cores(self) -> int:
        return int(self.core_chip.size)

    @property
    def chips_used(self) -> int:
        return int(np.count_nonzero(self.chip_cores))

    def chips_of(self, population: str) -> list:
        """The chips (sorted) holding neurons of ``population``."""
        if population not in self.populations:
            raise ParameterError(f"no mapped population named {population!r}; mapped: {', '.join(self.populations)}")
        k = self.populations.index(population)
        return sorted(set(self.core_chip[self.core_population == k].tolist()))

    def split_populations(self) -> dict:
        """``{population: [chips]}`` for every population whose cores sit on more than one chip."""
        pairs = np.unique(np.stack([self.core_population, self.core_chip]), axis=1) if self.cores else np.zeros((2, 0))
        out = {}
        for k in np.flatnonzero(np.bincount(pairs[0].astype(np.int64), minlength=len(self.populations)) > 1):
            out[self.populations[k]] = pairs[1][pairs[0] == k].astype(int).tolist()
        return out

    def chip_populations(self, chip: int) -> list:
        """Names of the populations with neurons on ``chip``."""
        idx = np.unique(self.core_population[self.core_chip == chip])
        return [self.populations[i] for i in idx]

    def to_table(self, max_rows: int = 64) -> str:
        """The per-chip table and traffic summary (at most ``max_rows`` chip rows, used chips first)."""
        hw = self.hardware
        used = np.flatnonzero(self.chip_cores)
        rows = [("chip", "cores", "neurons", "synapses", "msgs out/step", "msgs in/step", "host in/step",
                 "populations")]
        for c in used[:max_rows]:
            pops = self.chip_populations(int(c))
            names = ", ".join(pops[:4]) + (f", +{len(pops) - 4}" if len(pops) > 4 else "")
            rows.append((int(c), int(self.chip_cores[c]), int(self.chip_neurons[c]), int(self.chip_synapses[c]),
                         f"{self.chip_out[c]:.1f}", f"{self.chip_in[c]:.1f}", f"{self.chip_host_in[c]:.1f}", names))
        widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
        mode = "balanced over all chips" if self.balance else "packed onto as few chips as fit"
        lines = [f"Chip map on {hw.name}: {self.neurons} neurons, {self.synapses} synapses on {self.cores} cores, "
                 f"{self.chips_used} of {hw.chips} chip(s) ({hw.cores_per_chip} cores, {hw.neurons_per_chip} "
                 f"neurons, {hw.synapses_per_chip} synapses per chip); {mode}, minimising {self.objective} cut"]
        for k, r in enumerate(rows):
            lines.append("  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        if used.size > max_rows:
            lines.append(f"... {used.size - max_rows} more chip(s)")
        spans = self.split_populations()
        if spans:
            shown = [f"{name} (chips {', '.join(map(str, chips))})" for name, chips in list(spans.items())[:8]]
            lines.append(f"populations across chips: {len(spans)}: " + "; ".join(shown)
                         + (" ..." if len(spans) > 8 else ""))
        share = self.cut_synapses / self.synapses if self.synapses else 0.0
        lines.append(f"cut synapses between chips: {self.cut_synapses} ({100 * share:.2f} % of all)")
        per_s = f" ({self.messages_per_step / self.dt:.4g} messages/s of simulated time)" if self.dt else ""
        lines.append(f"inter-chip spike traffic: {self.messages_per_step:.1f} messages per step{per_s}; "
                     f"busiest chip sends {self.chip_out.max(initial=0):.1f}, receives "
                     f"{self.chip_in.max(initial=0):.1f} per step")
        if hw.chip_link_bits_per_s > 0 and self.chip_out.size:
            busiest = max(self.chip_out.max(), self.chip_in.max()) * hw.spike_message_bits
            lines.append(f"link time per step on the busiest chip: {busiest / hw.chip_link_bits_per_s * 1e6:.3g} us "
                         f"({hw.spike_message_bits}-bit messages at {hw.chip_link_bits_per_s:.3g} bit/s, estimates)")
        lines.append(f"rates: {self.rate_source}; traffic model (estimate): one message per spike per destination "
                     "core on another chip")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    __str__ = to_table

    def to_dict(self) -> dict:
        """JSON-ready summary (per chip lists of the used chips)."""
        used = np.flatnonzero(self.chip_cores)
        return {"hardware": self.hardware.name, "chips": int(self.hardware.chips), "chips_used": self.chips_used,
                "cores": self.cores, "neurons": self.neurons, "synapses": self.synapses,
                "cut_synapses": self.cut_synapses, "messages_per_step": self.messages_per_step,
                "rate_source": self.rate_source, "objective": self.objective, "balance": self.balance,
                "split_populations": self.split_populations(),
                "per_chip": [{"chip": int(c), "cores": int(self.chip_cores[c]), "neurons": int(self.chip_neurons[c]),
                              "synapses": int(self.chip_synapses[c]), "messages_out": float(self.chip_out[c]),
                              "messages_in": float(self.chip_in[c]), "host_in": float(self.chip_host_in[c]),
                              "populations": self.chip_populations(int(c))} for c in used]}


# ------------------------------------------------------------------ inputs
def _as_program(obj, dt):
    from neuroport.program import Program

    if isinstance(obj, Program):
        return obj
    import neuroport

    if hasattr(obj, "to_nir") and hasattr(obj, "connect"):  # a neuroport.Network
        obj = obj.to_nir()
    try:
        import nir
    except ImportError:  # pragma: no cover - nir is a core dependency
        nir = None
    if nir is not None and isinstance(obj, nir.NIRGraph):
        return neuroport.compile(obj, dt=dt, timing="hardware")
    raise ParameterError(f"map_chips: expected a Program, a nir.NIRGraph or a neuroport.Network, "
                         f"got {type(obj).__name__}")


def spikes_per_step(program, rates=None) -> tuple:
    """Expected spikes per step of every neuron, and where the figures come from.

    Parameters
    ----------
    program : Program
    rates : None, float, dict or Result
        None: :data:`DEFAULT_RATE_HZ` for every neuron. A float: that rate (Hz)
        for every neuron. A dict ``{population: Hz}`` with a scalar or an array
        of shape ``(size,)`` per population (others get the default). A
        :class:`~neuroport.result.Result`: measured, spikes / steps per neuron
        (populations it lacks get the default).

    Returns
    -------
    (dict[str, numpy.ndarray], str)
        Spikes per step, shape ``(size,)`` per population; the source in words.
    """
    dt = program.dt
    default = {n: np.full(p.size, DEFAULT_RATE_HZ * dt) for n, p in program.populations.items()}
    if rates is None:
        return default, f"assumed {DEFAULT_RATE_HZ:g} Hz for every neuron (no rates given)"
    if hasattr(rates, "spikes") and hasattr(rates, "num_steps"):
        out, missing = dict(default), []
        for name, pop in program.populations.items():
            train = rates.spikes.get(name)
            if train is None or train.size != pop.size or not rates.num_steps or not rates.dt > 0:
                missing.append(name)
                continue
            # Hz of the run, then spikes per step of this Program's dt
            hz = np.bincount(train.neurons, minlength=pop.size)[:pop.size] / (rates.num_steps * float(rates.dt))
            out[name] = hz * dt
        text = f"measured from a {rates.backend} run of {rates.num_steps} steps of {float(rates.dt):g} s"
        if missing:
            text += f" ({', '.join(missing)}: not in the result, assumed {DEFAULT_RATE_HZ:g} Hz)"
        return out, text
    if isinstance(rates, (int, float, np.integer, np.floating)) and not isinstance(rates, bool):
        if not np.isfinite(rates) or rates < 0:
            raise ParameterError(f"rates: expected a rate >= 0 Hz, got {rates!r}")
        return ({n: np.full(p.size, float(rates) * dt) for n, p in program.populations.items()},
                f"given: {float(rates):g} Hz for every neuron")
    if isinstance(rates, dict):
        out = dict(default)
        for name, value in rates.items():
            pop = program.populations.get(name)
            if pop is None:
                raise ParameterError(f"rates: no population named {name!r}; populations: "
                                     f"{', '.join(program.populations)}")
            arr = np.asarray(value, dtype=float)
            if arr.ndim > 1 or (arr.ndim == 1 and arr.size != pop.size):
                raise ParameterError(f"rates[{name!r}]: expected a scalar or shape ({pop.size},) in Hz, "
                                     f"got shape {arr.shape}")
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise ParameterError(f"rates[{name!r}]: rates must be finite and >= 0 Hz")
            out[name] = np.broadcast_to(arr * dt, (pop.size,)).astype(float)
        others = [n for n in program.populations if n not in rates]
        text = "given per population" + (f" ({', '.join(others)}: assumed {DEFAULT_RATE_HZ:g} Hz)" if others else "")
        return out, text
    raise ParameterError(f"rates: expected None, a rate in Hz, a dict {{population: Hz}} or a Result, "
                         f"got {type(rates).__name__}")


# ------------------------------------------------------------------ step 1: cores
def _split(size: int, fan_in: np.ndarray, hw: HardwareSpec) -> np.ndarray:
    """Cut points ``[0, ..., size]`` of one population's cores (see the module docstring)."""
    syn = int(fan_in.sum())
    cores = max(1, math.ceil(size / hw.neurons_per_core), math.ceil(syn / hw.synapses_per_core))
    per = math.ceil(size / cores) if size else 1
    bounds = np.append(np.arange(0, size, per), size) if size else np.array([0, 0])
    csum = np.concatenate([[0], np.cumsum(fan_in)])
    if np.all(np.diff(csum[bounds]) <= hw.synapses_per_core):
        return bounds
    out, start = [0], 0
    while start < size:  # one iteration per core
        stop = min(start + hw.neurons_per_core,
                   int(np.searchsorted(csum, csum[start] + hw.synapses_per_core, side="right")) - 1)
        stop = max(stop, start + 1)
        out.append(stop)
        start = stop
    return np.asarray(out)


# ------------------------------------------------------------------ step 2: block graph
def _block_graph(program, blocks, rates):
    """Sparse (n_sources x n_cores) synapse counts and messages per step.

    Sources: every core, then one host source per input population."""
    n_cores = blocks["n_cores"]
    src_rows, dst_cols, syn_vals, msg_vals = [], [], [], []
    by_pair = {}
    for proj in program.projections:
        by_pair.setdefault((proj.pre, proj.post), []).append(proj)
    stamp = {}
    for (pre, post), projs in by_pair.items():
        if post not in blocks["bounds"]:
            continue
        pre_block = blocks["neuron_block"][pre]      # (size_pre,) global source index
        rate = rates[pre]
        st = stamp.setdefault(pre, [np.full(program.populations[pre].size, -1, dtype=np.int64), 0])
        bounds = blocks["bounds"][post]
        first = blocks["first"][post]
        for j in range(bounds.size - 1):
            r0, r1 = int(bounds[j]), int(bounds[j + 1])
            parts = [p.weights.indices[p.weights.indptr[r0]:p.weights.indptr[r1]] for p in projs]
            idx = parts[0] if len(parts) == 1 else np.concatenate(parts)
            if idx.size == 0:
                continue
            src = pre_block[idx]
            lo, hi = int(src.min()), int(src.max())
            counts = np.bincount(src - lo, minlength=hi - lo + 1)
            # distinct source neurons: the stamp keeps one position per neuron, exactly one matches
            pos = np.arange(st[1], st[1] + idx.size, dtype=np.int64)
            st[0][idx] = pos
            uniq = idx[st[0][idx] == pos]
            st[1] += idx.size
            msgs = np.bincount(pre_block[uniq] - lo, weights=rate[uniq], minlength=hi - lo + 1)
            nz = np.flatnonzero(counts)
            src_rows.append(nz + lo)
            dst_cols.append(np.full(nz.size, first + j, dtype=np.int64))
            syn_vals.append(counts[nz])
            msg_vals.append(msgs[nz])
    n_src = n_cores + len(blocks["host"])
    if src_rows:
        rows, cols = np.concatenate(src_rows), np.concatenate(dst_cols)
        syn = sp.csr_matrix((np.concatenate(syn_vals).astype(np.int64), (rows, cols)), shape=(n_src, n_cores))
        msg = sp.csr_matrix((np.concatenate(msg_vals), (rows, cols)), shape=(n_src, n_cores))
    else:
        syn = sp.csr_matrix((n_src, n_cores), dtype=np.int64)
        msg = sp.csr_matrix((n_src, n_cores))
    return syn, msg


# ------------------------------------------------------------------ step 3: partition
def _capacities(hw, loads, balance):
    """Per-chip limits (cores, neurons, synapses) as a float array of shape (3,)."""
    limit = np.array([hw.cores_per_chip, hw.neurons_per_chip, hw.synapses_per_chip], dtype=float)
    if balance:
        limit[0] = min(limit[0], math.ceil(loads.shape[0] / hw.chips))
    return limit


def _grow_into(adj, loads, cap, chip_of, load, members, gain):
    """Grow the cores ``members`` (in population order) into the chips' free space, chip after chip: each
    chip takes the unassigned member most strongly connected to what it already took (a heap of gains)."""
    indptr, indices, data = adj.indptr, adj.indices, adj.data
    is_member = np.zeros(chip_of.size, dtype=bool)
    is_member[members] = True
    cursor = 0
    for chip in range(load.shape[0]):
        while cursor < members.size and chip_of[members[cursor]] >= 0:
            cursor += 1
        if cursor >= members.size:
            return
        if load[chip, 0] >= cap[0]:
            continue
        heap, touched, skipped = [], [], set()
        scan = cursor
        while True:
            cand = -1
            while heap:
                g, b = heapq.heappop(heap)
                if chip_of[b] < 0 and b not in skipped and -g == gain[b]:
                    cand = b
                    break
            if cand < 0:  # nothing connected left: the next unassigned member in population order
                while scan < members.size and (chip_of[members[scan]] >= 0 or members[scan] in skipped):
                    scan += 1
                if scan >= members.size:
                    break
                cand = int(members[scan])
            if np.any(load[chip] + loads[cand] > cap):
                skipped.add(cand)
                continue
            chip_of[cand] = chip
            load[chip] += loads[cand]
            for k in range(indptr[cand], indptr[cand + 1]):
                nb = indices[k]
                if chip_of[nb] < 0 and is_member[nb]:
                    if gain[nb] == 0:
                        touched.append(nb)
                    gain[nb] += data[k]
                    heapq.heappush(heap, (-gain[nb], nb))
            if load[chip, 0] >= cap[0]:
                break
        gain[touched] = 0


def _grow(adj, loads, cap, chips):
    """Initial assignment (-1: placed nowhere). Connected groups of cores that fit one chip are kept whole
    (first fit, largest first); larger ones are grown chip after chip (:func:`_grow_into`)."""
    n = loads.shape[0]
    chip_of = np.full(n, -1, dtype=np.int64)
    load = np.zeros((chips, 3))
    gain = np.zeros(n)
    n_comp, label = connected_components(adj, directed=False)
    comp_load = np.zeros((n_comp, 3))
    np.add.at(comp_load, label, loads)
    by_comp = np.argsort(label, kind="stable")
    starts = np.searchsorted(label[by_comp], np.arange(n_comp + 1))
    fits_one = np.all(comp_load <= cap, axis=1)
    large = [c for c in range(n_comp) if not fits_one[c]]
    small = sorted((c for c in range(n_comp) if fits_one[c]), key=lambda c: (-comp_load[c, 0], c))
    for c in large:
        _grow_into(adj, loads, cap, chip_of, load, by_comp[starts[c]:starts[c + 1]], gain)
    first_open = 0
    for c in small:
        members = by_comp[starts[c]:starts[c + 1]]
        while first_open < chips and load[first_open, 0] >= cap[0]:
            first_open += 1
        ok = np.flatnonzero(np.all(load[first_open:] + comp_load[c] <= cap, axis=1))
        if ok.size:
            chip = first_open + int(ok[0])
            chip_of[members] = chip
            load[chip] += comp_load[c]
        else:
            _grow_into(adj, loads, cap, chip_of, load, members, gain)
    return chip_of


def _refine(adj, loads, cap, chip_of, chips):
    """Fiduccia-Mattheyses passes (for up to :data:`FM_MAX_WORK`), then single moves and swaps that lower
    the cut, all within ``cap``; repeated while the cut falls."""
    n = loads.shape[0]
    onehot = sp.csr_matrix((np.ones(n), (np.arange(n), chip_of)), shape=(n, chips))
    conn = np.asarray((adj @ onehot).todense())           # (cores, chips): weight to each chip
    load = np.zeros((chips, 3))
    np.add.at(load, chip_of, loads)
    dense_rows = {}

    def move(b, new):
        old = chip_of[b]
        row = slice(adj.indptr[b], adj.indptr[b + 1])
        nbrs, w = adj.indices[row], adj.data[row]
        conn[nbrs, old] -= w
        conn[nbrs, new] += w
        load[old] -= loads[b]
        load[new] += loads[b]
        chip_of[b] = new

    def fm_pass():
        """One Fiduccia-Mattheyses pass: move every core at most once, the best feasible move first even
        when it raises the cut, never back along a chip pair a core already crossed in this pass; then
        undo the moves after the best prefix. Returns whether the cut fell."""
        locked = np.zeros(n, dtype=bool)
        sent = np.zeros((chips, chips), dtype=bool)     # sent[a, b]: a core went from chip a to chip b
        rows = np.arange(n)
        history, total, best, best_len = [], 0.0, 0.0, 0
        for _ in range(n):
            gains = conn - conn[rows, chip_of][:, None]
            feasible = np.all(load[None, :, :] + loads[:, None, :] <= cap, axis=2)
            feasible[rows, chip_of] = False
            feasible[locked] = False
            # one direction per pair of chips and pass: no core goes back the way another came, so a
            # pass can carry a whole group across instead of trading cores back and forth
            feasible &= ~sent[:, chip_of].T
            gains[~feasible] = -np.inf
            flat = int(np.argmax(gains))
            b, c = divmod(flat, chips)
            if not np.isfinite(gains[b, c]):
                break
            sent[chip_of[b], c] = True
            history.append((b, int(chip_of[b])))
            total += float(gains[b, c])
            move(b, c)
            locked[b] = True
            if total > best + 1e-9:
                best, best_len = total, len(history)
        for b, old in reversed(history[best_len:]):
            move(b, old)
        return best > 1e-9

    use_fm = n * n * chips <= FM_MAX_WORK
    for _ in range(REFINE_PASSES):
        improved = fm_pass() if use_fm else False
        own = conn[np.arange(n), chip_of]
        order = np.argsort(-(conn.max(axis=1) - own), kind="stable")
        for b in order:
            ob = chip_of[b]
            gains = conn[b] - conn[b, ob]
            gains[ob] = 0
            fits = np.all(load + loads[b] <= cap, axis=1)
            fits[ob] = False
            cand = np.where(fits, gains, -np.inf)
            c = int(np.argmax(cand))
            if cand[c] > 1e-12:
                move(b, c)
                improved = True
                continue
            # swap with a core of the chip it is most connected to
            c = int(np.argmax(np.where(np.arange(chips) == ob, -np.inf, gains)))
            if gains[c] <= 1e-12:
                continue
            members = np.flatnonzero(chip_of == c)
            if b not in dense_rows:
                dense_rows.clear()
                dense_rows[b] = np.asarray(adj[b].todense()).ravel()
            a_b = dense_rows[b][members]
            swap_gain = gains[c] + (conn[members, ob] - conn[members, c]) - 2 * a_b
            new_ob = load[ob][None, :] - loads[b][None, :] + loads[members]
            new_c = load[c][None, :] - loads[members] + loads[b][None, :]
            ok = np.all(new_ob <= cap, axis=1) & np.all(new_c <= cap, axis=1)
            swap_gain = np.where(ok, swap_gain, -np.inf)
            if swap_gain.size == 0:
                continue
            k = int(np.argmax(swap_gain))
            if swap_gain[k] > 1e-12:
                a = int(members[k])
                move(b, c)
                move(a, ob)
                dense_rows.clear()
                improved = True
        if not improved:
            break
    return chip_of


def _refuse(hw, what, needed, available, how):
    raise ResourceError(f"the network does not fit {hw.name} ({hw.chips} chip(s)): {what} needed {needed} > "
                        f"available {available}; {how}")


def map_chips(program_or_graph, spec: HardwareSpec = KAPOHO_POINT, rates=None, *, dt: float | None = None,
              objective: str = "synapses", balance: bool = False) -> ChipMap:
    """Assign the populations of a network to the cores and chips of ``spec``.

    Parameters
    ----------
    program_or_graph : Program, nir.NIRGraph or neuroport.Network
        A graph or Network is compiled with ``dt`` and ``timing="hardware"``.
    spec : HardwareSpec
        The target; its ``chips`` are the chips available (default
        :data:`~neuroport.hardware.KAPOHO_POINT`, 8 chips).
    rates : None, float, dict or Result
        Firing rates for the traffic estimate (see :func:`spikes_per_step`);
        the partition itself uses them only with ``objective="traffic"``.
    dt : float, optional
        Time step in seconds, for a graph without a recorded one.
    objective : {"synapses", "traffic"}
        What the partition minimises: synapses whose ends sit on different
        chips, or inter-chip spike messages per step.
    balance : bool
        Spread the cores evenly over all ``spec.chips`` chips (at most
        ``ceil(cores / chips)`` per chip; neurons and synapses within the
        chip's limits) instead of packing onto as few chips as fit.

    Returns
    -------
    ChipMap

    Raises
    ------
    ResourceError
        What does not fit, with needed vs available numbers: cores, neurons or
        synapses over all chips, one neuron's fan-in over a core's synapse
        memory, or cores left over after the partition.
    ParameterError
        Bad ``objective`` or ``rates``.
    """
    if objective not in OBJECTIVES:
        raise ParameterError(f"objective: expected one of {', '.join(OBJECTIVES)}, got {objective!r}")
    program = _as_program(program_or_graph, dt)
    if "dt" not in program.options:
        raise CompileError("map_chips: the Program records no dt (compile it with dt=...)")
    hw = spec
    rate, rate_source = spikes_per_step(program, rates)

    # step 1: cores
    names, bounds, first, neuron_block, host = [], {}, {}, {}, []
    core_pop, core_start, core_stop, core_syn = [], [], [], []
    fan_in = {}
    for proj in program.projections:
        if proj.post in fan_in:
            fan_in[proj.post] = fan_in[proj.post] + np.diff(proj.weights.indptr)
        else:
            fan_in[proj.post] = np.diff(proj.weights.indptr).astype(np.int64)
    n_cores = 0
    for name, pop in program.populations.items():
        if pop.is_input:
            continue
        fi = fan_in.get(name, np.zeros(pop.size, dtype=np.int64))
        worst = int(fi.max(initial=0))
        if worst > min(hw.synapses_per_core, hw.max_fan_in):
            _refuse(hw, f"population {name!r}: a neuron's input synapses (fan-in)", worst,
                    min(hw.synapses_per_core, hw.max_fan_in), "a neuron's synapses must sit on its core: "
                    "lower the connection probability or split the projection")
        b = _split(pop.size, fi, hw)
        k = len(names)
        names.append(name)
        bounds[name], first[name] = b, n_cores
        counts = np.diff(b)
        neuron_block[name] = np.repeat(np.arange(n_cores, n_cores + counts.size), counts)
        csum = np.concatenate([[0], np.cumsum(fi)])
        core_pop.append(np.full(counts.size, k))
        core_start.append(b[:-1])
        core_stop.append(b[1:])
        core_syn.append(np.diff(csum[b]))
        n_cores += counts.size
    for name, pop in program.populations.items():
        if pop.is_input:
            neuron_block[name] = np.full(pop.size, n_cores + len(host), dtype=np.int64)
            host.append(name)
    core_pop = np.concatenate(core_pop) if core_pop else np.zeros(0, dtype=np.int64)
    core_start = np.concatenate(core_start) if core_start else np.zeros(0, dtype=np.int64)
    core_stop = np.concatenate(core_stop) if core_stop else np.zeros(0, dtype=np.int64)
    core_syn = np.concatenate(core_syn).astype(np.int64) if core_syn else np.zeros(0, dtype=np.int64)
    loads = np.stack([np.ones(n_cores), (core_stop - core_start).astype(float), core_syn.astype(float)], axis=1)

    total = loads.sum(axis=0) if n_cores else np.zeros(3)
    n_neurons, n_syn_cores = int(total[1]), int(total[2])
    if n_cores > hw.total_cores:
        _refuse(hw, "cores", n_cores, hw.total_cores,
                f"{hw.chips} chip(s) x {hw.cores_per_chip} cores; {n_neurons} neurons at up to {hw.neurons_per_core} "
                f"per core and {n_syn_cores} synapses at up to {hw.synapses_per_core} per core; chips needed at least "
                f"{math.ceil(n_cores / hw.cores_per_chip)}")
    if n_neurons > hw.chips * hw.neurons_per_chip:
        _refuse(hw, "neurons", n_neurons, hw.chips * hw.neurons_per_chip,
                f"{hw.chips} chip(s) x {hw.neurons_per_chip} neurons; chips needed at least "
                f"{math.ceil(n_neurons / hw.neurons_per_chip)}")
    if n_syn_cores > hw.chips * hw.synapses_per_chip:
        _refuse(hw, "synapses", n_syn_cores, hw.chips * hw.synapses_per_chip,
                f"{hw.chips} chip(s) x {hw.synapses_per_chip} synapses; chips needed at least "
                f"{math.ceil(n_syn_cores / hw.synapses_per_chip)}")

    # step 2: block graph
    blocks = {"n_cores": n_cores, "bounds": bounds, "first": first, "neuron_block": neuron_block, "host": host}
    syn, msg = _block_graph(program, blocks, rate)

    # step 3: partition
    core_core = (syn if objective == "synapses" else msg)[:n_cores].astype(float)
    adj = (core_core + core_core.T).tocsr()
    adj.setdiag(0)
    adj.eliminate_zeros()
    cap = _capacities(hw, loads, balance) if n_cores else np.zeros(3)
    chip_of = _grow(adj, loads, cap, hw.chips) if n_cores else np.zeros(0, dtype=np.int64)
    left = np.flatnonzero(chip_of < 0)
    if left.size:
        _refuse(hw, "cores placed", n_cores, n_cores - left.size,
                f"{left.size} core(s) did not fit any chip's limits ({int(cap[0])} cores, {int(cap[1])} neurons, "
                f"{int(cap[2])} synapses per chip{' in balanced mode' if balance else ''}): use more chips"
                + ("" if not balance else " or balance=False"))
    refined = n_cores * hw.chips <= REFINE_MAX_ENTRIES
    notes = []
    if n_cores and refined and hw.chips > 1:
        chip_of = _refine(adj, loads, cap, chip_of, hw.chips)
    elif n_cores and not refined:
        notes.append(f"refinement skipped ({n_cores} cores x {hw.chips} chips > {REFINE_MAX_ENTRIES}): greedy growing only")

    # reports
    chips = hw.chips
    chip_cores = np.bincount(chip_of, minlength=chips).astype(np.int64)
    chip_neurons = np.bincount(chip_of, weights=loads[:, 1], minlength=chips).astype(np.int64)
    chip_synapses = np.bincount(chip_of, weights=loads[:, 2], minlength=chips).astype(np.int64)
    src_chip = np.concatenate([chip_of, np.full(len(host), chips, dtype=np.int64)])
    to_chip = sp.csr_matrix((np.ones(n_cores), (np.arange(n_cores), chip_of)), shape=(n_cores, chips))
    from_chip = sp.csr_matrix((np.ones(src_chip.size), (src_chip, np.arange(src_chip.size))),
                              shape=(chips + 1, src_chip.size))
    traffic_all = np.asarray((from_chip @ msg @ to_chip).todense())      # (chips + host, chips)
    syn_chip = np.asarray((from_chip @ syn.astype(float) @ to_chip).todense())
    traffic = traffic_all[:chips].copy()
    np.fill_diagonal(traffic, 0.0)
    cut = int(round(syn_chip[:chips].sum() - np.trace(syn_chip[:chips])))
    return ChipMap(
        hardware=hw, populations=names, core_population=core_pop, core_start=core_start, core_stop=core_stop,
        core_synapses=core_syn, core_chip=chip_of, chip_cores=chip_cores, chip_neurons=chip_neurons,
        chip_synapses=chip_synapses, chip_out=traffic.sum(axis=1), chip_in=traffic.sum(axis=0),
        chip_host_in=traffic_all[chips].copy(), traffic=traffic, neurons=program.n_neurons,
        synapses=program.n_synapses, cut_synapses=cut, messages_per_step=float(traffic.sum()),
        rate_source=rate_source, objective=objective, balance=bool(balance), refined=refined or hw.chips == 1,
        dt=program.dt, notes=notes)
