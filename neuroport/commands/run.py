"""``neuroport run FILE.nir``: run a network on a backend, save spikes, plot a raster."""

from __future__ import annotations

import sys

import neuroport
from neuroport import backend as registry
from neuroport.api import prepare
from neuroport.commands.common import (SEED, add_compile_options, add_progress, add_run_length, check_output_path,
                                       compile_kwargs, dt_notice, parse_input_spec, require_run_length, run_steps)
from neuroport.commands.run_dry import format_dry_run
from neuroport.errors import InputError
from neuroport.naming import parse_probe


def register(sub) -> None:
    p = sub.add_parser(
        "run", help="run a .nir network on a backend",
        description="Compile a NIR graph, run it for --steps steps (or --duration) on --backend with the given "
                    "input, print spike counts per population, and optionally save the result and a raster plot.",
        epilog="example: neuroport run net.nir --dt 1e-3 --duration 1s --input poisson:rate=20 "
               "--backend numpy --out result.npz --plot raster.png --probe exc.v",
    )
    p.add_argument("file", help="a .nir file")
    add_run_length(p)
    p.add_argument("--backend", default="numpy",
                   help="a registered backend: numpy, numpy-fixed, lava, lava-fixed, loihi2, brian2, nest or a plugin's (default numpy)")
    p.add_argument("--input", default=None, metavar="SPEC",
                   help="poisson:rate=HZ, regular:rate=HZ, population:value=X,rate=HZ[,width=W] (the input "
                        "as one Gaussian population over [0, 1] coding X), zeros, FILE.npy (one (steps, n) "
                        "array; networks with one input) or FILE.npz with one (steps, n) array per input, each "
                        "named after its input population (default zeros)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the input generator")
    p.add_argument("--out", default=None, help="write spikes and probed states to this .npz file")
    p.add_argument("--plot", default=None, help="write a raster plot to this .png file")
    p.add_argument("--nwb", default=None, metavar="OUT.nwb",
                   help="write spikes (units table, seconds), probed states and the graph to an NWB file "
                        "(needs pynwb: pip install 'neuroport[nwb]'; neuroport.nwb)")
    p.add_argument("--probe", action="append", default=[], metavar="POP.VAR",
                   help="record a state, e.g. --probe lif1.v (repeatable)")
    p.add_argument("--ranks", type=int, default=None, metavar="N",
                   help="nest only: MPI processes, started with mpirun on loopback (needs an MPI NEST: "
                        "make nest-mpi; docs/nest.md)")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="nest only: NEST threads per process (default 1)")
    p.add_argument("--dry-run", action="store_true",
                   help="build and map the network for the backend, do not run (loihi2: resource check)")
    add_progress(p)
    add_compile_options(p)
    p.set_defaults(func=run)


def _with_processes(be, args):
    """The nest backend with --ranks / --threads; a usage error for any other backend or a count < 1."""
    from neuroport.errors import UsageError

    given = " ".join(f"--{k} {v}" for k, v in (("ranks", args.ranks), ("threads", args.threads)) if v is not None)
    if be.name != "nest":
        raise UsageError(f"{given}: only backend 'nest' runs on MPI ranks / threads, not {be.name!r}")
    for flag, value in (("--ranks", args.ranks), ("--threads", args.threads)):
        if value is not None and value < 1:
            raise UsageError(f"{flag} {value}: expected a positive integer")
    return type(be)(ranks=args.ranks, local_num_threads=args.threads)


def run(args) -> int:
    check_output_path(args.out, "--out")
    check_output_path(args.plot, "--plot")
    check_output_path(args.nwb, "--nwb")
    if not args.dry_run:
        require_run_length(args)
    probes = []
    for spec in args.probe:
        try:
            probes.append(parse_probe(spec))
        except InputError:
            raise InputError(f"--probe {spec!r}: expected POPULATION.VARIABLE, e.g. lif1.v") from None
    graph = neuroport.read(args.file)
    dt_notice(graph, args, args.file)
    be = registry.get(args.backend)
    if args.ranks is not None or args.threads is not None:
        be = _with_processes(be, args)
    if args.dry_run:
        if not hasattr(be, "dry_run"):
            raise InputError(f"--dry-run: backend {args.backend!r} has no dry run (loihi2 has)")
        program = prepare(graph, be, **compile_kwargs(args))
        summary = be.dry_run(program)
        print(format_dry_run(summary))
        mapping = summary.get("mapping")
        return 0 if mapping is None or getattr(mapping, "fits", True) else 1
    be.require_available()
    program = prepare(graph, be, probes=tuple(probes), **compile_kwargs(args))
    steps = run_steps(args, program.dt)
    inputs = parse_input_spec(args.input, program, steps, args.seed)
    result = be.run(program, steps=steps, inputs=inputs, probes=probes, progress=args.progress, seed=args.seed)
    print(f"backend {result.backend}: {steps} steps of {program.dt * 1e3:g} ms "
          f"in {result.wall_time:.3f} s ({steps / max(result.wall_time, 1e-9):.0f} steps/s)")
    print(f"{'population':<24} {'neurons':>8} {'spikes':>9} {'rate (Hz)':>10}")
    for name, train in result.spikes.items():
        print(f"{name:<24} {train.size:>8} {train.count:>9} {train.rate_hz(program.dt):>10.2f}")
    if args.out:
        result.save_npz(args.out)
        print(f"wrote {args.out}")
    if args.nwb:
        from neuroport.nwb import write_nwb

        write_nwb(result, args.nwb, graph=args.file, session_description=f"neuroport run of {args.file} "
                  f"on {result.backend}, {args.steps} steps of {program.dt:g} s")
        print(f"wrote {args.nwb}")
    if args.plot:
        from neuroport import plot  # matplotlib is heavy: imported only when a plot is written

        plot.raster(result, path=args.plot, title=f"{args.file} on {result.backend}")
        print(f"wrote {args.plot}")
    sys.stdout.flush()
    return 0
