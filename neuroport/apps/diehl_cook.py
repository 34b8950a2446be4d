"""The Diehl & Cook (2015) digit classifier as an application: training, labels, files.

The network itself (:class:`Config`, :func:`build`, :func:`frozen`) is in
:mod:`neuroport.models.networks.diehl_cook` and is re-exported here. This
module trains it on scikit-learn's 8x8 digits with the stateful
:class:`neuroport.Simulator`, in float (``numpy``) or in Loihi 2 fixed point
(``backend="numpy-fixed"``: the quantized rule on the emulation of the
learning engine, see docs/diehl_cook.md "Fixed-point training"); it is what
``neuroport train`` and ``neuroport evaluate`` run.

* each sample is shown for ``steps`` steps, then the state is reset
  (``sim.reset()`` keeps weights and theta). If fewer than ``min_spikes``
  excitatory spikes occur, the sample is shown again with ``boost_rate`` Hz
  more (as in the paper); no spike means no weight or theta change, so the
  failed presentation leaves no trace;
* each neuron's incoming weights are rescaled to sum ``weight_sum`` after
  every sample (through ``Simulator.weights`` / ``set_weights``).

Labels are used only after training: :meth:`DiehlCook.assign` runs the
frozen network (:func:`frozen`) over labelled samples and gives each neuron
the class it responds to most; :meth:`DiehlCook.predict` votes with the mean
response per class. Every random draw (sample order, Poisson spikes) is a
function of ``(seed, epoch, sample)``, so training continued from a saved
``.nir`` file is identical to an uninterrupted run.

Example
-------
>>> from neuroport.apps import diehl_cook as dc
>>> data = dc.load_split()
>>> model = dc.DiehlCook(dc.Config(neurons=10, steps=30), seed=0)
>>> model.fit(data.x_train[:5], progress=False)["epochs_done"]
1
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from dataclasses import dataclass

import nir
import numpy as np
from tqdm.auto import tqdm

import neuroport
from neuroport import backend as registry
from neuroport.api import prepare
from neuroport.encoders import poisson
from neuroport.errors import InputError, QuantizationWarning
from neuroport.models import jit
from neuroport.models.networks.diehl_cook import Config, build, frozen

__all__ = ["Config", "build", "frozen", "Split", "load_split", "present", "OneShot", "assign_labels", "vote",
           "DiehlCook", "LABELS_KEY", "STATE_KEY", "SPLIT_SEED", "N_CLASSES", "TRAIN_BACKENDS",
           "ONE_SHOT_BACKENDS", "present_batch", "BATCH_SIZE", "BATCH_SYNAPSES"]

LABELS_KEY = "neuroport.labels"  #: graph metadata: JSON list, class of each neuron (-1: unassigned)
STATE_KEY = "neuroport.diehl_cook"  #: graph metadata: JSON with config, seed, epochs done, split
SPLIT_SEED = 2015  #: fixed seed of the train/test split of the 1797 digits
N_CLASSES = 10
TRAIN_BACKENDS = ("numpy", "numpy-fixed")  #: engines that train (stateful Simulator)
ONE_SHOT_BACKENDS = ("lava", "lava-fixed")  #: evaluate only: one fresh run per presentation
BATCH_SIZE = 128  #: samples per engine pass when evaluating on the numpy engines (:func:`present_batch`)
BATCH_SYNAPSES = 6_000_000  #: at most this many synapses (batch x network) per engine pass (memory: ~40 bytes each)


@dataclass
class Split:
    """The digits, split with :data:`SPLIT_SEED`: images (n, 64) in 0..16, labels (n,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_split(test_fraction: float = 0.2) -> Split:
    """scikit-learn's bundled 1797 8x8 digits (no download), split once with :data:`SPLIT_SEED`.

    The default gives 1438 training samples (used for learning and, frozen,
    for the label assignment) and 359 test samples never seen by either.
    """
    from sklearn.datasets import load_digits  # optional dependency (neuroport[digits]): imported on use

    digits = load_digits()
    order = np.random.default_rng(SPLIT_SEED).permutation(len(digits.target))
    n_test = int(round(test_fraction * len(order)))
    test, train = order[:n_test], order[n_test:]
    return Split(digits.data[train], digits.target[train], digits.data[test], digits.target[test])


def _seed(*parts) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def present(sim, image, config: Config, seed: int) -> np.ndarray:
    """Show one image (64 intensities 0..16) to ``sim``; spike counts of ``exc`` (neurons,). Resets after.

    ``sim`` is a :class:`neuroport.Simulator` or anything with its ``run`` and ``reset`` (:class:`OneShot`).
    """
    c = config
    rates = np.asarray(image, dtype=np.float64) / 16.0
    for boost in range(c.max_boosts + 1):
        spikes = poisson(rates * (c.max_rate + boost * c.boost_rate), steps=c.steps,
                             dt=c.dt, seed=_seed(seed, boost))
        result = sim.run(c.steps, inputs={"x": spikes}, progress=False)
        sim.reset()
        counts = np.bincount(result.spikes["exc"].neurons, minlength=c.neurons)
        if counts.sum() >= c.min_spikes:
            break
    return counts


def batch_engine() -> str:
    """The engine path batched evaluation runs on: the default one, :func:`neuroport.models.jit.engine_path`
    (``$NEUROPORT_ENGINE`` when set, else ``"compiled"`` where numba imports, else ``"numpy"``)."""
    return jit.engine_path()


def present_batch(program, images, config: Config, seeds, *, backend: str = "numpy",
                  batch_size: int = 128, progress: bool = False, simulators: dict | None = None,
                  engine: str | None = None) -> np.ndarray:
    """:func:`present` for many images at once: spike counts of ``exc``, shape (n, neurons).

    Every image gets the Poisson draws :func:`present` gives it (``seeds[i]`` and the boost index), and
    the boost rule is the same: all images run once, then only those with fewer than ``min_spikes``
    excitatory spikes run again with ``boost_rate`` Hz more, up to ``max_boosts`` times; each
    presentation starts from the initial state (a batched :class:`neuroport.Simulator` per batch
    size, fully reset before each batch). Each pass splits its images into equal batches of at most
    the batch size (the last one padded with silent samples), so a pass builds one engine. So the counts equal calling :func:`present` per image
    on a Simulator of the frozen network. The presentations run as batches (:mod:`neuroport.batch`) of
    at most ``batch_size`` samples, fewer when the batch would exceed :data:`BATCH_SYNAPSES` synapses.

    Parameters
    ----------
    program : Program
        The frozen network compiled (and quantized, for ``numpy-fixed``) for ``backend``; no plasticity.
    images : array (n, 64)
        Intensities 0..16.
    config : Config
    seeds : sequence of int, length n
        The per-image seed (as passed to :func:`present`).
    backend : {"numpy", "numpy-fixed"}
    batch_size : int
        Most samples per engine pass (>= 1).
    engine : {"numpy", "compiled"}, optional
        The engine path of the batched Simulators. Default: :func:`batch_engine` (the numba kernels
        when numba imports and ``$NEUROPORT_ENGINE`` does not choose; they give the same integers and
        spikes as the numpy path, tests/test_batch.py, and a batch is where they pay: 7.8x the
        per-sample numpy loop's CPU time at 400 neurons against 4.1x for the batched numpy path,
        benchmarks/bench_batch.py).
    simulators : dict, optional
        ``{batch size: batched Simulator of program}``, filled and reused: pass the same dict to later
        calls with the same ``program`` to skip building the engine again.
    """
    c = config
    images = np.asarray(images, dtype=np.float64)
    if int(batch_size) != batch_size or batch_size < 1:
        raise InputError(f"present_batch: batch_size must be a positive integer, got {batch_size!r}")
    chunk = int(max(1, min(batch_size, BATCH_SYNAPSES // max(1, program.n_synapses))))
    sims = {} if simulators is None else simulators  # one batched Simulator per batch size, fully reset per batch

    def run_batch(members, size, boost):
        if size not in sims:
            if sum(sims) + size > 2 * chunk:  # bound the engines kept (memory)
                sims.clear()
            sims[size] = neuroport.Simulator(program, backend=backend, batch=size,
                                             engine=batch_engine() if engine is None else engine)
        sim = sims[size]
        spikes = np.zeros((c.steps, size, images.shape[1]))  # a short batch is padded with silent samples
        for k, i in enumerate(members):
            spikes[:, k] = poisson(images[i] / 16.0 * (c.max_rate + boost * c.boost_rate), steps=c.steps,
                                   dt=c.dt, seed=_seed(seeds[i], boost))
        sim.reset(keep=())
        result = sim.run(c.steps, inputs={"x": spikes}, progress=False)
        return result.spikes["exc"].counts()[:len(members)]

    counts = np.zeros((len(images), c.neurons), dtype=np.int64)
    pending = np.arange(len(images))
    bar = _bar(progress, total=len(images), desc=f"responses ({backend}, batches of {chunk})", unit="sample")
    for boost in range(c.max_boosts + 1):
        if pending.size == 0:
            break
        n_batches = -(-len(pending) // chunk)
        size = -(-len(pending) // n_batches)  # equal batches of at most chunk samples
        for start in range(0, len(pending), size):
            members = pending[start:start + size]
            counts[members] = run_batch(members, size, boost)
            if boost == 0:
                bar.update(len(members))
        pending = pending[counts[pending].sum(axis=1) < c.min_spikes]
    bar.close()
    return counts


class OneShot:
    """:func:`present`'s interface for backends without a stateful Simulator (``lava``, ``lava-fixed``).

    The graph is compiled (and quantized) once; every :meth:`run` is a fresh
    :func:`neuroport.run` from the initial state, which is what
    ``Simulator.reset()`` restores for a frozen network (theta does not move).
    Quantization warnings are emitted here, once.
    """

    def __init__(self, graph, backend: str, dt: float):
        self.backend = backend
        be = registry.get(backend)
        be.require_available()
        self.program = prepare(graph, be, dt=dt)

    def run(self, steps, inputs=None, progress=False):
        return neuroport.run(self.program, backend=self.backend, steps=steps, inputs=inputs, progress=progress)

    def reset(self) -> None:
        pass


def assign_labels(responses: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Class of each neuron: the class with the highest mean response; -1 for neurons that never fired."""
    responses = np.asarray(responses, dtype=np.float64)
    labels = np.asarray(labels)
    mean = np.stack([responses[labels == k].mean(axis=0) if np.any(labels == k) else np.zeros(responses.shape[1])
                     for k in range(N_CLASSES)])
    assigned = mean.argmax(axis=0)
    assigned[mean.max(axis=0) <= 0] = -1
    return assigned


def vote(responses: np.ndarray, neuron_labels: np.ndarray) -> np.ndarray:
    """Predicted class per sample: the class whose neurons have the highest mean spike count."""
    responses = np.atleast_2d(np.asarray(responses, dtype=np.float64))
    scores = np.full((responses.shape[0], N_CLASSES), -1.0)
    for k in range(N_CLASSES):
        members = neuron_labels == k
        if members.any():
            scores[:, k] = responses[:, members].mean(axis=1)
    return scores.argmax(axis=1)


class DiehlCook:
    """The classifier: a training Simulator plus the neuron labels.

    Parameters
    ----------
    config : Config
    seed : int
        Seeds the initial weights, the sample order and every Poisson draw.
    graph : nir.NIRGraph, optional
        A trained graph to continue from (see :meth:`load`).
    backend : {"numpy", "numpy-fixed"}
        The training engine. ``numpy-fixed`` learns with the emulation of
        Loihi 2's learning engine (integer weights and 7-bit traces, the
        ``diehl_cook`` rule quantized by :func:`neuroport.quantize`); it is
        also the default engine of :meth:`assign` and :meth:`predict`.

    Attributes
    ----------
    quantization_warnings : list of str
        The ``QuantizationWarning`` messages of quantizing the training
        network (``numpy-fixed``; empty on ``numpy``). They are recorded here
        and emitted again, so callers see them as warnings as well.
    """

    def __init__(self, config: Config = Config(), *, seed: int = 0, graph=None, epochs_done: int = 0,
                 labels=None, backend: str = "numpy"):
        if backend not in TRAIN_BACKENDS:
            raise InputError(f"DiehlCook: backend {backend!r} cannot train; expected one of {TRAIN_BACKENDS}")
        self.config, self.seed, self.epochs_done, self.backend = config, int(seed), int(epochs_done), backend
        self.graph = graph if graph is not None else build(config, seed=seed).to_nir()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", QuantizationWarning)
            self.sim = neuroport.Simulator(self.graph, backend=backend, dt=config.dt)
        self.quantization_warnings = [str(w.message) for w in caught if issubclass(w.category, QuantizationWarning)]
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        self._batch_engines = None  # (network fingerprint, {batch size: Simulator}) of the last batched evaluation

    # ------------------------------------------------------------ training
    def normalize(self) -> None:
        """Rescale each neuron's incoming weights to sum ``weight_sum`` (clipped to ``w_max``).

        Graph units through ``Simulator.weights`` / ``set_weights``; on
        ``numpy-fixed`` ``set_weights`` rounds to the nearest mantissa, so the
        sums are ``weight_sum`` to within half a mantissa per synapse.
        """
        w = self.sim.weights["x->exc"]
        total = w.sum(axis=1, keepdims=True)
        scaled = np.where(total > 0, w * (self.config.weight_sum / np.where(total > 0, total, 1.0)), w)
        self.sim.set_weights("x->exc", np.minimum(scaled, self.config.w_max))

    def fit(self, x, y=None, *, epochs: int = 1, progress: bool = True, window: int = 1000,
            relabel: int = 50) -> dict:
        """Train ``epochs`` more epochs on images ``x`` (n, 64), without labels.

        Sequential by nature: each presentation learns (STDP) from the weights the previous one left,
        so training shows one sample at a time; only the frozen passes (:meth:`assign`,
        :meth:`predict`, the labelling after training) run batched.

        ``y`` only feeds the running accuracy shown on the progress bar: each
        sample is predicted (before it is learned) from labels assigned every
        ``relabel`` samples to the responses of the last ``window`` samples.

        Returns
        -------
        dict
            ``epochs_done``, ``running_accuracy`` (over this call; None without ``y``), ``samples``.
        """
        x = _images(x)
        hits, seen, shown, labels = 0, 0, 0, None
        recent_counts, recent_y = [], []
        bar = _bar(progress, total=epochs * len(x), desc="training", unit="sample")
        for _ in range(epochs):
            epoch = self.epochs_done
            order = np.random.default_rng([self.seed, epoch]).permutation(len(x))
            for i in order:
                counts = present(self.sim, x[i], self.config, _seed(self.seed, epoch, i))
                self.normalize()
                if y is not None:
                    if labels is not None:
                        hits += int(vote(counts, labels)[0] == y[i])
                        seen += 1
                    recent_counts.append(counts)
                    recent_y.append(int(y[i]))
                    del recent_counts[:-window], recent_y[:-window]
                    shown += 1
                    if shown % relabel == 0:
                        labels = assign_labels(np.array(recent_counts), np.array(recent_y))
                    if seen:
                        bar.set_postfix(epoch=epoch + 1, running_acc=f"{hits / seen:.3f}", refresh=False)
                bar.update(1)
            self.epochs_done += 1
        bar.close()
        self.graph = self.sim.to_nir()
        return {"epochs_done": self.epochs_done, "running_accuracy": hits / seen if seen else None,
                "samples": epochs * len(x)}

    # ------------------------------------------------------------ evaluation
    def responses(self, x, *, backend: str | None = None, fold_theta: bool = True, phase: int = 1,
                  progress: bool = False, batch_size: int | None = BATCH_SIZE) -> np.ndarray:
        """Spike counts (n, neurons) of the frozen network (learning off, see :func:`frozen`) for images ``x``.

        ``phase`` picks the Poisson draws (1: assignment, 2: prediction), so
        every backend sees the same spikes. ``backend``: the training engine
        by default; ``numpy``, ``numpy-fixed``, or ``lava`` / ``lava-fixed``
        (one Lava run per presentation, slow: use a few samples and
        ``fold_theta=False``, since a folded layer has one threshold per
        neuron and Lava's LIF one per process).

        On ``numpy`` and ``numpy-fixed`` the images run as batches of up to
        ``batch_size`` samples in one engine pass each (:func:`present_batch`;
        fewer when the network is large, :data:`BATCH_SYNAPSES`), with the
        same Poisson draws and boost rule as :func:`present`, so the counts
        equal the per-sample loop exactly; ``batch_size=None`` runs that loop
        (one :class:`neuroport.Simulator` presentation per sample).
        """
        x = _images(x)
        backend = self.backend if backend is None else backend
        graph = frozen(self.sim.to_nir(), fold_theta=fold_theta)
        seeds = [_seed(self.seed, 1_000_000 + phase, i) for i in range(len(x))]
        if batch_size is not None and backend in TRAIN_BACKENDS:
            be = registry.get(backend)
            be.require_available()
            program = prepare(graph, be, dt=self.config.dt)
            key = (backend, _fingerprint(program))
            if self._batch_engines is None or self._batch_engines[0] != key:  # keep only the latest network
                self._batch_engines = (key, {})
            return present_batch(program, x, self.config, seeds, backend=backend, batch_size=batch_size,
                                 progress=progress, simulators=self._batch_engines[1])
        if backend in ONE_SHOT_BACKENDS:
            sim = OneShot(graph, backend, self.config.dt)
        else:
            sim = neuroport.Simulator(graph, backend=backend, dt=self.config.dt)
        return np.stack([present(sim, x[i], self.config, seeds[i])
                         for i in _bar(progress, range(len(x)), desc=f"responses ({backend})", unit="sample")])

    def assign(self, x, y, *, backend: str | None = None, fold_theta: bool = True,
               progress: bool = False, batch_size: int | None = BATCH_SIZE) -> np.ndarray:
        """Give every neuron the class it responds to most (frozen network, labelled ``x``, ``y``).

        Runs on the training engine unless ``backend`` says otherwise; batched on the numpy engines
        (``batch_size``, see :meth:`responses`).
        """
        self.labels = assign_labels(self.responses(x, backend=backend, fold_theta=fold_theta, phase=1,
                                                   progress=progress, batch_size=batch_size), y)
        return self.labels

    def predict(self, x, *, backend: str | None = None, fold_theta: bool = True,
                progress: bool = False, batch_size: int | None = BATCH_SIZE) -> np.ndarray:
        """Predicted classes (n,) for images ``x``; needs :meth:`assign` (or a loaded model) first.

        ``backend``: the training engine by default; ``"numpy-fixed"`` runs the
        quantized frozen network, ``"lava-fixed"`` the same on Lava (see
        :meth:`responses`); ``fold_theta=False`` keeps the ``AdaptiveLIF``
        (theta frozen) instead of folding theta into a LIF threshold; ``batch_size`` as :meth:`responses`.
        """
        if self.labels is None:
            raise InputError("predict: the neurons have no labels yet; call assign(x, y) first")
        return vote(self.responses(x, backend=backend, fold_theta=fold_theta, phase=2, progress=progress,
                                   batch_size=batch_size), self.labels)

    def accuracy(self, x, y, **options) -> float:
        """Fraction of ``x`` classified as ``y``; ``options`` as :meth:`predict`."""
        return float(np.mean(self.predict(x, **options) == np.asarray(y)))

    # ------------------------------------------------------------ files
    def to_nir(self) -> nir.NIRGraph:
        """The trained graph: learned weights, thresholds, labels and training state in the metadata.

        Weights and theta are in graph units (from ``numpy-fixed``: mantissas
        and integer theta converted by ``Simulator.to_nir``).
        """
        meta = {STATE_KEY: json.dumps({"config": dataclasses.asdict(self.config), "seed": self.seed,
                                       "epochs_done": self.epochs_done, "split_seed": SPLIT_SEED,
                                       "backend": self.backend})}
        if self.labels is not None:
            meta[LABELS_KEY] = json.dumps([int(k) for k in self.labels])
        return self.sim.to_nir(metadata=meta)

    def save(self, path) -> None:
        neuroport.write(path, self.to_nir(), options={"dt": self.config.dt})

    @classmethod
    def load(cls, path, *, backend: str | None = None) -> "DiehlCook":
        """A model saved by :meth:`save`, ready to :meth:`fit` further or to :meth:`predict`.

        It trains on the engine it was trained on (``backend`` overrides;
        files without the entry were trained on ``numpy``).
        """
        graph = neuroport.read(path)
        meta = graph.metadata or {}
        if STATE_KEY not in meta:
            raise InputError(f"{path}: not a Diehl & Cook model (no {STATE_KEY!r} in the graph metadata)")
        state = json.loads(_text(meta[STATE_KEY]))
        labels = json.loads(_text(meta[LABELS_KEY])) if LABELS_KEY in meta else None
        return cls(Config(**state["config"]), seed=state["seed"], graph=graph, epochs_done=state["epochs_done"],
                   labels=labels, backend=backend or state.get("backend", "numpy"))


class _NoBar:
    """What :func:`_bar` gives without a progress bar: iterates, ignores updates."""

    def __init__(self, iterable=None):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def update(self, n=1):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        pass


def _bar(progress: bool, iterable=None, **options):
    """A tqdm bar, or nothing when ``progress`` is off: tqdm's first bar creates a multiprocessing
    lock, which fixes the start method, and lava-nc then fails to import (it sets ``fork`` itself)."""
    if not progress:
        return _NoBar(iterable)
    return tqdm(iterable, **options)


def _fingerprint(value) -> str:
    """A digest of a Program's contents (every array's bytes, every other field's repr): equal digests mean
    the same network, so batched engines built for one can run the other."""
    import hashlib

    digest = hashlib.sha1()

    def feed(v):
        if isinstance(v, np.ndarray):
            digest.update(f"{v.dtype}{v.shape}".encode())
            digest.update(np.ascontiguousarray(v).tobytes())
        elif hasattr(v, "tocsr") and hasattr(v, "nnz"):
            m = v.tocsr()
            for part in (m.data, m.indices, m.indptr, np.array(m.shape)):
                feed(np.asarray(part))
        elif isinstance(v, dict) or hasattr(v, "items"):
            for k in sorted(v, key=str):
                digest.update(repr(k).encode())
                feed(v[k])
        elif isinstance(v, (list, tuple)):
            digest.update(b"[")
            for item in v:
                feed(item)
            digest.update(b"]")
        elif dataclasses.is_dataclass(v):
            feed({f.name: getattr(v, f.name) for f in dataclasses.fields(v) if f.name != "graph"})
        else:
            digest.update(repr(v).encode())

    feed(value)
    return digest.hexdigest()


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _images(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 64 or x.min(initial=0) < 0 or x.max(initial=0) > 16:
        raise InputError(f"images: expected shape (n, 64) with intensities 0..16, got shape {x.shape}")
    return x
