"""Batched vs per-sample evaluation of the Diehl & Cook digit classifier, side by side.

One model (``DiehlCook``, ``--neurons`` excitatory neurons, trained on ``--train`` samples), then on
``--samples`` test images, per engine: the per-sample loop (``batch_size=None``: one Simulator
presentation per image, today's path before the batch axis) and the batched path
(``batch_size=--batch``: ``present_batch``, one engine pass per batch). Both run ``assign`` on the
same images and then ``predict``; prints both times, the ratio and whether the spike counts and the
predictions are identical. Wall and CPU time (``time.process_time``) both: on a shared machine the
CPU time is the steadier one.

Usage::

    python benchmarks/bench_batch.py                        # 100 and 400 neurons, 200 images, numpy
    python benchmarks/bench_batch.py --neurons 100 --engines numpy numpy-fixed

Where the time goes: the per-sample loop pays the engine's Python overhead per step and sample
(about 170 us of CPU per step at 400 neurons); the batch pays it once per step for all samples, and
what is left is the synaptic gather both share (about 2,000 synapses per sample and step from the
64 inputs, ~10 ns each), so the ratio is higher for the smaller network. numpy-fixed gains less: its
engine build (sorting every synapse of the B copies) is a larger part of a batched run.
The batched path runs on :func:`neuroport.apps.diehl_cook.batch_engine` (the numba kernels where numba
imports; ``NEUROPORT_ENGINE=numpy`` forces the numpy path for both); the per-sample loop on the
default engine path, as before the batch axis.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from neuroport.apps import diehl_cook as dc
from neuroport.errors import QuantizationWarning


def _timed(model, x, y, batch_size):
    """(wall s, CPU s of this process, counts, labels, predictions) of assign + predict on ``x``; the
    batched engines are built inside the timing (none kept from an earlier call)."""
    model._batch_engines = None
    start, cpu = time.perf_counter(), time.process_time()
    counts = model.responses(x, phase=1, batch_size=batch_size)
    labels = dc.assign_labels(counts, y)
    model.labels = labels
    predictions = model.predict(x, batch_size=batch_size)
    return time.perf_counter() - start, time.process_time() - cpu, counts, labels, predictions


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, nargs="+", default=[100, 400],
                        help="excitatory neurons, one model each (default 100 and 400, `neuroport train`'s default)")
    parser.add_argument("--train", type=int, default=20, help="training samples before the evaluation (default 20)")
    parser.add_argument("--samples", type=int, default=200, help="test images evaluated (default 200)")
    parser.add_argument("--batch", type=int, default=dc.BATCH_SIZE, help=f"batch size (default {dc.BATCH_SIZE})")
    parser.add_argument("--engines", nargs="+", default=["numpy"], choices=dc.TRAIN_BACKENDS)
    parser.add_argument("--repeat", type=int, default=1,
                        help="time each path this many times, alternating, and keep the fastest (default 1)")
    args = parser.parse_args(argv)
    data = dc.load_split()
    x, y = data.x_test[:args.samples], data.y_test[:args.samples]
    for engine, neurons in [(e, n) for e in args.engines for n in args.neurons]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", QuantizationWarning)
            model = dc.DiehlCook(dc.Config(neurons=neurons), seed=0, backend=engine)
            model.fit(data.x_train[:args.train], progress=False)
            _timed(model, x[:4], y[:4], args.batch)  # the batched engine's numba kernels: compiled or loaded once
            loops, batches = [], []
            for _ in range(max(1, args.repeat)):
                loops.append(_timed(model, x, y, None))
                batches.append(_timed(model, x, y, args.batch))
            loop_s, loop_cpu, loop_counts, loop_labels, loop_pred = min(loops, key=lambda r: r[1])
            batch_s, batch_cpu, batch_counts, batch_labels, batch_pred = min(batches, key=lambda r: r[1])
        chunk = max(1, min(args.batch, dc.BATCH_SYNAPSES // model.sim.program.n_synapses))
        same = (np.array_equal(loop_counts, batch_counts) and np.array_equal(loop_labels, batch_labels)
                and np.array_equal(loop_pred, batch_pred))
        print(f"{engine}: {neurons} neurons, {args.samples} images x (assign + predict), "
              f"batches of {chunk}, fastest of {max(1, args.repeat)} (by CPU time)")
        print(f"  per-sample loop {loop_s:8.2f} s wall {loop_cpu:8.2f} s CPU")
        print(f"  batched         {batch_s:8.2f} s wall {batch_cpu:8.2f} s CPU  (engine path {dc.batch_engine()})")
        print(f"  ratio           {loop_s / batch_s:8.2f} x wall {loop_cpu / batch_cpu:6.2f} x CPU")
        print(f"  identical counts, labels and predictions: {same}  "
              f"(accuracy {np.mean(batch_pred == y) * 100:.1f} %)")


if __name__ == "__main__":
    main()
