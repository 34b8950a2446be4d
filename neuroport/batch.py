"""The batch axis: B independent samples in one run (inputs ``(steps, B, n)``).

``neuroport.run(net, inputs={"x": array (steps, B, n)})`` runs B samples that
share the network but nothing else (each starts from the initial state, none
sees another's spikes) and returns a batched :class:`~neuroport.result.Result`
(``result.batch == B``; probes ``(steps, B, n)``; ``result.sample(b)`` is
sample ``b``'s own Result).

How each backend does it:

``numpy``, ``numpy-fixed`` (both engine paths): **one engine pass**. The
Program is replicated B times by :func:`replicate`: every population keeps
its name and becomes B contiguous copies (sample ``b``'s neuron ``i`` is
neuron ``b * n + i``; per-neuron parameters tiled), every projection becomes
block-diagonal (copy ``b``'s synapses only join copy ``b``'s neurons; weights
and delays tiled in the CSR order of the original). The engine then steps
``B * n`` neurons per population, vectorised over the batch, and
:func:`unbatch` splits the Result. The arithmetic per neuron is unchanged:
the synaptic sum of a neuron adds the same terms in the same order (the
engines gather active columns in ascending order, and a copy's columns are
contiguous), so spikes and states equal B separate runs bit for bit
(``tests/test_batch.py``).

Plastic projections: a batch cannot share one weight matrix that every
sample changes, so the numpy engines run a network with a plastic projection
**one sample at a time** (each learns independently from the initial
weights; ``result.weights[name]`` is the list of the B final weight
matrices; ``meta["batch_path"] == "loop"``). A batched
:class:`neuroport.Simulator` refuses plastic networks.

Every other backend (``lava``, ``lava-fixed``, ``brian2``, ``nest``...):
:func:`run_each`, one run per sample, stacked into the same batched Result.

Examples
--------
>>> import numpy as np, neuroport
>>> net = neuroport.Network()
>>> x = net.input(2, name="x")
>>> y = net.population(1, neuroport.LIF(tau=0.02, v_threshold=0.5), name="y")
>>> _ = net.connect(x, y, weight=np.array([[20.0, 20.0]]))
>>> drive = np.zeros((30, 3, 2)); drive[:, 1] = 1.0; drive[::2, 2] = 1.0   # 3 samples
>>> result = neuroport.run(net, steps=30, dt=1e-3, inputs={"x": drive}, probes=["y.v"])
>>> result.batch, result["y.v"].shape, result.spikes["y"].counts()[:, 0].tolist()
(3, (30, 3, 1), [0, 29, 15])
>>> result.sample(1).spikes["y"].count   # sample 1 alone: the same 29 spikes as a run of its own
29
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import scipy.sparse as sp

from neuroport.errors import InputError
from neuroport.result import BatchSpikeTrain, Result

__all__ = ["is_batched", "batch_inputs", "replicate", "unbatch", "run_each", "run_vectorised", "has_plasticity"]


def is_batched(inputs) -> bool:
    """Whether run ``inputs`` (an array or a dict of arrays) carry a batch axis (any 3-D array)."""
    if inputs is None:
        return False
    values = inputs.values() if isinstance(inputs, Mapping) else [inputs]
    return any(np.ndim(v) == 3 for v in values)


def batch_inputs(program, inputs, steps: int) -> tuple[int, dict]:
    """Check batched run inputs; ``(B, {input_name: float64 array (steps, B, size)})``.

    Every given input must be 3-D ``(steps>=steps, B, size)`` with the same B; inputs left out are
    zeros. Raises :class:`~neuroport.errors.InputError` naming the input, the expected shape and the
    one given (a 2-D input next to a 3-D one, different B, a wrong size, too few steps).
    """
    names = list(program.inputs)
    if not isinstance(inputs, Mapping):
        if len(names) != 1:
            raise InputError(f"the network has {len(names)} inputs ({', '.join(names) or 'none'}); "
                             "pass a dict {input_name: array(steps, B, size)}")
        inputs = {names[0]: inputs}
    unknown = sorted(set(inputs) - set(names))
    if unknown:
        raise InputError(f"unknown input(s) {unknown}; the network's inputs are {names}")
    shapes = {name: np.shape(value) for name, value in inputs.items()}
    batch_sizes = {name: s[1] for name, s in shapes.items() if len(s) == 3}
    flat = [name for name, s in shapes.items() if len(s) != 3]
    if not batch_sizes:
        raise InputError("batched inputs: expected arrays of shape (steps, B, size); got "
                         + ", ".join(f"{n}: {s}" for n, s in shapes.items()))
    if flat:
        raise InputError(
            f"batched inputs: {flat[0]!r} has shape {shapes[flat[0]]} but {next(iter(batch_sizes))!r} has a batch "
            "axis; give every input the shape (steps, B, size) (repeat a shared input with "
            "np.broadcast_to(x[:, None, :], (steps, B, size)))")
    if len(set(batch_sizes.values())) > 1:
        raise InputError("batched inputs: every input needs the same batch size B (axis 1); got "
                         + ", ".join(f"{n}: B={b}" for n, b in batch_sizes.items()))
    batch = next(iter(batch_sizes.values()))
    if batch < 1:
        raise InputError(f"batched inputs: the batch axis (axis 1) is empty; got shape {next(iter(shapes.values()))}")
    out = {}
    for name in names:
        size = program.populations[name].size
        if name not in inputs:
            out[name] = np.zeros((steps, batch, size))
            continue
        arr = np.asarray(inputs[name], dtype=np.float64)
        if arr.shape[2] != size or arr.shape[0] < steps:
            raise InputError(f"input {name!r}: expected a batched array of shape (steps>={steps}, B, {size}), "
                             f"got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise InputError(f"input {name!r}: contains NaN or infinite values")
        out[name] = arr[:steps]
    return batch, out


def has_plasticity(program) -> bool:
    """Whether ``program`` has a plastic projection (a batch cannot share its weights)."""
    return any(p.plasticity is not None for p in program.projections)


def _tile(value, lengths: set, batch: int):
    """``value`` with every array whose first axis is a per-neuron / per-synapse length tiled ``batch`` times."""
    if isinstance(value, np.ndarray):
        if value.ndim >= 1 and value.shape[0] in lengths:
            return np.concatenate([value] * batch, axis=0)
        return value
    if isinstance(value, dict):
        return {k: _tile(v, lengths, batch) for k, v in value.items()}
    return value


def _batched_shape(pop, batch: int) -> tuple:
    """``(batch, *shape)`` when the population's shape holds its size, else ``(batch * size,)``."""
    shape = tuple(pop.shape or ())
    if shape and int(np.prod(shape)) == pop.size:
        return (batch,) + shape
    return (batch * pop.size,)


def replicate(program, batch: int):
    """``program`` as ``batch`` independent copies, for one vectorised run of a batch.

    Each population keeps its name and gets ``batch * size`` neurons (copy ``b``'s neuron ``i`` is
    ``b * size + i``); its per-neuron parameters (arrays ``(size,)``) are tiled. Each projection
    becomes block-diagonal, shape ``(batch * n_post, batch * n_pre)``: copy ``b``'s CSR rows are the
    original rows with columns shifted by ``b * n_pre``, data and delays in the original order.
    Inputs, outputs, probes and options are unchanged. Plastic projections are refused
    (:class:`~neuroport.errors.InputError`): the copies would need ``batch**2`` dense weights.

    Parameters
    ----------
    program : Program
        Float or fixed.
    batch : int
        Number of copies B >= 1 (``1`` returns ``program`` itself).
    """
    if batch == 1:
        return program
    if has_plasticity(program):
        names = [p.name for p in program.projections if p.plasticity is not None]
        raise InputError(f"a batch cannot run plastic projections ({', '.join(names)}) in one pass: each sample "
                         "would change the shared weights; run the samples one at a time")
    pops = {}
    for name, pop in program.populations.items():
        lengths = {pop.size}
        params = {k: _tile(np.asarray(v), lengths, batch) if np.ndim(v) else v for k, v in pop.params.items()}
        v_offset = None if pop.v_offset is None else _tile(np.asarray(pop.v_offset), lengths, batch)
        pops[name] = pop.__class__(name=pop.name, size=batch * pop.size, model=pop.model, params=params,
                                   emits=pop.emits, v_offset=v_offset, shape=_batched_shape(pop, batch),
                                   extra=_tile(dict(pop.extra), lengths, batch))
    projections = []
    for proj in program.projections:
        w = proj.weights if sp.isspmatrix_csr(proj.weights) else sp.csr_matrix(proj.weights)
        n_post, n_pre = w.shape
        nnz = int(w.indptr[-1])
        index_dtype = np.int64 if batch * max(nnz, n_pre) >= 2**31 else np.int32
        indptr = np.concatenate([w.indptr[:-1].astype(np.int64) + b * nnz for b in range(batch)] + [[batch * nnz]])
        indices = np.concatenate([w.indices[:nnz].astype(np.int64) + b * n_pre for b in range(batch)])
        weights = sp.csr_matrix((np.tile(w.data[:nnz], batch), indices.astype(index_dtype), indptr.astype(index_dtype)),
                                shape=(batch * n_post, batch * n_pre))
        lengths = {n_pre, n_post, nnz}
        projections.append(proj.__class__(name=proj.name, pre=proj.pre, post=proj.post, weights=weights,
                                          delays=np.tile(np.asarray(proj.delays), batch),
                                          extra=_tile(dict(proj.extra), lengths, batch)))
    return program.replace(populations=pops, projections=tuple(projections))


def unbatch(result: Result, batch: int, *, path: str = "vectorised") -> Result:
    """Split the Result of a run of :func:`replicate`'s Program into a batched Result.

    Spikes become :class:`~neuroport.result.BatchSpikeTrain` (neuron ``b * n + i`` -> sample ``b``,
    neuron ``i``); probed states ``(steps, batch * n)`` become ``(steps, batch, n)``.
    """
    spikes = {}
    for name, train in result.spikes.items():
        n = train.size // batch
        spikes[name] = BatchSpikeTrain(train.steps, train.neurons % n, n, train.num_steps,
                                       train.neurons // n, batch)
    states = {pop: {var: arr.reshape(arr.shape[0], batch, arr.shape[1] // batch) for var, arr in variables.items()}
              for pop, variables in result.states.items()}
    return Result(result.backend, result.dt, result.num_steps, spikes, states, dict(result.weights),
                  result.wall_time, {**result.meta, "batch_path": path}, batch=batch)


def run_each(backend, program, *, steps: int, inputs, probes=(), progress=None, seed: int = 0, **extra) -> Result:
    """One ``backend.run`` per sample of batched ``inputs`` (``(steps, B, n)``), stacked into one batched Result.

    For backends that cannot batch (Lava, Brian2, NEST) and for plastic networks on the numpy engines.
    Every run starts from the initial state with the same ``seed``, as B separate calls would.
    """
    batch, ins = batch_inputs(program, inputs, steps)
    results = [backend.run(program, steps=steps, inputs={k: v[:, b] for k, v in ins.items()}, probes=probes,
                           progress=progress, seed=seed, **extra) for b in range(batch)]
    return Result.stack(results, meta={"batch_path": "loop"})


def run_vectorised(backend, program, *, steps: int, inputs, probes=(), progress=None, seed: int = 0,
                   **extra) -> Result:
    """One engine pass over the whole batch: ``backend.run`` on ``backend.batched_program(program, B)``
    (:func:`replicate`) with the inputs reshaped to ``(steps, B * n)``, then :func:`unbatch`.

    A Program with plastic projections runs :func:`run_each` instead (module docstring).
    """
    if has_plasticity(program):
        return run_each(backend, program, steps=steps, inputs=inputs, probes=probes, progress=progress, seed=seed,
                        **extra)
    batch, ins = batch_inputs(program, inputs, steps)
    big = backend.batched_program(program, batch)
    flat = {k: v.reshape(v.shape[0], -1) for k, v in ins.items()}
    result = backend.run(big, steps=steps, inputs=flat, probes=probes, progress=progress, seed=seed, **extra)
    return unbatch(result, batch)
