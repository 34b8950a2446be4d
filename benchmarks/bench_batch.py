"""Batched vs per-sample evaluation of the Diehl & Cook digit classifier, side by side.

One model (``DiehlCook``, ``--neurons`` excitatory neurons, trained on ``--train`` samples), then on
``--samples`` test images, per engine: the per-sample loop (``batch_size=None``: one Simulator
presentation per image, today's path before the batch axis) and the batched path
(``batch_size=--batch``: ``present_batch``, one engine pass per batch). Both run ``assign`` on the
same images and then ``predict``; prints both times, the ratio and whether the spike counts and the
predictions are identical.

Usage::

    python benchmarks/bench_batch.py                        # 400 neurons, 200 images, numpy
    python benchmarks/bench_batch.py --neurons 100 --engines numpy numpy-fixed
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from neuroport.apps import diehl_cook as dc
from neuroport.errors import QuantizationWarning


def _timed(model, x, y, batch_size):
    start = time.perf_counter()
    counts = model.responses(x, phase=1, batch_size=batch_size)
    labels = dc.assign_labels(counts, y)
    model.labels = labels
    predictions = model.predict(x, batch_size=batch_size)
    return time.perf_counter() - start, counts, labels, predictions


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=400, help="excitatory neurons (default 400, as `neuroport train`)")
    parser.add_argument("--train", type=int, default=20, help="training samples before the evaluation (default 20)")
    parser.add_argument("--samples", type=int, default=200, help="test images evaluated (default 200)")
    parser.add_argument("--batch", type=int, default=dc.BATCH_SIZE, help=f"batch size (default {dc.BATCH_SIZE})")
    parser.add_argument("--engines", nargs="+", default=["numpy"], choices=dc.TRAIN_BACKENDS)
    args = parser.parse_args(argv)
    data = dc.load_split()
    x, y = data.x_test[:args.samples], data.y_test[:args.samples]
    for engine in args.engines:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", QuantizationWarning)
            model = dc.DiehlCook(dc.Config(neurons=args.neurons), seed=0, backend=engine)
            model.fit(data.x_train[:args.train], progress=False)
            loop_s, loop_counts, loop_labels, loop_pred = _timed(model, x, y, None)
            batch_s, batch_counts, batch_labels, batch_pred = _timed(model, x, y, args.batch)
        chunk = max(1, min(args.batch, dc.BATCH_SYNAPSES // model.sim.program.n_synapses))
        same = (np.array_equal(loop_counts, batch_counts) and np.array_equal(loop_labels, batch_labels)
                and np.array_equal(loop_pred, batch_pred))
        print(f"{engine}: {args.neurons} neurons, {args.samples} images x (assign + predict), "
              f"batches of {chunk}")
        print(f"  per-sample loop {loop_s:8.2f} s")
        print(f"  batched         {batch_s:8.2f} s")
        print(f"  ratio           {loop_s / batch_s:8.2f} x")
        print(f"  identical counts, labels and predictions: {same}  "
              f"(accuracy {np.mean(batch_pred == y) * 100:.1f} %)")


if __name__ == "__main__":
    main()
