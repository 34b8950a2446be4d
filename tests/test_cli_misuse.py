"""Bad command lines: one line naming the argument and what is allowed, exit 2 for usage, 1 for failures."""

import os
import subprocess
import sys

import pytest

from neuroport.cli import main
from neuroport.testing.cli_sweep import bad_invocations, make_files, run_one


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return make_files(tmp_path_factory.mktemp("sweep"))


def test_sweep_subset_has_no_traceback(files):
    cases = bad_invocations(files)
    assert len(cases) >= 150
    subset = cases[::12]  # every subcommand is represented (the full run: benchmarks/cli_sweep.py)
    outcomes = {" ".join(argv): run_one(argv) for argv in subset}
    bad = {k: v for k, v in outcomes.items() if v[0] in ("traceback", "timeout")}
    assert not bad


@pytest.mark.parametrize("argv, option, allowed", [
    (["run", "{g}", "--steps", str(10 ** 12)], "--steps", "[1, 100000000]"),
    (["run", "{g}", "--steps", "-1"], "--steps", "[1, 100000000]"),
    (["check", "{g}", "--steps", "-5"], "--steps", "[1, 100000000]"),
    (["run", "{g}", "--steps", "5", "--seed", "-1"], "--seed", "[0, 4294967295]"),
    (["train", "--out", "{d}/t.nir", "--train-samples", "0"], "--train-samples", ">= 1"),
    (["train", "--out", "{d}/t.nir", "--train-samples", "-3"], "--train-samples", ">= 1"),
    (["evaluate", "{g}", "--test-samples", "-1"], "--test-samples", ">= 1"),
    (["run", "{g}", "--steps", "5", "--dt", "nan"], "--dt", "a finite number > 0"),
])
def test_bad_numbers_are_usage_errors_naming_the_option(files, capsys, argv, option, allowed):
    argv = [a.format(g=files["good"], d=files["dir"]) for a in argv]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert option in err and allowed in err and argv[argv.index(option) + 1] in err


@pytest.mark.parametrize("argv, needle", [
    (["check", "{g}", "--backends", ","], "--backends"),
    (["evaluate", "{g}", "--backend", " , "], "--backend"),
    (["run", "{g}", "--steps", "5", "--out", "{d}/nodir/r.npz"], "does not exist"),
    (["quantize", "{g}", "--steps", "0", "--json", "{ro}/r.json"], "not writable"),
    (["train", "--out", "{ro}/sub/t.nir"], "--out"),
])
def test_unusable_arguments_exit_2_before_any_work(files, capsys, argv, needle):
    argv = [a.format(g=files["good"], d=files["dir"], ro=files["ro"]) for a in argv]
    code = main(argv)  # as root a read-only folder is writable: then the command may succeed
    err = capsys.readouterr().err.strip().splitlines()
    assert code in (0, 2) if os.geteuid() == 0 and files["ro"] in " ".join(argv) else code == 2
    if code:
        assert len(err) == 1 and needle in err[0]


def test_info_into_a_closed_pipe_is_quiet(files):
    proc = subprocess.run(f"{sys.executable} -m neuroport.cli info {files['good']} | head -c 1", shell=True,
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
