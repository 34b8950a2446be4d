"""neuroport: define a spiking network once in NIR, run it on numpy, Lava (Loihi 2) and Brian2.

Quick start::

    import neuroport
    net = neuroport.Network()
    x = net.input(10, name="x")
    lif = net.population(20, neuroport.LIF(tau=0.02, v_threshold=1.0), name="lif")
    net.connect(x, lif, weight=0.5, p=0.5, seed=1)
    spikes_in = neuroport.encoders.poisson(50.0 * np.ones(10), steps=200, dt=1e-3, seed=0)
    result = neuroport.run(net, dt=1e-3, steps=200, inputs=spikes_in)
    neuroport.plot.raster(result, path="raster.png")

Time is in seconds everywhere (``dt``, ``tau``, ``delay``), as NIR exporters write it.
"""

import importlib

__version__ = "0.1.0"

from neuroport import nodes as _nodes  # noqa: F401,E402  (registers extension nodes)
from neuroport.api import run  # noqa: F401,E402
from neuroport.compile import compile  # noqa: F401,E402
from neuroport.errors import *  # noqa: F401,F403,E402
from neuroport.io import read, write  # noqa: F401,E402
from neuroport.models.specs import IF, LI, LIF, CondLIF, CubaLIF, Integrator, Threshold  # noqa: F401,E402
from neuroport.network import Network  # noqa: F401,E402
from neuroport.program import FixedProgram, FloatProgram, Population, Program, Projection  # noqa: F401,E402
from neuroport.simulator import Simulator  # noqa: F401,E402
from neuroport.quantize import quantize  # noqa: F401,E402  (the function, not the module)


def __getattr__(name):
    # Lazy submodules and optional passes, so `import neuroport` stays light. `neuroport.sweep` is a
    # module that can be called: neuroport.sweep(build, grid, ...) is neuroport.sweep.sweep(...).
    lazy_modules = {"encoders", "plot", "compare", "check", "hardware", "testing", "backends", "models", "timing",
                    "dist", "sweep", "decoders"}
    if name in lazy_modules:
        return importlib.import_module(f"neuroport.{name}")
    if name == "evolve":  # genetic weight evolution of a digits classifier (neuroport.apps.evolve)
        return importlib.import_module("neuroport.apps.evolve").evolve
    if name == "map":
        return importlib.import_module("neuroport.mapping").map_program
    if name == "LOIHI2":
        return importlib.import_module("neuroport.hardware").LOIHI2
    raise AttributeError(f"module 'neuroport' has no attribute {name!r}")
