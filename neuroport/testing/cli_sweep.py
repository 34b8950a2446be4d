"""Bad command-line invocations for every subcommand, run in-process, classified (issue 12 defect 7).

:func:`bad_invocations` builds the list (each is an argv list); :func:`run_one`
runs one through :func:`neuroport.cli.main` under a wall-clock alarm and
returns its outcome: ``"usage"`` (exit 2), ``"failure"`` (exit 1),
``"ok"`` (exit 0), ``"traceback"`` (an exception escaped ``main``, or a
``Traceback`` on stderr), ``"timeout"``. ``benchmarks/cli_sweep.py`` runs them all;
``tests/test_cli_misuse.py`` a subset.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal

import numpy as np


class _Timeout(BaseException):
    pass


def make_files(folder) -> dict:
    """A valid small network, a truncated copy, a text file and a read-only folder in ``folder``.

    The read-only folder (mode 0555) is writable for root; :func:`bad_invocations` then puts the
    outputs meant to be unwritable under the text file instead (a parent that is not a folder)."""
    import neuroport

    folder = os.fspath(folder)
    net = neuroport.Network()
    x = net.input(3, name="x")
    y = net.population(2, neuroport.LIF(tau=0.01, v_threshold=1.0), name="y")
    net.connect(x, y, weight=np.full((2, 3), 2.0))
    net.output(y)
    good = os.path.join(folder, "good.nir")
    neuroport.write(good, net, options={"dt": 1e-3})
    trunc = os.path.join(folder, "trunc.nir")
    with open(good, "rb") as src, open(trunc, "wb") as dst:
        dst.write(src.read()[:700])
    text = os.path.join(folder, "text.nir")
    with open(text, "w") as fh:
        fh.write("not hdf5\n")
    readonly = os.path.join(folder, "ro")
    os.makedirs(readonly, exist_ok=True)
    os.chmod(readonly, 0o555)
    return {"good": good, "trunc": trunc, "text": text, "ro": readonly, "dir": folder}


def unwritable_folder(files: dict) -> str:
    """A "folder" nothing can be written under: the read-only folder, or, where this user can write
    into it anyway (root), the text file (a parent that is not a folder)."""
    return files["text"] if os.access(files["ro"], os.W_OK) else files["ro"]


def bad_invocations(files: dict) -> list:
    """Over 150 invalid argv lists covering every subcommand and option kind."""
    g, d, ro = files["good"], files["dir"], unwritable_folder(files)
    bad_files = [files["trunc"], files["text"], os.path.join(d, "missing.nir"), d, "/dev/null"]
    bad_outs = [os.path.join(d, "nodir", "r.x"), os.path.join(ro, "r.x"), d]
    bad_ints = ["-1", "-5", "0", str(10 ** 12), "x", "1.5", ""]
    bad_seeds = ["-1", str(2 ** 40), "abc"]
    bad_floats = ["-1", "0", "nan", "inf", "x"]
    cases = []
    for f in bad_files:  # unreadable inputs, every command with a file
        cases += [["info", f], ["run", f, "--steps", "5", "--dt", "1e-3"], ["quantize", f, "--steps", "0"],
                  ["map", f, "--dt", "1e-3"], ["check", f, "--steps", "5", "--backends", "numpy"],
                  ["evaluate", f, "--test-samples", "1"]]
    for v in bad_ints:
        cases += [["run", g, "--steps", v], ["check", g, "--steps", v, "--backends", "numpy"],
                  ["demo", "--out", os.path.join(d, "demo"), "--steps", v, "--backends", "numpy"],
                  ["train", "--out", os.path.join(d, "t.nir"), "--train-samples", v, "--epochs", "0"],
                  ["evaluate", g, "--test-samples", v], ["map", g, "--chips", v]]
    cases += [["quantize", g, "--steps", v] for v in ("-1", "-5", str(10 ** 12), "x")]
    cases += [["train", "--out", os.path.join(d, "t.nir"), "--epochs", v] for v in ("-1", "x", str(10 ** 12))]
    cases += [["train", "--out", os.path.join(d, "t.nir"), "--neurons", v] for v in ("0", "-3", "x")]
    for v in bad_seeds:
        cases += [["run", g, "--steps", "5", "--seed", v], ["check", g, "--seed", v], ["demo", "--seed", v],
                  ["quantize", g, "--seed", v], ["train", "--out", os.path.join(d, "t.nir"), "--seed", v]]
    for v in bad_floats:
        cases += [["run", g, "--steps", "5", "--dt", v], ["check", g, "--dt", v, "--backends", "numpy"],
                  ["quantize", g, "--dt", v], ["map", g, "--dt", v]]
    for v in ("-1", "nan", "x"):
        cases += [["check", g, "--rate", v], ["quantize", g, "--rate", v], ["demo", "--rate", v]]
    for out in bad_outs:
        cases += [["run", g, "--steps", "5", "--out", out], ["run", g, "--steps", "5", "--plot", out],
                  ["check", g, "--steps", "5", "--backends", "numpy", "--json", out],
                  ["check", g, "--steps", "5", "--backends", "numpy", "--plot", out],
                  ["quantize", g, "--steps", "0", "--json", out], ["train", "--out", out, "--epochs", "0",
                                                                             "--train-samples", "20"]]
    cases += [["demo", "--out", os.path.join(ro, "demo"), "--steps", "5", "--backends", "numpy"],
              ["demo", "--out", g, "--steps", "5", "--backends", "numpy"]]
    for v in (",", " , ", "nosuch", "numpy,,nosuch"):
        cases += [["check", g, "--steps", "5", "--backends", v], ["evaluate", g, "--backend", v],
                  ["demo", "--out", os.path.join(d, "demo"), "--steps", "5", "--backends", v],
                  ["run", g, "--steps", "5", "--backend", v]]
    cases += [["run", g, "--steps", "5", "--input", v] for v in
              ("poisson", "poisson:rate=x", "poisson:rate=-5", os.path.join(d, "none.npz"), "regular:rate=1e400")]
    cases += [["run", g, "--steps", "5", "--probe", v] for v in ("v", "nosuch.v", "y.nosuch", ".")]
    cases += [["run", g, "--steps", "5", "--profile", "nosuch"], ["check", g, "--profile", "nosuch"],
              ["quantize", g, "--profile", "nosuch", "--steps", "0"], ["map", g, "--profile", "nosuch"],
              ["run", g, "--steps", "5", "--dry-run"], ["run", g, "--steps", "5", "--scheme", "rk4"],
              ["run", g], ["check"], ["quantize"], ["map"], ["info"], ["evaluate"], ["train"], ["nosuch"],
              ["run", g, "--steps", "5", "--nosuch"], ["train", "--out", os.path.join(d, "t.nir"),
                                                      "--resume", files["text"], "--epochs", "0"],
              ["train", "--out", os.path.join(d, "t.nir"), "--resume", os.path.join(d, "missing.nir")],
              ["evaluate", g, "--backend", "lava-fixed"]]
    return cases


def run_one(argv, *, timeout_s: float = 30.0) -> tuple:
    """(outcome, last stderr line) of ``neuroport.cli.main(argv)`` (see the module docstring)."""
    from neuroport.cli import main

    err = io.StringIO()
    out = io.StringIO()

    def alarm(signum, frame):
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except _Timeout:
        return "timeout", ""
    except BaseException as exc:  # noqa: BLE001  (what the sweep counts)
        return "traceback", f"{type(exc).__name__}: {exc}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    text = err.getvalue()
    last = text.strip().splitlines()[-1] if text.strip() else ""
    if "Traceback (most recent call last)" in text or "internal error" in text:
        return "traceback", last
    return {0: "ok", 1: "failure", 2: "usage"}.get(code, f"exit {code}"), last
