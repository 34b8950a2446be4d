"""``neuroport run FILE.nir``: run a network on a backend, save spikes, plot a raster."""

from __future__ import annotations

import sys

import neuroport
from neuroport import backend as registry
from neuroport.api import prepare
from neuroport.commands.common import SEED, STEPS, add_compile_options, check_output_path, compile_kwargs, parse_input_spec
from neuroport.commands.run_dry import format_dry_run
from neuroport.errors import InputError


def register(sub) -> None:
    p = sub.add_parser(
        "run", help="run a .nir network on a backend",
        description="Compile a NIR graph, run it for --steps steps on --backend with the given input, "
                    "print spike counts per population, and optionally save the result and a raster plot.",
        epilog="example: neuroport run net.nir --dt 1e-3 --steps 1000 --input poisson:rate=20 "
               "--backend numpy --out result.npz --plot raster.png",
    )
    p.add_argument("file", help="a .nir file")
    p.add_argument("--steps", type=STEPS, required=True, help="number of time steps")
    p.add_argument("--backend", default="numpy",
                   help="numpy, numpy-fixed, lava, lava-fixed, loihi2, brian2 (default numpy)")
    p.add_argument("--input", default=None, metavar="SPEC",
                   help="poisson:rate=HZ, regular:rate=HZ, population:value=X,rate=HZ[,width=W] (the input "
                        "as one Gaussian population over [0, 1] coding X), zeros, or FILE.npz with one "
                        "(steps, n) array per input node (default zeros)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the input generator")
    p.add_argument("--out", default=None, help="write spikes and probed states to this .npz file")
    p.add_argument("--plot", default=None, help="write a raster plot to this .png file")
    p.add_argument("--nwb", default=None, metavar="OUT.nwb",
                   help="write spikes (units table, seconds), probed states and the graph to an NWB file "
                        "(needs pynwb: pip install 'neuroport[nwb]'; neuroport.nwb)")
    p.add_argument("--probe", action="append", default=[], metavar="POP.VAR",
                   help="record a state, e.g. --probe lif1.v (repeatable)")
    p.add_argument("--dry-run", action="store_true",
                   help="build and map the network for the backend, do not run (loihi2: resource check)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_compile_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    check_output_path(args.out, "--out")
    check_output_path(args.plot, "--plot")
    check_output_path(args.nwb, "--nwb")
    graph = neuroport.read(args.file)
    probes = []
    for spec in args.probe:
        pop, _, var = spec.rpartition(".")
        if not pop:
            raise InputError(f"--probe {spec!r}: expected POPULATION.VARIABLE, e.g. lif1.v")
        probes.append((pop, var))
    be = registry.get(args.backend)
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
    inputs = parse_input_spec(args.input, program, args.steps, args.seed)
    result = be.run(program, steps=args.steps, inputs=inputs, probes=probes,
                    progress=False if args.no_progress else None, seed=args.seed)
    print(f"backend {result.backend}: {args.steps} steps of {program.dt * 1e3:g} ms "
          f"in {result.wall_time:.3f} s ({args.steps / max(result.wall_time, 1e-9):.0f} steps/s)")
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
