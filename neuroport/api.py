"""``neuroport.run``: one call from a graph (or Program) to a Result on any backend."""

from __future__ import annotations

import inspect

from neuroport import backend as registry
from neuroport.backend import check_steps
from neuroport.batch import is_batched, run_each
from neuroport.compile import compile as compile_graph
from neuroport.duration import steps_for
from neuroport.errors import CompileError
from neuroport.naming import probe_list
from neuroport.program import FixedProgram, FloatProgram, Program
from neuroport.quantize import quantize


def prepare(network, backend, *, dt=None, scheme=None, reset=None, timing=None, profile=None,
            probes=(), hardware=None, strict=False):
    """The Program of the level ``backend`` consumes, converting as needed.

    ``network`` may be a :class:`neuroport.Network`, a ``nir.NIRGraph`` or a
    :class:`~neuroport.program.Program` (float or fixed).
    """
    if hasattr(network, "to_nir") and not isinstance(network, Program):
        network = network.to_nir()
    if isinstance(network, Program):
        program = network
        if any(v is not None for v in (dt, scheme, reset, timing, profile)):
            raise CompileError("compile options (dt, scheme, reset, timing, profile) apply to graphs, "
                               "not to an already compiled Program")
    else:
        program = compile_graph(network, dt=dt, scheme=scheme, reset=reset, timing=timing,
                                profile=profile, probes=probes)
    if program.timing not in backend.timings:
        raise CompileError(
            f"backend {backend.name!r} supports timing {', '.join(backend.timings)}, "
            f"the Program was compiled with timing={program.timing!r}"
        )
    if backend.level == "fixed" and isinstance(program, FloatProgram):
        kwargs = {} if hardware is None else {"hardware": hardware}
        program, _report = quantize(program, strict=strict, **kwargs)
    elif backend.level in ("discrete", "nir") and isinstance(program, FixedProgram):
        raise CompileError(
            f"backend {backend.name!r} needs the float Program; it was given a quantized one "
            "(pass the graph or the Program from neuroport.compile)"
        )
    return program


def run(network, *, backend: str = "numpy", steps: int | None = None, duration=None, inputs=None, probes=(), dt=None,
        scheme=None, reset=None, timing=None, profile=None, progress=None, seed: int = 0,
        hardware=None, strict: bool = False, engine: str | None = None):
    """Run a network on a backend.

    Parameters
    ----------
    network : Network, nir.NIRGraph or Program
    backend : str
        Mode name (``neuroport.backend.names()``): ``numpy``, ``numpy-fixed``,
        ``lava``, ``lava-fixed``, ``loihi2``, ``brian2``.
    steps : int, optional
        Number of time steps of ``dt``. Give ``steps`` or ``duration``, not both.
    duration : float or str, optional
        Run length in seconds (``0.1``) or as text with a unit (``"100ms"``, ``"0.1s"``); must be a
        whole number of steps of ``dt`` (else :class:`~neuroport.errors.InputError` says the rounding).
    inputs : array (steps, n) or dict[str, array]
        Per input node, one row per step (spikes as 0/1, or graded values). Arrays ``(steps, B, n)``
        run a batch of B independent samples (:mod:`neuroport.batch`): one vectorised pass on ``numpy``
        and ``numpy-fixed``, one run per sample elsewhere; the Result then has ``batch == B``.
    probes : iterable of str or (population, variable)
        States to record, as ``"exc.v"`` or ``("exc", "v")``; read them back as ``result["exc.v"]``.
    dt, scheme, reset, timing, profile
        Compile options (see :func:`neuroport.compile`); graphs only.
    hardware : HardwareSpec, optional
        For fixed-point backends (default ``LOIHI2``).
    strict : bool
        Raise instead of warn when quantization loses information.
    engine : {"numpy", "compiled"}, optional
        For ``numpy`` / ``numpy-fixed``: the numpy reference path or the numba kernels (default:
        ``$NEUROPORT_ENGINE``, else ``neuroport.models.jit.DEFAULT``: ``"compiled"`` where numba imports); ``Result.meta["engine_path"]``.

    Returns
    -------
    Result

    Examples
    --------
    >>> import neuroport, numpy as np
    >>> net = neuroport.Network()
    >>> x = net.input(1)
    >>> lif = net.population(1, neuroport.LIF(tau=0.01, v_threshold=0.5), name="lif")
    >>> _ = net.connect(x, lif, weight=20.0)
    >>> result = neuroport.run(net, steps=50, dt=1e-3, inputs=np.ones((50, 1)))
    >>> result.spikes["lif"].count > 0
    True
    >>> same = neuroport.run(net, duration="50ms", dt=1e-3, inputs=np.ones((50, 1)), probes=["lif.v"])
    >>> same.num_steps, same["lif.v"].shape
    (50, (50, 1))
    """
    be = registry.get(backend)
    be.require_available()
    probes = probe_list(probes)
    if steps is not None and duration is not None:
        steps_for(steps=steps, duration=duration, dt=1.0)  # refuses both before any compile work
    program = prepare(network, be, dt=dt, scheme=scheme, reset=reset, timing=timing, profile=profile,
                      probes=probes, hardware=hardware, strict=strict)
    extra = {}
    if engine is not None:
        if "engine" not in inspect.signature(be.run).parameters:
            raise CompileError(f"engine={engine!r}: backend {backend!r} has no engine choice "
                               "(it applies to 'numpy' and 'numpy-fixed')")
        extra["engine"] = engine
    steps = steps_for(steps=steps, duration=duration, dt=program.dt)
    if is_batched(inputs) and not getattr(be, "vectorised_batch", False):
        return run_each(be, program, steps=check_steps(steps), inputs=inputs, probes=probes, progress=progress,
                        seed=seed, **extra)
    return be.run(program, steps=steps, inputs=inputs, probes=probes, progress=progress, seed=seed, **extra)
