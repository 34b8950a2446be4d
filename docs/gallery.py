"""Draw the documentation gallery's figures: small versions of the examples' pictures, in seconds.

    .venv/bin/python docs/gallery.py [OUT_DIR]        (default docs/_generated)

``make docs`` runs this through ``docs/conf.py`` before every build, so the site needs no file that a
clean clone lacks. Each figure uses the same neuroport call as the example named in its caption
(docs/gallery.md), on a smaller network or a shorter run; the examples themselves write the
full-size figures into ``examples_output/`` (minutes to tens of minutes each).
"""

from __future__ import annotations

import os
import pathlib
import sys

import numpy as np

os.environ.setdefault("MPLBACKEND", "Agg")

#: File names this script writes under ``OUT_DIR/gallery/``, in the order of docs/gallery.md.
FIGURES = ("raster.png", "traces.png", "network_activity.png", "tuning_curves.png", "image_round_trip.png")


def _quickstart_network():
    import neuroport

    net = neuroport.Network()
    x = net.input(50, name="x")
    exc = net.population(40, neuroport.LIF(tau=0.02, v_threshold=1.0), name="exc")
    inh = net.population(10, neuroport.LIF(tau=0.01, v_threshold=1.0), name="inh")
    net.connect(x, exc, weight=8.0, p=0.1, seed=1)
    net.connect(exc, inh, weight=6.0, p=0.2, seed=2)
    net.connect(inh, exc, weight=-4.0, p=0.2, delay=2e-3, seed=3)
    return net


def build(out_dir) -> list:
    """Write the gallery's PNGs into ``out_dir/gallery/`` and return their paths.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Folder for the ``gallery/`` subfolder (created if missing).

    Returns
    -------
    list of str
        The paths written, one per name in :data:`FIGURES`.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    import neuroport
    from neuroport import decoders, encoders, plot
    from neuroport.models.networks.ei import ei_network

    folder = pathlib.Path(out_dir) / "gallery"
    folder.mkdir(parents=True, exist_ok=True)
    written = []

    # examples/quickstart.py: raster and membrane traces of a small E/I network (numpy engine).
    dt, steps = 1e-3, 300
    drive = encoders.poisson(np.full(50, 20.0), steps=steps, dt=dt, seed=0)
    result = neuroport.run(_quickstart_network(), dt=dt, steps=steps, inputs=drive, probes=["exc.v"],
                           progress=False)
    plot.raster(result, path=folder / FIGURES[0], title="E/I network, numpy engine")
    written.append(str(folder / FIGURES[0]))
    plot.traces(result, population="exc", neurons=[0, 1, 2], threshold=1.0, path=folder / FIGURES[1])
    written.append(str(folder / FIGURES[1]))

    # examples/network_activity.py: the ring E/I network lit by its spikes after a 60 ms burst.
    burst = encoders.poisson(np.full(50, 80.0), steps=200, dt=dt, seed=2)
    burst[60:] = 0
    ring = ei_network(topology="ring", n_per_layer=60, weight_scale=1.5, seed=0)
    ring_result = neuroport.run(ring, dt=dt, steps=200, inputs=burst, progress=False)
    plot.network_activity(ring_result, ring, times=[0.03, 0.06, 0.12], max_edges=600, path=folder / FIGURES[2])
    written.append(str(folder / FIGURES[2]))

    # examples/population_coding.py: Gaussian tuning curves, and the rate-weighted read-out.
    code = encoders.tuning_curves(12, tuning="gaussian", width=0.1, max_rate_hz=100.0)
    stimulus = np.linspace(0.0, 1.0, 200)
    fig = Figure(figsize=(8, 3))
    left, right = fig.subplots(1, 2)
    left.plot(stimulus, code.rates(stimulus))
    left.set(xlabel="stimulus", ylabel="rate (Hz)", title="tuning curves")
    true_values = np.linspace(0.05, 0.95, 19)
    counts = np.stack([encoders.poisson(code.rates(np.array([s]))[0], steps=500, dt=dt, seed=i).sum(axis=0)
                       for i, s in enumerate(true_values)])
    right.plot(true_values, decoders.rate_weighted(counts, code), "o", label="rate-weighted")
    right.plot([0, 1], [0, 1], "k:", label="true")
    right.set(xlabel="true stimulus", ylabel="decoded", title="decoded from 500 ms of spikes")
    right.legend(loc="upper left")
    fig.tight_layout()
    written.append(plot.save(fig, folder / FIGURES[3]))

    # examples/image_round_trip.py: a picture through a Poisson rate code and back (here a 12 x 12
    # ring drawn with numpy, so that the build imports no data set).
    yy, xx = np.mgrid[-1:1:12j, -1:1:12j]
    picture = np.clip(1.0 - np.abs(np.hypot(xx, yy) - 0.6) / 0.25, 0.0, 1.0)
    fig = Figure(figsize=(8, 2.6))
    axes = fig.subplots(1, 4)
    axes[0].imshow(picture, cmap="gray_r")
    axes[0].set_title("picture")
    for ax, window in zip(axes[1:], (10, 50, 300)):
        spikes = encoders.image_poisson(picture, max_rate_hz=200.0, steps=window, dt=dt, seed=0)
        ax.imshow(decoders.reconstruct_poisson(spikes, shape=picture.shape, max_rate_hz=200.0, dt=dt),
                  cmap="gray_r")
        ax.set_title(f"from {window} ms")
    for ax in axes:
        ax.set_axis_off()
    fig.tight_layout()
    written.append(plot.save(fig, folder / FIGURES[4]))
    return written


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent / "_generated"
    for path in build(target):
        print("wrote", path)
