"""Genetic weight evolution of a fixed-topology spiking classifier on scikit-learn's 8x8 digits.

The topology is fixed; only the weights evolve (a genome is every weight of the network, in graph
units, flattened projection by projection in ``(post, pre)`` row-major order):

* ``hidden=0`` (the default): 64 pixels -> Poisson spikes -> ``out``, one LIF neuron per class;
* ``hidden=H``: 64 pixels -> Poisson spikes -> ``hidden``, ``H`` conductance-based LIF neurons
  (:class:`neuroport.CondLIF`, positive weights are excitatory conductances, negative ones inhibitory)
  -> ``out`` (LIF, one neuron per class).

A pixel of intensity ``i`` (0..16) fires with ``i / 16 * max_rate_hz`` Hz for ``steps`` steps of
``dt`` seconds. The predicted class is the output neuron with the most spikes (ties: the lowest
index; a silent output counts as wrong, as :func:`neuroport.sweep.readout_accuracy`).

Fitness of a genome = training accuracy (fraction in [0, 1]) + ``margin_weight`` x the mean over the
training samples of ``tanh((spikes of the correct neuron - most spikes of another) / 4)``: the small
second term ranks genomes of equal accuracy by how clearly they separate the classes, which gives
the selection a slope where accuracy is flat.

The genetic algorithm is PyGAD's (:class:`pygad.GA`): tournament selection of parents, uniform
crossover, additive uniform mutation of ``mutation_percent`` % of the genes by up to
``+-mutation_step``, and ``elitism`` best genomes copied unchanged into the next generation; seeded
(``seed``: the same seed gives the same genomes, fitness values and network). PyGAD calls the
fitness once per generation with every genome it has not scored yet (``fitness_batch_size``: all
but the elites, whose fitness it keeps), and that batch is **one engine run**: :func:`stack_program` puts ``individuals x samples`` independent copies of the
network side by side in one :class:`~neuroport.program.Program` (block-diagonal weights; the copies
of one training sample read the same input channels, so every individual sees the same spikes),
which :func:`neuroport.run` steps on the numpy engine (``engine="compiled"``: numba kernels).

Example
-------
>>> from neuroport.apps import evolve as ev
>>> result = ev.evolve((0, 1), population=4, generations=1, train_per_class=4, steps=20,
...                    progress=False, test_backends=())
>>> result.generations, len(result.history)
(1, 2)
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from neuroport.errors import InputError

__all__ = ["Config", "EvolveResult", "Data", "load_data", "build", "stack_program", "encode", "spike_counts",
           "accuracy", "evaluate", "held_out_counts", "evolve", "METADATA_KEY", "N_PIXELS"]

METADATA_KEY = "neuroport.evolve"  #: graph metadata: JSON with classes, encoding, config, accuracies
N_PIXELS = 64
INPUT, HIDDEN, OUTPUT = "x", "hidden", "out"


@dataclass(frozen=True)
class Config:
    """Settings of one evolution (units in the names; counts are plain integers).

    Attributes
    ----------
    classes : tuple of int
        2 to 5 distinct digits 0..9; output neuron ``k`` stands for ``classes[k]``.
    hidden : int
        CondLIF hidden neurons; 0 connects the input straight to the output.
    population : int
        Genomes per generation (>= 2).
    generations : int
        Generations to run (>= 0; fewer if ``target_accuracy`` or ``time_limit_s`` stops it).
    parents : int or None
        Genomes chosen by tournament (of 3) to breed each generation (2 .. population; default
        ``min(12, population)``).
    elitism : int
        Best genomes copied unchanged into the next generation (0 .. population - 1).
    mutation_percent : float
        Percent of a child's genes mutated (0 < p <= 100).
    mutation_step : float
        A mutation adds a uniform value in ``[-mutation_step, +mutation_step]`` (graph weight units).
    weight_range : float
        Initial weights are uniform in ``[-weight_range, +weight_range]``.
    steps, dt : int, float
        Presentation length: ``steps`` steps of ``dt`` seconds per sample.
    max_rate_hz : float
        Poisson rate of a pixel of intensity 16 (Hz); ``max_rate_hz * dt <= 1``.
    train_per_class : int
        Training samples per class (the first of the fixed train split; fewer if the split has fewer).
    tau_out_s, tau_hidden_s : float
        Membrane time constants of the output LIF and the hidden CondLIF neurons (s).
    margin_weight : float
        Weight of the margin term in the fitness (module docstring).
    fresh_spikes : bool
        Draw new training spikes every generation (seeded by ``seed`` and the generation), so that
        selection favours genomes robust to the Poisson noise (elites keep the fitness of the draw
        they were scored on); False: one draw for the whole run.
    target_accuracy : float or None
        Stop once the best genome's training accuracy reaches this fraction.
    time_limit_s : float or None
        Stop after the generation during which this much wall time (s) has passed.
    seed : int
        Seeds the initial population, the GA's draws and the Poisson spikes.
    """

    classes: tuple = (0, 1, 2)
    hidden: int = 0
    population: int = 32
    generations: int = 100
    parents: int | None = None
    elitism: int = 2
    mutation_percent: float = 10.0
    mutation_step: float = 1.0
    weight_range: float = 2.0
    steps: int = 40
    dt: float = 1e-3
    max_rate_hz: float = 500.0
    train_per_class: int = 60
    tau_out_s: float = 0.02
    tau_hidden_s: float = 0.02
    margin_weight: float = 0.05
    fresh_spikes: bool = False
    target_accuracy: float | None = None
    time_limit_s: float | None = None
    seed: int = 0

    def __post_init__(self):
        classes = self.classes
        if isinstance(classes, (int, np.integer)) or not hasattr(classes, "__iter__"):
            raise InputError(f"classes: expected 2 to 5 distinct digits such as (0, 1, 2), got {classes!r}")
        try:
            values = tuple(int(c) for c in classes)
        except (TypeError, ValueError):
            raise InputError(f"classes: expected digits 0..9, got {classes!r}") from None
        if any(isinstance(c, bool) or float(c) != int(c) for c in classes):
            raise InputError(f"classes: expected whole digits 0..9, got {classes!r}")
        bad = [c for c in values if not 0 <= c <= 9]
        if bad:
            raise InputError(f"classes: {bad} are not digits; the digits data has classes 0..9")
        if len(set(values)) != len(values):
            raise InputError(f"classes: {values} repeats a digit; give each class once")
        if not 2 <= len(values) <= 5:
            raise InputError(f"classes: expected 2 to 5 digits, got {len(values)} ({values}); "
                             "a classifier needs at least two classes")
        object.__setattr__(self, "classes", values)
        _int("population", self.population, 2)
        _int("generations", self.generations, 0)
        _int("hidden", self.hidden, 0)
        _int("steps", self.steps, 1)
        _int("train_per_class", self.train_per_class, 1)
        _int("seed", self.seed, 0)
        if self.parents is None:
            object.__setattr__(self, "parents", min(12, int(self.population)))
        if not 2 <= _int("parents", self.parents, 2) <= self.population:
            raise InputError(f"parents: expected 2 .. population ({self.population}), got {self.parents}")
        if not 0 <= _int("elitism", self.elitism, 0) < self.population:
            raise InputError(f"elitism: expected 0 .. population - 1 ({self.population - 1}), got {self.elitism}")
        _float("mutation_percent", self.mutation_percent, 0.0, 100.0)
        for name in ("mutation_step", "weight_range", "dt", "max_rate_hz", "tau_out_s", "tau_hidden_s"):
            _float(name, getattr(self, name), 0.0)
        if self.max_rate_hz * self.dt > 1.0:
            raise InputError(f"max_rate_hz * dt = {self.max_rate_hz * self.dt:g}: more than one spike per step; "
                             f"lower max_rate_hz below {1.0 / self.dt:g} Hz")
        if not (isinstance(self.margin_weight, (int, float)) and 0 <= self.margin_weight <= 1):
            raise InputError(f"margin_weight: expected a number in [0, 1], got {self.margin_weight!r}")
        if self.target_accuracy is not None:
            _float("target_accuracy", self.target_accuracy, 0.0, 1.0)
        if self.time_limit_s is not None:
            _float("time_limit_s", self.time_limit_s, 0.0)

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def _int(name, value, minimum) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _float(name, value, low, high=None) -> float:
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    if not ok or not np.isfinite(value) or value <= low or (high is not None and value > high):
        rng = f"({low:g}, {high:g}]" if high is not None else f"> {low:g}"
        raise InputError(f"{name}: expected a number {rng}, got {value!r}")
    return float(value)


# ---------------------------------------------------------------------------------------------- data
@dataclass
class Data:
    """A class subset of the digits: images (n, 64) in 0..16 and labels (n,) as class indices 0..k-1."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple


def load_data(classes, train_per_class: int) -> Data:
    """The samples of ``classes`` from :func:`neuroport.apps.diehl_cook.load_split` (the fixed 80/20 split).

    Training: the first ``train_per_class`` samples of each class of the train split (in the split's
    order, classes interleaved as they come); test: every test-split sample of those classes.
    """
    from neuroport.apps.diehl_cook import load_split

    classes = tuple(classes)
    split = load_split()
    index = {c: k for k, c in enumerate(classes)}
    keep, taken = [], {c: 0 for c in classes}
    for i, y in enumerate(split.y_train):
        if y in taken and taken[y] < train_per_class:
            keep.append(i)
            taken[y] += 1
    test = np.flatnonzero(np.isin(split.y_test, classes))
    as_index = np.vectorize(index.__getitem__, otypes=[np.int64])
    return Data(split.x_train[keep], as_index(split.y_train[keep]), split.x_test[test],
                as_index(split.y_test[test]), classes)


def encode(images, *, steps: int, dt: float, max_rate_hz: float, seed: int) -> np.ndarray:
    """Poisson spikes of ``images`` (n, 64) in 0..16, side by side: uint8 array (steps, n * 64).

    Columns ``64 * s .. 64 * s + 63`` are sample ``s``'s pixels (rate ``i / 16 * max_rate_hz`` Hz)."""
    from neuroport.encoders import poisson

    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 2 or images.shape[1] != N_PIXELS:
        raise InputError(f"images: expected shape (n, {N_PIXELS}) of 8x8 digits, got {images.shape}")
    return poisson(images.reshape(-1) / 16.0 * max_rate_hz, steps=steps, dt=dt, seed=seed)


# ---------------------------------------------------------------------------------------------- network
def layer_shapes(config: Config) -> list:
    """``[(pre, post, (n_post, n_pre)), ...]``: the evolved projections in genome order."""
    if config.hidden:
        return [(INPUT, HIDDEN, (config.hidden, N_PIXELS)), (HIDDEN, OUTPUT, (config.n_classes, config.hidden))]
    return [(INPUT, OUTPUT, (config.n_classes, N_PIXELS))]


def n_genes(config: Config) -> int:
    return int(sum(np.prod(shape) for _pre, _post, shape in layer_shapes(config)))


def split_genome(genome, config: Config) -> list:
    """The weight matrices (post, pre) of one genome (graph units), in :func:`layer_shapes` order."""
    genome = np.asarray(genome, dtype=np.float64).reshape(-1)
    if genome.size != n_genes(config):
        raise InputError(f"genome: expected {n_genes(config)} weights for this topology, got {genome.size}")
    out, at = [], 0
    for _pre, _post, shape in layer_shapes(config):
        size = int(np.prod(shape))
        out.append(genome[at:at + size].reshape(shape))
        at += size
    return out


def build(config: Config, genome=None):
    """The network of one genome as a :class:`neuroport.Network` (all weights 1.0 without a genome)."""
    import neuroport

    net = neuroport.Network()
    net.input(N_PIXELS, name=INPUT)
    if config.hidden:
        net.population(config.hidden, neuroport.CondLIF(tau_mem=config.tau_hidden_s), name=HIDDEN)
    net.population(config.n_classes, neuroport.LIF(tau=config.tau_out_s, v_threshold=1.0), name=OUTPUT)
    weights = (split_genome(genome, config) if genome is not None
               else [np.ones(shape) for _pre, _post, shape in layer_shapes(config)])
    for (pre, post, _shape), w in zip(layer_shapes(config), weights):
        net.connect(pre, post, weight=w, name=f"{pre}->{post}")
    net.output(OUTPUT)
    return net


# ---------------------------------------------------------------------------------------------- stacking
def _tile_param(value, blocks: int):
    arr = np.asarray(value)
    return value if arr.ndim == 0 else np.tile(arr, blocks)


def _stacked_population(pop, blocks: int):
    params = {k: _tile_param(v, blocks) for k, v in pop.params.items()}
    v_offset = None if pop.v_offset is None else np.tile(np.asarray(pop.v_offset), blocks)
    extra = {k: (_tile_param(v, blocks) if isinstance(v, np.ndarray) and v.shape == (pop.size,) else v)
             for k, v in pop.extra.items()}
    return dataclasses.replace(pop, size=pop.size * blocks, params=params, v_offset=v_offset,
                               shape=(pop.size * blocks,), extra=extra)


def _block_csr(template: sp.csr_matrix, data_blocks: np.ndarray, samples: int, pre_is_input: bool):
    """Block-diagonal CSR of ``B = data_blocks.shape[0]`` copies of ``template``'s pattern; copy ``b``
    has data ``data_blocks[b]`` (nnz,) and reads pre block ``b % samples`` (input) or ``b``."""
    n_post, n_pre = template.shape
    blocks = data_blocks.shape[0]
    nnz = template.nnz
    b = np.arange(blocks, dtype=np.int64)
    indptr = np.concatenate([(template.indptr[:-1][None, :] + nnz * b[:, None]).reshape(-1), [nnz * blocks]])
    col_block = b % samples if pre_is_input else b
    indices = (template.indices[None, :].astype(np.int64) + n_pre * col_block[:, None]).reshape(-1)
    n_cols = n_pre * (samples if pre_is_input else blocks)
    m = sp.csr_matrix((np.ascontiguousarray(data_blocks, dtype=np.float64).reshape(-1), indices, indptr),
                      shape=(n_post * blocks, n_cols))
    m.has_sorted_indices = True
    return m


def stack_program(program, samples: int, data=None, individuals: int = 1):
    """``individuals x samples`` independent copies of a float Program side by side, in one Program.

    Copy ``b = i * samples + s`` (individual ``i``, sample ``s``) owns neurons ``b * n .. b * n + n - 1``
    of every non-input population of size ``n``; an input population of size ``n`` gets ``samples * n``
    channels, block ``s`` shared by the ``individuals`` copies of sample ``s``. Parameters are tiled;
    every projection becomes block-diagonal with the template's sparsity pattern.

    Parameters
    ----------
    program : FloatProgram
        One copy of the network (``level="discrete"``), e.g. ``neuroport.compile(graph, dt=...)``.
    samples : int
        Copies per individual (one per sample presented in parallel).
    data : dict {projection name: array (individuals, nnz)}, optional
        Each individual's synapse values in the engine's units, in the template projection's CSR
        order; a projection not named keeps the template's own values for every copy.
    individuals : int
        Number of weight sets (rows of each ``data`` array).

    Returns
    -------
    FloatProgram
        Without a source graph (``graph=None``): it runs on ``numpy`` and, quantized, ``numpy-fixed``.
    """
    from neuroport.program import FloatProgram

    if not isinstance(program, FloatProgram):
        raise InputError(f"stack_program: expected the float Program of neuroport.compile, got {type(program).__name__}")
    samples, individuals = _int("samples", samples, 1), _int("individuals", individuals, 1)
    data = dict(data or {})
    unknown = set(data) - {p.name for p in program.projections}
    if unknown:
        raise InputError(f"stack_program: no projections {sorted(unknown)}; the Program has "
                         f"{[p.name for p in program.projections]}")
    blocks = individuals * samples
    pops = {name: _stacked_population(pop, samples if pop.is_input else blocks)
            for name, pop in program.populations.items()}
    projections = []
    for proj in program.projections:
        w = proj.weights.tocsr()
        if proj.name in data:
            values = np.asarray(data[proj.name], dtype=np.float64)
            if values.shape != (individuals, w.nnz):
                raise InputError(f"stack_program: data[{proj.name!r}] has shape {values.shape}, "
                                 f"expected (individuals, nnz) = ({individuals}, {w.nnz})")
            per_block = np.repeat(values, samples, axis=0)
        else:
            per_block = np.broadcast_to(w.data, (blocks, w.nnz))
        pre_is_input = program.populations[proj.pre].is_input
        projections.append(dataclasses.replace(
            proj, weights=_block_csr(w, per_block, samples, pre_is_input),
            delays=np.tile(np.asarray(proj.delays), blocks)))
    return program.replace(populations=pops, projections=tuple(projections), probes=(), graph=None)


def spike_counts(result, program, samples: int, individuals: int = 1) -> np.ndarray:
    """Output spike counts of a stacked run: int array (individuals, samples, n_classes)."""
    train = result.spikes[OUTPUT]
    n_out = program.populations[OUTPUT].size // (samples * individuals)
    counts = np.bincount(train.neurons, minlength=train.size)
    return counts.reshape(individuals, samples, n_out)


def accuracy(counts, labels) -> np.ndarray:
    """Fraction correct per individual: counts (individuals, samples, classes), labels (samples,).

    The prediction is the neuron with most spikes (ties: lowest index); a silent sample is wrong."""
    counts = np.asarray(counts)
    hits = (counts.argmax(axis=-1) == np.asarray(labels)[None, :]) & (counts.max(axis=-1) > 0)
    return hits.mean(axis=-1)


def _margin(counts, labels) -> np.ndarray:
    """Mean ``tanh((correct - best other) / 4)`` per individual (counts (P, S, C), labels (S,))."""
    s = np.arange(counts.shape[1])
    correct = counts[:, s, labels].astype(np.float64)
    others = counts.astype(np.float64).copy()
    others[:, s, labels] = -np.inf
    return np.tanh((correct - others.max(axis=-1)) / 4.0).mean(axis=-1)


class _Evaluator:
    """Runs a whole generation of genomes on the training samples as one engine run."""

    def __init__(self, config: Config, images, labels, *, engine=None):
        import neuroport

        self.config, self.labels, self.engine = config, np.asarray(labels), engine
        self.samples = len(labels)
        self.images = images
        self.generation = 0
        self.spikes = encode(images, steps=config.steps, dt=config.dt, max_rate_hz=config.max_rate_hz,
                             seed=_seed(config.seed, 1))
        # the engine's units per graph weight, per synapse: compile with every weight +1 (and -1 for the
        # inhibitory port of two-port CondLIF neurons)
        self.template = neuroport.compile(build(config).to_nir(), dt=config.dt)
        genome_len = n_genes(config)
        negative = neuroport.compile(build(config, -np.ones(genome_len)).to_nir(), dt=config.dt) \
            if config.hidden else None
        self.layers = []  # (projection name, genome slice, exc gain, inh gain or None)
        at = 0
        for pre, post, shape in layer_shapes(config):
            size = int(np.prod(shape))
            matching = [p for p in self.template.projections if p.pre == pre and p.post == post]
            if len(matching) != 1 or matching[0].nnz != size:
                from neuroport.errors import CompileError

                raise CompileError(f"evolve: expected one all-to-all projection {pre}->{post} of {size} synapses "
                                   f"in the compiled template, found {[p.name for p in matching]}")
            proj = matching[0]
            inh = None
            if negative is not None and self.template.populations[post].two_port:
                inh_proj = [p for p in negative.projections if p.pre == pre and p.post == post]
                inh = inh_proj[0].weights.tocsr().data.copy()
            self.layers.append((proj, slice(at, at + size), proj.weights.tocsr().data.copy(), inh))
            at += size
        self.runs = 0

    def next_generation(self) -> None:
        """With ``fresh_spikes``: draw the training spikes of the next generation."""
        self.generation += 1
        if self.config.fresh_spikes:
            c = self.config
            self.spikes = encode(self.images, steps=c.steps, dt=c.dt, max_rate_hz=c.max_rate_hz,
                                 seed=_seed(c.seed, 1, self.generation))

    def program(self, genomes):
        """The stacked Program of ``genomes`` (P, genes) over the training samples."""
        genomes = np.atleast_2d(np.asarray(genomes, dtype=np.float64))
        data, projections = {}, []
        base = self.template
        for proj, where, gain, inh_gain in self.layers:
            w = genomes[:, where]
            if inh_gain is None:
                data[proj.name] = w * gain
                continue
            # two-port target: every synapse on both ports, its positive part excitatory, negative inhibitory
            inh = dataclasses.replace(proj, name=proj.name.replace(":exc", "") + ":inh",
                                      extra={**proj.extra, "port": "inh"})
            projections.append(inh)
            data[proj.name] = np.maximum(w, 0.0) * gain
            data[inh.name] = np.maximum(-w, 0.0) * inh_gain
        if projections:
            base = base.replace(projections=tuple(base.projections) + tuple(projections))
        return stack_program(base, self.samples, data, individuals=genomes.shape[0])

    def counts(self, genomes) -> np.ndarray:
        import neuroport

        genomes = np.atleast_2d(genomes)
        program = self.program(genomes)
        result = neuroport.run(program, backend="numpy", steps=self.config.steps, inputs={INPUT: self.spikes},
                               engine=self.engine, progress=False)
        self.runs += 1
        return spike_counts(result, program, self.samples, genomes.shape[0])

    def fitness(self, genomes):
        counts = self.counts(genomes)
        acc = accuracy(counts, self.labels)
        return acc + self.config.margin_weight * _margin(counts, self.labels), acc


def _seed(*parts) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


# ---------------------------------------------------------------------------------------------- results
@dataclass
class EvolveResult:
    """What :func:`evolve` found.

    Attributes
    ----------
    config : Config
    genome : numpy.ndarray (genes,)
        The best genome's weights (graph units).
    network : neuroport.Network
        The best network; ``network.to_nir()`` records the classes and encoding in
        ``metadata[METADATA_KEY]`` (what :func:`evaluate` reads back).
    train_accuracy : float
        The best genome's accuracy on the training samples (fraction).
    test_accuracy : dict {backend: float}
        Held-out accuracy on the test split per backend of ``test_backends``.
    history : list of dict
        Per generation (0 = the initial population): ``generation``, ``best_fitness``, ``mean_fitness``,
        ``best_accuracy`` (training), ``mean_accuracy``.
    generations : int
        Generations run (after the initial population).
    wall_s, cpu_s : float
        Wall-clock and process CPU time of the evolution (s), evaluation of the test split excluded.
    engine_runs : int
        Engine runs made by the evolution (one per generation, one for the initial population and one
        re-scoring the best genome on the training samples).
    """

    config: Config
    genome: np.ndarray
    network: object
    train_accuracy: float
    test_accuracy: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    generations: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    engine_runs: int = 0

    @property
    def generations_per_s(self) -> float:
        return self.generations / self.wall_s if self.wall_s > 0 else float("nan")

    def accuracy_drop(self, backend: str = "numpy-fixed", reference: str = "numpy") -> float:
        """``test_accuracy[reference] - test_accuracy[backend]`` (fraction; positive: ``backend`` is worse)."""
        return self.test_accuracy[reference] - self.test_accuracy[backend]

    def graph(self):
        return self.network.to_nir()


def _metadata(config: Config, **extra) -> str:
    return json.dumps({"classes": list(config.classes), "steps": config.steps, "dt": config.dt,
                       "max_rate_hz": config.max_rate_hz, "seed": config.seed,
                       "config": {k: v for k, v in dataclasses.asdict(config).items()}, **extra})


def read_metadata(graph) -> dict:
    """The evolution's record in a graph written by :func:`evolve` (classes, steps, dt, max_rate_hz, ...)."""
    meta = getattr(graph, "metadata", None) or {}
    raw = meta.get(METADATA_KEY) if isinstance(meta, dict) else None
    if raw is None:
        raise InputError(f"the graph has no {METADATA_KEY!r} metadata: it was not written by neuroport evolve "
                         "(give classes, steps, dt and max_rate_hz yourself)")
    try:
        return json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{METADATA_KEY!r} metadata is not valid JSON: {exc}") from None


def evaluate(graph, images=None, labels=None, *, backend: str = "numpy", seed: int | None = None,
             max_samples: int | None = None, engine=None) -> float:
    """Held-out accuracy (fraction) of an evolved network (a ``nir.NIRGraph``, Network or ``.nir`` path) on
    ``backend``: :func:`accuracy` of :func:`held_out_counts` (same arguments)."""
    counts, labels = held_out_counts(graph, images, labels, backend=backend, seed=seed, max_samples=max_samples,
                                 engine=engine)
    return float(accuracy(counts[None], labels)[0])


def held_out_counts(graph, images=None, labels=None, *, backend: str = "numpy", seed: int | None = None,
                max_samples: int | None = None, engine=None):
    """Output spike counts of an evolved network per sample: ``(counts (samples, classes), labels (samples,))``.

    Without ``images``/``labels`` the test split of the classes the graph records is used. All samples
    run as one stacked engine run for ``numpy`` and ``numpy-fixed`` (quantized as a whole: the copies
    are identical, so the scales are those of one copy) and for the Lava backends (keep ``max_samples``
    small there: the stacked network is ``samples`` times larger); Brian2 (``level="nir"``, built from the
    graph's continuous-time equations) runs the file once per sample. The Poisson spikes are drawn with
    ``seed`` (default: the recorded evolution seed, stream 2: unlike the training spikes).
    """
    import neuroport

    if isinstance(graph, (str, os.PathLike)):
        graph = neuroport.read(graph)
    if hasattr(graph, "to_nir"):
        graph = graph.to_nir()
    meta = read_metadata(graph)
    if images is None:
        data = load_data(meta["classes"], 1)
        images, labels = data.x_test, data.y_test
    images, labels = np.asarray(images), np.asarray(labels)
    if max_samples is not None:
        images, labels = images[:max_samples], labels[:max_samples]
    if len(labels) == 0:
        raise InputError("evaluate: no samples")
    steps, dt = int(meta["steps"]), float(meta["dt"])
    spikes = encode(images, steps=steps, dt=dt, max_rate_hz=float(meta["max_rate_hz"]),
                    seed=_seed(meta["seed"] if seed is None else seed, 2))
    from neuroport import backend as registry

    if registry.get(backend).level == "nir":  # Brian2 builds from the graph itself: one run per sample
        counts = []
        for s in range(len(labels)):
            result = neuroport.run(graph, backend=backend, steps=steps, dt=dt, progress=False,
                                   inputs={INPUT: spikes[:, N_PIXELS * s:N_PIXELS * (s + 1)]})
            counts.append(np.bincount(result.spikes[OUTPUT].neurons, minlength=result.spikes[OUTPUT].size))
        return np.asarray(counts), labels
    program = neuroport.compile(graph, dt=dt)
    stacked = stack_program(program, len(labels))
    extra = {"engine": engine} if engine is not None and backend in ("numpy", "numpy-fixed") else {}
    result = neuroport.run(stacked, backend=backend, steps=steps, inputs={INPUT: spikes}, progress=False, **extra)
    return spike_counts(result, stacked, len(labels))[0], labels


# ---------------------------------------------------------------------------------------------- evolve
def evolve(classes=(0, 1, 2), *, out=None, progress: bool = True, engine: str | None = None,
           test_backends=("numpy", "numpy-fixed"), **options) -> EvolveResult:
    """Evolve the weights of a fixed-topology classifier for ``classes`` of the digits.

    Parameters
    ----------
    classes : sequence of 2 to 5 digits
    out : path, optional
        Write the best network there as ``.nir`` (atomically, :func:`neuroport.write`).
    progress : bool
        A tqdm bar over generations with the best and mean fitness and the best training accuracy.
    engine : {"compiled", "numpy"} or None
        The numpy engine's path for the stacked runs (``None``: ``"compiled"`` when numba imports, else
        ``"numpy"``; both give identical spikes, the compiled one measured 3x faster here).
    test_backends : sequence of str
        Backends on which the best network's held-out accuracy is measured (``EvolveResult.test_accuracy``).
    **options
        Any :class:`Config` field (``hidden``, ``population``, ``generations``, ``seed``, ...).

    Returns
    -------
    EvolveResult
    """
    unknown = set(options) - {f.name for f in dataclasses.fields(Config)} | ({"classes"} & set(options))
    if unknown:
        names = ", ".join(f.name for f in dataclasses.fields(Config) if f.name != "classes")
        raise InputError(f"evolve: unknown options {sorted(unknown)}; Config has {names}")
    config = Config(classes=classes, **options)
    try:
        import pygad
    except ImportError as exc:
        from neuroport.errors import BackendUnavailableError

        raise BackendUnavailableError(f"evolve needs PyGAD ({exc}); pip install 'neuroport[evolve]'") from None
    import neuroport

    if out is not None:
        out = os.fspath(out)
        directory = os.path.dirname(os.path.abspath(out))
        if not os.path.isdir(directory):
            raise InputError(f"out {out!r}: folder {directory} does not exist")
    if engine is None:
        from neuroport.models import jit

        engine = "compiled" if jit.AVAILABLE else "numpy"
    data = load_data(config.classes, config.train_per_class)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    evaluator = _Evaluator(config, data.x_train, data.y_train, engine=engine)
    genes = n_genes(config)
    rng = np.random.default_rng(_seed(config.seed, 0))
    initial = rng.uniform(-config.weight_range, config.weight_range, size=(config.population, genes))
    history, accuracies = [], {}

    def fitness_func(_ga, solutions, _indices):
        fit, acc = evaluator.fitness(np.asarray(solutions))
        for sol, a in zip(np.atleast_2d(solutions), acc):
            accuracies[np.asarray(sol, dtype=np.float64).tobytes()] = float(a)
        if not history:  # the first call is the whole initial population (one batch): generation 0
            record(solutions, fit)
        return list(map(float, fit))

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.generations, desc=f"evolve {','.join(map(str, config.classes))}", unit="gen")

    def record(population, fitness):
        fit = np.asarray(fitness, dtype=np.float64)
        acc = np.array([accuracies.get(np.asarray(s, dtype=np.float64).tobytes(), np.nan) for s in population])
        best = int(np.argmax(fit))
        history.append({"generation": len(history), "best_fitness": float(fit[best]),
                        "mean_fitness": float(fit.mean()), "best_accuracy": float(acc[best]),
                        "mean_accuracy": float(np.nanmean(acc))})
        return history[-1]

    def on_generation(ga):
        h = record(ga.population, ga.last_generation_fitness)
        evaluator.next_generation()
        if bar is not None:
            bar.set_postfix(best=f"{h['best_fitness']:.3f}", mean=f"{h['mean_fitness']:.3f}",
                            acc=f"{h['best_accuracy']:.3f}", refresh=False)
            bar.update(1)
        if config.target_accuracy is not None and h["best_accuracy"] >= config.target_accuracy:
            return "stop"
        if config.time_limit_s is not None and time.perf_counter() - wall0 >= config.time_limit_s:
            return "stop"
        return None

    ga = pygad.GA(num_generations=max(config.generations, 1), num_parents_mating=config.parents,
                  fitness_func=fitness_func, fitness_batch_size=config.population,
                  initial_population=initial, gene_type=float,
                  parent_selection_type="tournament", K_tournament=3, crossover_type="uniform",
                  mutation_type="random", mutation_percent_genes=config.mutation_percent,
                  random_mutation_min_val=-config.mutation_step, random_mutation_max_val=config.mutation_step,
                  mutation_by_replacement=False, keep_elitism=config.elitism, keep_parents=0,
                  on_generation=on_generation, random_seed=_seed(config.seed, 3) % (2 ** 32),
                  suppress_warnings=True, save_best_solutions=False, save_solutions=False)
    try:
        if config.generations == 0:  # the initial population only
            fit = np.asarray(fitness_func(ga, initial, list(range(config.population))))
            genome = initial[int(np.argmax(fit))]
        else:
            ga.run()
            genome, _fit, _idx = ga.best_solution(pop_fitness=ga.last_generation_fitness)
    finally:
        if bar is not None:
            bar.close()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    genome = np.asarray(genome, dtype=np.float64)
    train_acc = float(accuracy(evaluator.counts(genome[None, :]), data.y_train)[0])
    net = build(config, genome)
    result = EvolveResult(config=config, genome=genome, network=net, train_accuracy=train_acc, history=history,
                          generations=len(history) - 1,
                          wall_s=wall, cpu_s=cpu, engine_runs=evaluator.runs)
    net.metadata[METADATA_KEY] = _metadata(config, train_accuracy=train_acc, generations=result.generations)
    for backend in test_backends:
        result.test_accuracy[backend] = evaluate(net.to_nir(), data.x_test, data.y_test, backend=backend,
                                                 engine=engine)
    if result.test_accuracy:
        net.metadata[METADATA_KEY] = _metadata(config, train_accuracy=train_acc, generations=result.generations,
                                               test_accuracy=result.test_accuracy)
    if out is not None:
        neuroport.write(out, net, options={"dt": config.dt})
    return result
