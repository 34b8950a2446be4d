"""Bad command lines: one line naming the argument and what is allowed, exit 2 for usage, 1 for failures."""

import os
import subprocess
import sys

import pytest

from neuroport.cli import main
from neuroport.testing.cli_sweep import bad_invocations, make_files, run_one, unwritable_folder


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
    (["run", "{g}", "--steps", "5", "--out", "{t}/r.npz"], "is a file, not a folder"),
    (["train", "--out", "{d}/t.nir", "--train-samples", str(10 ** 12), "--epochs", "0"], "--train-samples"),
    (["run", "{g}", "--steps", "5", "--backend", "numpyy"], "did you mean 'numpy'"),
    (["check", "{g}", "--steps", "5", "--backends", "numpy,brain2"], "did you mean 'brian2'"),
])
def test_unusable_arguments_exit_2_before_any_work(files, capsys, argv, needle):
    ro = unwritable_folder(files)  # as root the 0555 folder is writable: the text file stands in
    if ro != files["ro"] and needle == "not writable":
        needle = "is a file, not a folder"
    argv = [a.format(g=files["good"], d=files["dir"], ro=ro, t=files["text"]) for a in argv]
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and needle in err[0]


def test_sweep_outputs_meant_unwritable_are_unwritable(files):
    """The sweep's 'unwritable output' cases stay unwritable for this user (root writes into a 0555 folder:
    they then go under a file instead), so none of them runs a whole command and times out."""
    folders = {os.path.join(files["dir"], "nodir"), unwritable_folder(files)}
    outs = [a for argv in bad_invocations(files) for a in argv if os.path.dirname(a) in folders]
    assert len(outs) >= 6
    for path in outs:
        folder = os.path.dirname(path)
        assert not (os.path.isdir(folder) and os.access(folder, os.W_OK)), path


def test_info_into_a_closed_pipe_is_quiet(files):
    proc = subprocess.run(f"{sys.executable} -m neuroport.cli info {files['good']} | head -c 1", shell=True,
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
