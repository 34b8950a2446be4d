"""Lava backends (``lava``, ``lava-fixed``, ``loihi2``): lowering, refusals, cleanup, equivalence.

Equivalence criteria (THRESHOLDS in neuroport/compare.py):

* ``lava`` vs ``numpy``: identical spike trains; ``u`` and ``v`` within
  ``1e-9`` relative (to the largest magnitude of that variable in the run, so
  that values cancelling to ~0 do not divide by ~0);
* ``lava-fixed`` vs ``numpy-fixed``: identical ``u``, ``v`` and spikes at every step.

The random fixed-point networks are built directly as integer Programs
(:func:`neuroport.testing.random_networks.random_fixed_program`, shared with
``benchmarks/bench_lava.py`` and ``tests/test_lava_models.py``, which covers
neuroport's own processes), so they reach corners a quantizer avoids:
``u`` wrapping, ``v`` saturating, every sign mode, ``num_weight_bits`` 1..8,
``weight_exp`` -8..7, biases with exponents, delays 1..10, populations split
by threshold. Ten run here (batched into few Lava runs); all 50 run in
``benchmarks/bench_lava.py``.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings

import numpy as np
import pytest

from neuroport import backends
from neuroport.program import Population, Projection

_LAVA = backends.get("lava")
_OK, _REASON = _LAVA.available()
if not _OK:
    pytest.skip(f"Lava backends unavailable: {_REASON}", allow_module_level=True)

import neuroport  # noqa: E402
from neuroport.errors import (  # noqa: E402
    BackendError,
    BackendUnavailableError,
    CompileError,
    InputError,
    QuantizationWarning,
    UnsupportedNodeError,
)
from neuroport.testing import cases  # noqa: E402
from neuroport.testing.random_networks import (  # noqa: E402
    random_fixed_program,
    random_inputs,
    union,
    union_inputs,
)

def assert_fixed_identical(a, b, program):
    for name, pop in program.populations.items():
        np.testing.assert_array_equal(a.spikes[name].to_dense(), b.spikes[name].to_dense(),
                                      err_msg=f"spikes of {name}")
    for name, var in program.probes:
        x, y = a.states[name][var], b.states[name][var]
        if not np.array_equal(x, y):
            t, i = np.argwhere(x != y)[0]
            raise AssertionError(f"{name}.{var} differs first at step {t}, neuron {i}: "
                                 f"{a.backend}={x[t, i]}, {b.backend}={y[t, i]}")


def assert_float_equivalent(a, b, program, probes):
    for name in program.populations:
        np.testing.assert_array_equal(a.spikes[name].to_dense(), b.spikes[name].to_dense(),
                                      err_msg=f"spikes of {name}")
    for name, var in probes:
        x, y = a.states[name][var], b.states[name][var]
        scale = max(float(np.abs(y).max()), 1e-300)
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-9 * scale, err_msg=f"{name}.{var}")


def run_fixed(name, program, steps, inputs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)  # random networks overflow on purpose
        return backends.get(name).run(program, steps=steps, inputs=inputs)


def quantized(program):
    from neuroport.quantize import quantize

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        return quantize(program)[0]


def child_pids() -> set:
    """PIDs of this process's children, from /proc (no psutil)."""
    me = str(os.getpid())
    out = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] != me or fields[0] == "Z":
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read()
        except OSError:
            continue
        if b"resource_tracker" not in cmdline:  # multiprocessing's tracker lives as long as we do
            out.add(int(entry))
    return out


@pytest.fixture(scope="module")
def canonical():
    """(case, float Program) for the lead's canonical cases (single LIF, CubaLIF chain, E/I, delays)."""
    out = []
    for case in cases.canonical_cases(0):
        out.append((case, neuroport.compile(case.graph, dt=case.dt, timing="hardware")))
    return out


# --------------------------------------------------------------------------- NIR paper
@pytest.mark.parametrize("mode", ["lava", "lava-fixed"])
def test_nir_paper_spike_steps(mode):
    case = cases.nir_paper()
    program = neuroport.compile(case.graph, dt=case.dt, timing="hardware")
    if mode == "lava-fixed":
        program = quantized(program)
    result = backends.get(mode).run(program, steps=case.steps, inputs=case.inputs)
    np.testing.assert_array_equal(result.spikes["1"].steps, [461, 511, 711, 761])
    assert result.meta["processes"] == 4  # RingBuffer, LIF, Dense, Recorder


# --------------------------------------------------------------------------- equivalence
def test_lava_float_matches_numpy(canonical):
    for case, program in canonical:
        probes = [(n, v) for n in case.populations for v in ("u", "v")]
        a = backends.get("lava").run(program, steps=case.steps, inputs=case.inputs, probes=probes)
        b = backends.get("numpy").run(program, steps=case.steps, inputs=case.inputs, probes=probes)
        assert_float_equivalent(a, b, program, probes)
        assert sum(t.count for n, t in a.spikes.items() if n not in program.inputs) > 0, case.name


def test_lava_fixed_matches_numpy_fixed_canonical(canonical):
    for case, program in canonical:
        fixed = quantized(program)
        fixed = fixed.replace(probes=tuple((n, v) for n in case.populations for v in ("u", "v")))
        a = run_fixed("lava-fixed", fixed, case.steps, case.inputs)
        b = run_fixed("numpy-fixed", fixed, case.steps, case.inputs)
        assert_fixed_identical(a, b, fixed)


def test_lava_fixed_matches_numpy_fixed_random():
    """Ten random integer networks, five per Lava run, 40 steps each: identical u, v, spikes."""
    steps = 40
    for batch in (range(0, 5), range(5, 10)):
        programs = [random_fixed_program(seed) for seed in batch]
        inputs = [random_inputs(p, steps, seed) for p, seed in zip(programs, batch)]
        program = union(programs)
        ins = union_inputs(programs, inputs)
        a = run_fixed("lava-fixed", program, steps, ins)
        b = run_fixed("numpy-fixed", program, steps, ins)
        assert_fixed_identical(a, b, program)
        assert a.meta["processes"] >= len(program.populations)


# --------------------------------------------------------------------------- lowering
def test_process_counts_and_split():
    program = random_fixed_program(3)
    from neuroport.backends.lava import lowering

    plan = lowering.plan(program, fixed=True, mode="lava-fixed")
    for name in plan.neurons:
        vth = program.populations[name].params["vth"]
        assert len(plan.groups[name]) == np.unique(vth).size
    counts = plan.process_counts
    assert counts["RingBuffer"] == 1 and counts["Recorder"] == 1
    assert plan.n_processes == sum(counts.values())


def test_refusals(canonical):
    case, program = canonical[0]
    loop = next(c for c, _ in canonical if c.name == "recurrent_ei")  # E -> I -> E: no compensation exists
    ideal = neuroport.compile(loop.graph, dt=loop.dt, timing="ideal")
    with pytest.raises(CompileError, match="cannot be compensated.*loop"):
        backends.get("lava").run(ideal, steps=5, inputs=loop.inputs)
    with pytest.raises(CompileError, match="'discrete'"):
        backends.get("lava").run(quantized(program), steps=5, inputs=case.inputs)
    with pytest.raises(CompileError, match="'fixed'"):
        backends.get("lava-fixed").run(program, steps=5, inputs=case.inputs)
    lif = next(p for p in program.populations.values() if not p.is_input)
    for change, match in (({"refractory": np.full(lif.size, 2)}, "refractory"),
                          ({"u_bias": np.full(lif.size, 0.1)}, "u_bias")):
        # the lava modes run these on neuroport's ALIF process (tests/test_lava_models.py); loihi2 refuses
        pop = Population(lif.name, lif.size, lif.model, {**lif.params, **change}, lif.emits, lif.v_offset,
                         lif.shape, lif.extra)
        bad = program.replace(populations={**program.populations, lif.name: pop})
        with pytest.raises(UnsupportedNodeError, match=f"{lif.name}.*CPU-only.*{match}"):
            backends.get("loihi2").run(bad, steps=5, inputs=case.inputs)
    unknown = Population(lif.name, lif.size, "izhikevich", lif.params, lif.emits, lif.v_offset, lif.shape, lif.extra)
    with pytest.raises(UnsupportedNodeError, match="izhikevich"):
        backends.get("lava").run(program.replace(populations={**program.populations, lif.name: unknown}),
                                 steps=5, inputs=case.inputs)
    proj = program.projections[0]
    far = program.replace(projections=(Projection(proj.name, proj.pre, proj.post, proj.weights,
                                                  np.full(proj.nnz, 65), proj.extra),))
    with pytest.raises(UnsupportedNodeError, match="delays must be in"):
        backends.get("lava").run(far, steps=5, inputs=case.inputs)
    with pytest.raises(InputError, match="spikes"):
        backends.get("lava-fixed").run(quantized(program), steps=5,
                                       inputs={k: v * 0.5 for k, v in case.inputs.items()})


def test_non_spiking_feeding_population_refused():
    import nir

    g = nir.NIRGraph.from_list(
        nir.Input(np.array([2])),
        nir.Affine(np.ones((3, 2)), np.zeros(3)),
        nir.LI(tau=np.full(3, 0.01), r=np.ones(3), v_leak=np.zeros(3)),
        nir.Affine(np.ones((2, 3)), np.zeros(2)),
        nir.LIF(tau=np.full(2, 0.01), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2)),
        nir.Output(np.array([2])),
    )
    program = neuroport.compile(g, dt=1e-3, timing="hardware")
    with pytest.raises(UnsupportedNodeError, match="non-spiking"):
        backends.get("lava").run(program, steps=5, inputs=np.ones((5, 2)))


# --------------------------------------------------------------------------- availability, cleanup
def test_loihi2_unavailable_without_lava_loihi():
    be = backends.get("loihi2")
    ok, reason = be.available()
    from lava.utils import loihi

    if loihi.is_installed():  # pragma: no cover - only on INRC systems
        pytest.skip("lava-loihi is installed here")
    assert not ok and "lava-loihi" in reason and "INRC" in reason
    case = cases.nir_paper()
    program = quantized(neuroport.compile(case.graph, dt=case.dt, timing="hardware"))
    with pytest.raises(BackendUnavailableError, match="lava-loihi"):
        be.run(program, steps=10, inputs=case.inputs)
    summary = be.dry_run(program)
    assert summary["processes"] == 4 and summary["built"] and not summary["available"]
    assert summary["mapping"] is not None


def test_available_never_raises(monkeypatch):
    from neuroport.backends.lava import _compat

    monkeypatch.setattr(_compat, "lava_reason", lambda: 1 / 0)
    monkeypatch.setattr(_compat, "loihi_reason", lambda: 1 / 0)
    for mode in ("lava", "lava-fixed", "loihi2"):
        ok, reason = backends.get(mode).available()
        assert not ok and "ZeroDivisionError" in reason


def test_no_child_process_survives(canonical, monkeypatch):
    case, program = canonical[0]
    before = child_pids()
    backends.get("lava").run(program, steps=20, inputs=case.inputs)
    assert child_pids() <= before and not multiprocessing.active_children()
    # a failure inside a Lava process model (in the forked children) must still stop everything
    from lava.proc.lif.models import PyLifModelFloat

    def boom(self):
        if self.time_step == 3:
            raise RuntimeError("injected failure")
        return original(self)

    original = PyLifModelFloat.run_spk
    monkeypatch.setattr(PyLifModelFloat, "run_spk", boom)
    with pytest.raises(BackendError, match="Lava run failed.*injected failure"):
        backends.get("lava").run(program, steps=20, inputs=case.inputs)
    assert child_pids() <= before and not multiprocessing.active_children()


def test_non_spiking_readout_runs():
    """An LI read-out that feeds nothing runs as a LIF that never fires; its v matches numpy."""
    import nir

    rng = np.random.default_rng(4)
    g = nir.NIRGraph.from_list(
        nir.Input(np.array([6])),
        nir.Affine(rng.uniform(0, 3, (8, 6)), np.zeros(8)),
        nir.LIF(tau=np.full(8, 0.01), r=np.ones(8), v_leak=np.zeros(8), v_threshold=np.ones(8)),
        nir.Affine(rng.uniform(-1, 2, (3, 8)), np.zeros(3)),
        nir.LI(tau=np.full(3, 0.02), r=np.ones(3), v_leak=np.zeros(3)),
        nir.Output(np.array([3])),
    )
    program = neuroport.compile(g, dt=1e-3, timing="hardware")
    readout = next(n for n, p in program.populations.items() if p.emits != "spikes" and not p.is_input)
    probes = [(readout, "v"), (readout, "u")]
    x = (rng.random((60, 6)) < 0.3).astype(float)
    a = backends.get("lava").run(program, steps=60, inputs=x, probes=probes)
    b = backends.get("numpy").run(program, steps=60, inputs=x, probes=probes)
    assert_float_equivalent(a, b, program, probes)
    assert np.abs(b.states[readout]["v"]).max() > 0
    fixed = quantized(program).replace(probes=tuple(probes))
    assert_fixed_identical(run_fixed("lava-fixed", fixed, 60, x), run_fixed("numpy-fixed", fixed, 60, x), fixed)


def test_lava_imports_after_a_progress_bar_fixed_the_start_method():
    """tqdm's first bar fixes multiprocessing's (fork) context; Lava's import-time
    set_start_method('fork') must still succeed (neuroport resets the already-chosen fork context)."""
    import subprocess
    import sys

    code = ("import multiprocessing as mp\nfrom tqdm.auto import tqdm\n"
            "bar = tqdm(total=1, disable=False); bar.update(1); bar.close()\n"
            "assert mp.get_start_method(allow_none=True) == 'fork'\n"
            "from neuroport import backends\nok, reason = backends.get('lava').available()\n"
            "assert ok, reason\nprint('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]
