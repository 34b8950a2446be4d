"""The nest backend across MPI ranks (backends/nest/mpi.py, docs/nest.md).

The MPI runs need a NEST built with MPI (``make nest-mpi`` installs it in ``.venv-nest-mpi``; or
``$NEUROPORT_NEST_PYTHON`` names such a Python) and Open MPI's ``mpirun``; without them they are
skipped with that reason, so ``make test`` passes on the PyPI wheel. The refusals run everywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import neuroport
from neuroport.backends.nest import mpi
from neuroport.backends.nest.backend import NestBackend
from neuroport.cli import main
from neuroport.compare import compare
from neuroport.errors import BackendUnavailableError, InputError, UnsupportedNodeError
from neuroport.models.networks.benchmarks import coba_network

DT = 1e-4
STEPS = 2000
N_NEURONS = 1000  # COBA self-sustained at p = 0.08 (tests/test_nest.py): ~16 Hz
ROOT = Path(__file__).resolve().parents[1]


def _mpi_python() -> tuple[str | None, str]:
    """The Python whose NEST has MPI, or ``(None, why not)``."""
    if shutil.which(os.environ.get(mpi.MPIRUN_ENV) or "mpirun") is None:
        return None, "no mpirun on PATH (make nest-mpi apt-installs openmpi-bin)"
    python = os.environ.get(mpi.PYTHON_ENV) or str(ROOT / ".venv-nest-mpi" / "bin" / "python")
    if not os.access(python, os.X_OK):
        return None, f"no MPI NEST: {python} is missing (run `make nest-mpi`, or set ${mpi.PYTHON_ENV})"
    probe = ("import os, sys; os.environ['PYNEST_QUIET'] = '1'; import nest; "
             "sys.exit(0 if nest.build_info.get('have_mpi') else 3)")
    try:
        done = subprocess.run([python, "-c", probe], capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return None, f"{python}: importing nest took > 120 s"
    if done.returncode == 3:
        return None, f"the NEST of {python} has no MPI; run `make nest-mpi`"
    if done.returncode != 0:
        last = (done.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]
        return None, f"{python} cannot import nest ({last}); run `make nest-mpi`"
    return python, ""


@pytest.fixture(scope="module")
def mpi_python():
    python, why = _mpi_python()
    if python is None:
        pytest.skip(why)
    return python


@pytest.fixture(scope="module")
def coba_program():
    """COBA (iaf_cond_exp in NEST): spikes on every rank's neurons, and a probed state."""
    program = neuroport.compile(coba_network(n_neurons=N_NEURONS, p=0.08, delay=DT).to_nir(), dt=DT, scheme="exact")
    return program.replace(probes=(("exc", "v"),))


@pytest.fixture(scope="module")
def decompositions(mpi_python, coba_program):
    """The same run as 1 rank x 2 threads and as 2 ranks x 1 thread (2 virtual processes each)."""
    one = NestBackend(ranks=1, local_num_threads=2, python=mpi_python, timeout_s=300)
    two = NestBackend(ranks=2, virtual_processes=2, python=mpi_python, timeout_s=300)
    return {"1x2": one.run(coba_program, steps=STEPS, seed=3), "2x1": two.run(coba_program, steps=STEPS, seed=3)}


def _events(result, name):
    train = result.spikes[name]
    return set(zip(train.steps.tolist(), train.neurons.tolist()))


def test_one_and_two_ranks_give_identical_spikes_and_states(decompositions):
    a, b = decompositions["1x2"], decompositions["2x1"]
    assert (a.meta["ranks"], a.meta["local_num_threads"]) == (1, 2)
    assert (b.meta["ranks"], b.meta["local_num_threads"]) == (2, 1)
    assert a.meta["virtual_processes"] == b.meta["virtual_processes"] == 2
    assert a.meta["nest_have_mpi"] and b.meta["nest_have_mpi"]
    for name in ("exc", "inh"):
        events = _events(b, name)
        assert len(events) > 200, f"{name}: too few spikes ({len(events)}) for the comparison to mean anything"
        # each rank holds every other neuron: both halves must be in the merged result
        assert {n % 2 for _, n in events} == {0, 1}, f"{name}: spikes of one rank only"
        assert _events(a, name) == events, f"{name}: 1x2 and 2x1 differ"
    va, vb = a.states["exc"]["v"], b.states["exc"]["v"]
    assert va.shape == (STEPS, a.spikes["exc"].size) and not np.isnan(vb).any()
    np.testing.assert_array_equal(va, vb)


def test_two_ranks_match_numpy_statistically(decompositions, coba_program):
    """The merged 2-rank result against numpy's scheme="exact" run (an independent integration): rates and
    ISI CV within 10 %."""
    ref = neuroport.run(coba_program, backend="numpy", steps=STEPS)
    populations = compare(ref, decompositions["2x1"]).populations
    for name in ("exc", "inh"):
        m = populations[name]
        assert m.rate_a_hz > 1.0, f"{name} silent"
        assert abs(m.rate_b_hz - m.rate_a_hz) / m.rate_a_hz <= 0.10, (name, m.rate_a_hz, m.rate_b_hz)
        assert abs(m.cv_b - m.cv_a) / m.cv_a <= 0.10, (name, m.cv_a, m.cv_b)


def test_script_under_users_own_mpirun_gathers_every_rank(mpi_python, decompositions, tmp_path):
    """``mpirun -np 2 python script.py``: the backend finds 2 ranks through NEST, each rank returns the
    whole Result (the same spikes as the launched run)."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(f"""
        import sys, numpy as np, neuroport
        from neuroport.models.networks.benchmarks import coba_network
        program = neuroport.compile(coba_network(n_neurons={N_NEURONS}, p=0.08, delay={DT!r}).to_nir(), dt={DT!r},
                                    scheme="exact")
        r = neuroport.run(program, backend="nest", steps={STEPS}, seed=3)
        t = r.spikes["exc"]
        np.save(sys.argv[1] + f"/rank{{r.meta['ranks']}}-{{__import__('nest').Rank()}}.npy",
                np.stack([t.steps, t.neurons]))
    """))
    cmd = [shutil.which(os.environ.get(mpi.MPIRUN_ENV) or "mpirun"), "-np", "2", "--oversubscribe", "--bind-to",
           "none", *mpi.LOOPBACK, mpi_python, str(script), str(tmp_path)]
    done = subprocess.run(cmd, env=mpi._mpirun_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    want = _events(decompositions["2x1"], "exc")
    for rank in (0, 1):
        steps, neurons = np.load(tmp_path / f"rank2-{rank}.npy")
        assert set(zip(steps.tolist(), neurons.tolist())) == want, f"rank {rank}"


def test_a_ranks_refusal_reaches_the_caller_unchanged(mpi_python):
    """A lowering refusal on the ranks (adaptive threshold) is the same UnsupportedNodeError in the parent."""
    net = neuroport.Network()
    x = net.input(2, name="x")
    net.connect(x, net.population(2, neuroport.LIF(tau=0.02, v_threshold=1.0, tau_theta=0.1, theta_plus=0.05),
                                  name="p"), weight=1.0)
    with pytest.raises(UnsupportedNodeError, match=r"'p'.*adaptive threshold"):
        NestBackend(ranks=2, python=mpi_python, timeout_s=300).run(neuroport.compile(net.to_nir(), dt=DT), steps=10)


# ----------------------------------------------------------------- refusals (no MPI needed)
def _tiny_program():
    net = neuroport.Network()
    x = net.input(2, name="x")
    p = net.population(2, neuroport.LIF(tau=0.02, v_threshold=1.0), name="p")
    net.connect(x, p, weight=1.0)
    return neuroport.compile(net.to_nir(), dt=DT)


def test_missing_mpirun_is_refused_naming_make_nest_mpi(monkeypatch):
    monkeypatch.setenv(mpi.MPIRUN_ENV, "/nonexistent/mpirun")
    with pytest.raises(BackendUnavailableError, match="mpirun.*make nest-mpi"):
        NestBackend(ranks=2).run(_tiny_program(), steps=10)


def test_missing_worker_python_is_refused(monkeypatch):
    if shutil.which("mpirun") is None:
        pytest.skip("no mpirun on PATH: the mpirun refusal comes first")
    with pytest.raises(BackendUnavailableError, match="worker Python.*make nest-mpi"):
        NestBackend(ranks=2, python="/nonexistent/python").run(_tiny_program(), steps=10)


def test_a_nest_without_mpi_is_refused_naming_make_nest_mpi():
    nest = pytest.importorskip("nest", reason="NEST is not installed (pip install 'neuroport[nest]')")
    from neuroport.backends.nest import _compat

    if shutil.which("mpirun") is None:
        pytest.skip("no mpirun on PATH (test_missing_mpirun covers that refusal)")
    if _compat.have_mpi(nest):
        pytest.skip("this Python's NEST has MPI")
    with pytest.raises(BackendUnavailableError, match="no(ne| MPI).*make nest-mpi"):
        NestBackend(ranks=2, python=sys.executable, timeout_s=120).run(_tiny_program(), steps=10)


def test_process_counts_are_checked():
    with pytest.raises(InputError, match="virtual_processes=3 with ranks=2"):
        NestBackend(ranks=2, virtual_processes=3)
    with pytest.raises(InputError, match="either local_num_threads or virtual_processes"):
        NestBackend(ranks=1, virtual_processes=2, local_num_threads=2)
    assert NestBackend(ranks=2, virtual_processes=4).local_num_threads == 2
    with pytest.raises(InputError, match="ranks"):
        NestBackend(ranks=0)


def test_ranks_inside_an_mpi_job_is_refused(monkeypatch):
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    with pytest.raises(InputError, match="already runs under mpirun"):
        NestBackend(ranks=2).run(_tiny_program(), steps=10)


def test_cli_ranks_only_for_nest(tmp_path, capsys):
    path = tmp_path / "net.nir"
    net = neuroport.Network()
    x = net.input(2, name="x")
    net.connect(x, net.population(2, neuroport.LIF(tau=0.02, v_threshold=1.0), name="p"), weight=1.0)
    neuroport.write(str(path), net.to_nir())
    assert main(["run", str(path), "--backend", "numpy", "--ranks", "2", "--steps", "5", "--dt", "1e-4"]) == 2
    assert "only backend 'nest'" in capsys.readouterr().err
    assert main(["run", str(path), "--backend", "nest", "--ranks", "0", "--steps", "5", "--dt", "1e-4"]) == 2


# ----------------------------------------------------------------- the worker and the merge, without MPI
def test_worker_parts_split_by_rank_merge_into_the_in_process_result(tmp_path, monkeypatch):
    """The worker (``python -m neuroport.backends.nest.mpi``) on this process's NEST, its part split into two
    fake ranks by neuron (as NEST distributes them), merged and collected: the in-process run's spikes and states."""
    pytest.importorskip("nest", reason="NEST is not installed (pip install 'neuroport[nest]')")
    from neuroport.backend import all_probes, normalize_inputs
    from neuroport.backends.nest import _compat
    from neuroport.backends.nest.backend import collect

    program = neuroport.compile(coba_network(n_neurons=100, p=0.2, delay=DT).to_nir(), dt=DT, scheme="exact")
    program = program.replace(probes=(("exc", "v"),))
    steps = 300
    direct = NestBackend().run(program, steps=steps, seed=1)
    ins, prb = normalize_inputs(program, None, steps), all_probes(program, ())
    job = mpi.write_job(str(tmp_path), program, steps=steps, inputs=ins, probes=prb, seed=1, ranks=1, threads=1)
    monkeypatch.setattr(_compat, "have_mpi", lambda nest: True)  # the wheel's single process as "rank 0 of 1"
    assert mpi.main([job, str(tmp_path)]) == 0
    whole = mpi.read_part(str(tmp_path / "rank0.npz"))

    def half(parity):
        part = dict(whole, rank=parity)
        part["spikes"] = {k: (t[s % 2 == parity], s[s % 2 == parity]) for k, (t, s) in whole["spikes"].items()}
        part["states"] = {k: (t[s % 2 == parity], s[s % 2 == parity], v[s % 2 == parity])
                          for k, (t, s, v) in whole["states"].items()}
        return part

    merged = mpi.merge([half(1), half(0)])
    assert merged["num_processes"] == 2
    trains, states = collect(program, merged, ins, steps, DT * 1e3, prb)
    for name in ("exc", "inh"):
        assert direct.spikes[name].count >= 5, name
        assert _events(direct, name) == set(zip(trains[name].steps.tolist(), trains[name].neurons.tolist())), name
    np.testing.assert_array_equal(states["exc"]["v"], direct.states["exc"]["v"])
