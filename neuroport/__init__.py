"""neuroport: define a spiking network once in NIR, run it on numpy, Lava (Loihi 2) and Brian2.

Quick start::

    import neuroport, numpy as np
    net = neuroport.Network()
    x = net.input(10)
    lif = net.population(20, neuroport.LIF(tau=0.02, v_threshold=1.0), name="lif")
    net.connect(x, lif, weight=0.3, p=0.5, seed=1)
    result = neuroport.run(net, dt=1e-3, steps=200, inputs=neuroport.encoders.poisson(50.0, steps=200, dt=1e-3, seed=0) * np.ones((1, 10)))
"""

from neuroport.api import run  # noqa: F401
from neuroport.compile import compile  # noqa: F401  (shadows the builtin inside this package only)
from neuroport.errors import *  # noqa: F401,F403
from neuroport.program import Population, Program, Projection  # noqa: F401

__version__ = "0.1.0"
