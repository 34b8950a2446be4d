"""The three-layer winner-take-all digit classifier as an application, and its comparison with Diehl & Cook.

The network (:class:`Config`, :func:`build`) is in
:mod:`neuroport.models.networks.wta_digits`: input -> heterogeneous adaptive
hidden layer (static random weights) -> plastic ``hidden -> out`` (Diehl &
Cook's STDP rule) -> WTA output. Training and evaluation follow
:mod:`neuroport.apps.diehl_cook` exactly, so the two are comparable: the same
split (:func:`~neuroport.apps.diehl_cook.load_split`), sample presentation
(``steps`` steps of Poisson input, shown again faster when the output layer
fires fewer than ``min_spikes``), weight normalisation after every sample,
label assignment on the frozen network over labelled training images
(:func:`~neuroport.apps.diehl_cook.assign_labels`) and the vote
(:func:`~neuroport.apps.diehl_cook.vote`). Every Poisson draw is a function of
``(seed, epoch, sample, boost)`` with the same seeding as Diehl & Cook's, so
both networks see the same input spike trains.

:func:`compare` trains both on the same first ``n_train`` training images for
one epoch, assigns labels on those images and reports accuracy on the test
split (or its first ``n_test`` images), with wall-clock times.

>>> from neuroport.apps import wta_digits as wd
>>> data = wd.load_split()
>>> model = wd.WTADigits(wd.Config(hidden=20, neurons=10, steps=30), seed=0)
>>> model.fit(data.x_train[:3])["samples"]
3
"""

from __future__ import annotations

import dataclasses
import json
import time

import numpy as np

import neuroport
from neuroport.apps.diehl_cook import LABELS_KEY, _bar, _images, _seed, _text, assign_labels, load_split, vote
from neuroport.encoders import poisson
from neuroport.errors import InputError
from neuroport.models.networks.diehl_cook import frozen
from neuroport.models.networks.wta_digits import Config, build

__all__ = ["Config", "build", "present", "WTADigits", "compare", "load_split"]

OUTPUT = "out"  #: the output population's name
PLASTIC = "hidden->out"  #: the plastic projection's name
STATE_KEY = "neuroport.wta_digits"  #: graph metadata: JSON with config, seed, epochs done


def present(sim, image, config: Config, seed: int) -> np.ndarray:
    """Show one image (64 intensities 0..16); spike counts of ``out`` (neurons,). Resets ``sim`` after.

    The same presentation as :func:`neuroport.apps.diehl_cook.present` (and the same Poisson seeds).
    """
    c = config
    rates = np.asarray(image, dtype=np.float64) / 16.0
    for boost in range(c.max_boosts + 1):
        spikes = poisson(rates * (c.max_rate + boost * c.boost_rate), steps=c.steps, dt=c.dt,
                         seed=_seed(seed, boost))
        result = sim.run(c.steps, inputs={"x": spikes}, progress=False)
        sim.reset()
        counts = np.bincount(result.spikes[OUTPUT].neurons, minlength=c.neurons)
        if counts.sum() >= c.min_spikes:
            break
    return counts


class WTADigits:
    """The classifier: a training :class:`neuroport.Simulator` (numpy) plus the output neurons' labels.

    Parameters
    ----------
    config : Config
    seed : int
        Seeds the heterogeneous parameters, the weights, the sample order and every Poisson draw.
    """

    def __init__(self, config: Config = Config(), *, seed: int = 0, graph=None, epochs_done: int = 0, labels=None):
        if not isinstance(config, Config):
            raise InputError(f"WTADigits: config must be a wta_digits.Config, got {type(config).__name__}")
        self.config, self.seed, self.epochs_done = config, int(seed), int(epochs_done)
        self.graph = graph if graph is not None else build(config, seed=self.seed).to_nir()
        self.sim = neuroport.Simulator(self.graph, backend="numpy", dt=config.dt)
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)

    def normalize(self) -> None:
        """Rescale each output neuron's incoming weights to sum ``weight_sum`` (clipped to ``w_max``)."""
        w = self.sim.weights[PLASTIC]
        total = w.sum(axis=1, keepdims=True)
        scaled = np.where(total > 0, w * (self.config.weight_sum / np.where(total > 0, total, 1.0)), w)
        self.sim.set_weights(PLASTIC, np.minimum(scaled, self.config.w_max))

    def fit(self, x, *, epochs: int = 1, progress: bool = False) -> dict:
        """Train ``epochs`` epochs on images ``x`` (n, 64), without labels; returns ``epochs_done``, ``samples``."""
        x = _images(x)
        bar = _bar(progress, total=epochs * len(x), desc="training (wta)", unit="sample")
        for _ in range(epochs):
            epoch = self.epochs_done
            for i in np.random.default_rng([self.seed, epoch]).permutation(len(x)):
                present(self.sim, x[i], self.config, _seed(self.seed, epoch, i))
                self.normalize()
                bar.update(1)
            self.epochs_done += 1
        bar.close()
        self.graph = self.sim.to_nir()
        return {"epochs_done": self.epochs_done, "samples": epochs * len(x)}

    def frozen_graph(self):
        """The trained graph with learning off (:func:`~neuroport.models.networks.diehl_cook.frozen`)."""
        return frozen(self.sim.to_nir())

    def responses(self, x, *, phase: int = 1, backend: str = "numpy", progress: bool = False) -> np.ndarray:
        """Output spike counts (n, neurons) of the frozen network for images ``x`` (phase 1: assignment, 2: test)."""
        x = _images(x)
        sim = neuroport.Simulator(self.frozen_graph(), backend=backend, dt=self.config.dt)
        return np.stack([present(sim, x[i], self.config, _seed(self.seed, 1_000_000 + phase, i))
                         for i in _bar(progress, range(len(x)), desc="responses (wta)", unit="sample")])

    def assign(self, x, y, **options) -> np.ndarray:
        """Label every output neuron with the class it responds to most (labelled ``x``, ``y``)."""
        self.labels = assign_labels(self.responses(x, phase=1, **options), y)
        return self.labels

    def predict(self, x, **options) -> np.ndarray:
        """Predicted classes (n,) by the vote of the labelled output neurons; needs :meth:`assign` first."""
        if self.labels is None:
            raise InputError("predict: the output neurons have no labels yet; call assign(x, y) first")
        return vote(self.responses(x, phase=2, **options), self.labels)

    def accuracy(self, x, y, **options) -> float:
        """Fraction of ``x`` classified as ``y``."""
        return float(np.mean(self.predict(x, **options) == np.asarray(y)))

    def to_nir(self):
        """The trained graph (learned weights, theta) with the labels and configuration in its metadata."""
        meta = {STATE_KEY: json.dumps({"config": dataclasses.asdict(self.config), "seed": self.seed,
                                       "epochs_done": self.epochs_done})}
        if self.labels is not None:
            meta[LABELS_KEY] = json.dumps([int(k) for k in self.labels])
        return self.sim.to_nir(metadata=meta)

    def save(self, path) -> None:
        """Write :meth:`to_nir` to ``path`` (``neuroport.write``: atomic, dt recorded)."""
        neuroport.write(path, self.to_nir(), options={"dt": self.config.dt})

    @classmethod
    def load(cls, path) -> "WTADigits":
        """A model written by :meth:`save`: trained weights, thresholds and labels, ready to predict or train on."""
        graph = neuroport.read(path)
        meta = graph.metadata or {}
        if STATE_KEY not in meta:
            raise InputError(f"{path}: not a WTA digits model (no {STATE_KEY!r} in the graph metadata)")
        state = json.loads(_text(meta[STATE_KEY]))
        labels = json.loads(_text(meta[LABELS_KEY])) if LABELS_KEY in meta else None
        return cls(Config(**state["config"]), seed=state["seed"], graph=graph, epochs_done=state["epochs_done"],
                   labels=labels)


def compare(*, n_train: int = 500, n_test: int | None = None, neurons: int = 100, hidden: int = 300,
            steps: int = 100, seed: int = 0, wta_config: Config | None = None, progress: bool = False,
            keep_models: bool = False) -> dict:
    """Train the WTA network and Diehl & Cook on the same images, one epoch each; accuracies and times.

    Both networks get ``neurons`` output / excitatory neurons, ``steps`` steps per sample, the first
    ``n_train`` training images of :func:`load_split` (for learning, then frozen for the label
    assignment) and the first ``n_test`` test images (all 359 by default) for the accuracy.

    Returns
    -------
    dict
        ``{"wta": {...}, "diehl_cook": {...}, "n_train", "n_test"}``; each entry holds ``accuracy``,
        ``train_s``, ``assign_s``, ``test_s`` (wall-clock seconds), ``silent_neurons`` (never labelled) and
        ``predictions`` (the predicted class of each test image, a list);
        with ``keep_models`` also ``"models"``: the trained :class:`WTADigits` and ``DiehlCook``.
    """
    from neuroport.apps import diehl_cook as dc

    data = load_split()
    if not isinstance(n_train, int) or not 1 <= n_train <= len(data.x_train):
        raise InputError(f"compare: n_train must be an integer in 1..{len(data.x_train)}, got {n_train!r}")
    n_test = len(data.x_test) if n_test is None else n_test
    if not isinstance(n_test, int) or not 1 <= n_test <= len(data.x_test):
        raise InputError(f"compare: n_test must be an integer in 1..{len(data.x_test)}, got {n_test!r}")
    xt, yt = data.x_train[:n_train], data.y_train[:n_train]
    xs, ys = data.x_test[:n_test], data.y_test[:n_test]
    wc = wta_config or Config(neurons=neurons, hidden=hidden, steps=steps)
    models = {"wta": WTADigits(wc, seed=seed),
              "diehl_cook": dc.DiehlCook(dc.Config(neurons=wc.neurons, steps=wc.steps), seed=seed)}
    out = {"n_train": n_train, "n_test": n_test}
    for name, model in models.items():
        t0 = time.perf_counter()
        model.fit(xt, progress=progress)
        t1 = time.perf_counter()
        labels = model.assign(xt, yt)
        t2 = time.perf_counter()
        predicted = model.predict(xs)
        t3 = time.perf_counter()
        out[name] = {"accuracy": float(np.mean(predicted == ys)), "train_s": t1 - t0, "assign_s": t2 - t1,
                     "test_s": t3 - t2, "silent_neurons": int(np.sum(labels < 0)),
                     "predictions": [int(k) for k in predicted]}
    if keep_models:
        out["models"] = models
    return out
