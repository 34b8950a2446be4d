"""``neuroport sweep``: run a ready network over a parameter grid (serially or on Dask) and write a CSV table."""

from __future__ import annotations

import functools
import inspect
import os
import sys
from types import SimpleNamespace

from neuroport.commands.common import SEED, STEPS, check_output_path, int_range, parse_input_spec, positive_float
from neuroport.errors import InputError, UsageError


def _networks() -> dict:
    """name -> (builder, default dt in s, default --input, one-line description)."""
    from neuroport.models.networks.benchmarks import coba_network, cuba_network
    from neuroport.models.networks.demo import demo_network
    from neuroport.models.networks.ei import ei_network

    return {
        "coba": (coba_network, 1e-4, None, "Brette et al. 2007 benchmark 1, conductance-based LIF, self-sustained"),
        "cuba": (cuba_network, 1e-4, None, "Brette et al. 2007 benchmark 2, current-based LIF, self-sustained"),
        "ei": (ei_network, 1e-3, "poisson:rate=20", "layered or ring E/I LIF network driven into layer 0"),
        "demo": (demo_network, 1e-3, "poisson:rate=20", "Poisson -> recurrent E/I -> readout (neuroport demo)"),
    }


NETWORK_NAMES = ("coba", "cuba", "ei", "demo")
CLI_METRICS = ("rate", "cv", "branching")


def _parameters(builder) -> dict:
    """Keyword parameters of a network builder: name -> default."""
    return {name: p.default for name, p in inspect.signature(builder).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty}


def _network_help() -> str:
    lines = []
    for name, (builder, dt, spec, text) in _networks().items():
        params = ", ".join(f"{k}={v!r}" for k, v in _parameters(builder).items() if k != "dt")
        lines.append(f"  {name:<5} {text}; dt {dt:g} s{'' if spec is None else ', input ' + spec}\n"
                     f"        parameters: {params}")
    return "\n".join(lines)


def register(sub) -> None:
    import argparse

    p = sub.add_parser(
        "sweep", help="run a ready network over a parameter grid (Dask workers or serial), write a CSV",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Build one of neuroport's ready networks for every combination of the --param values "
                    "(their cartesian product), run each for --steps steps on --backend, and write one CSV row "
                    "per point: the parameters, the metrics, status (ok / error), error (the message), wall_s "
                    "and cached. Points run on a local Dask cluster of --workers processes (bound to "
                    "127.0.0.1), on a running Dask scheduler (--scheduler), or serially (--workers 0). A failing "
                    "point is reported in its row; the others still run. With --cache DIR finished points are "
                    "kept, one file each, and a re-run skips them (resume an interrupted sweep).\n\n"
                    "networks (--network) and the parameters --param may set:\n" + _network_help(),
        epilog="example: neuroport sweep --network coba --param weight_scale=0.5,1,2 --param p=0.02,0.05 "
               "--param n_neurons=1000 --steps 1000 --workers 2 --out sweep.csv --cache sweep_cache",
    )
    p.add_argument("--network", required=True, choices=NETWORK_NAMES, help="which ready network (listed above)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=V1,V2,...",
                   help="values of one builder parameter (repeatable; each adds a grid axis), e.g. "
                        "--param weight_scale=0.5,1,2 --param seed=0,1")
    p.add_argument("--steps", type=STEPS, required=True, help="time steps per run")
    p.add_argument("--backend", default="numpy",
                   help="numpy, numpy-fixed, lava, lava-fixed, brian2 (default numpy)")
    p.add_argument("--dt", type=positive_float, default=None,
                   help="time step in seconds (default: the network's, listed above)")
    p.add_argument("--metrics", default="rate,cv",
                   help=f"comma-separated: {', '.join(CLI_METRICS)} (default rate,cv): mean rate in Hz overall "
                        "and per population, ISI CV overall and per population, branching ratio of the summed "
                        "activity (neuroport.sweep)")
    p.add_argument("--input", default=None, metavar="SPEC",
                   help="drive of networks with input nodes: poisson:rate=HZ, regular:rate=HZ or zeros "
                        "(default: the network's, listed above)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the input generator and of the run (default 0)")
    p.add_argument("--workers", type=int_range(0), default=None,
                   help="processes of the local Dask cluster (default: CPU count, at most the points; "
                        "0: run serially in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="address of a running Dask scheduler, e.g. tcp://127.0.0.1:8786 (instead of --workers)")
    p.add_argument("--cache", default=None, metavar="DIR", help="folder keeping finished points; re-runs skip them")
    p.add_argument("--out", default=None, help="write the table to this .csv file (default: print it only)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _coerce(name: str, text: str, default, option: str):
    """One --param value, typed like the builder parameter's default."""
    text = text.strip()
    if not text:
        raise UsageError(f"{option}: empty value in the list; write NAME=V1,V2 without empty items")
    kind = type(default)
    try:
        if kind is bool:
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return text.lower() in ("true", "1")
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
    except ValueError:
        raise UsageError(f"{option}: {name} takes {kind.__name__} values (default {default!r}), got {text!r}") from None
    return text


def parse_params(specs, builder, network: str) -> dict:
    """The grid ``{name: [values]}`` from ``--param NAME=V1,V2`` strings, typed by the builder's defaults."""
    allowed = _parameters(builder)
    grid = {}
    for spec in specs:
        option = f"--param {spec!r}"
        name, sep, values = spec.partition("=")
        name = name.strip()
        if not sep or not name or not values.strip():
            raise UsageError(f"{option}: expected NAME=V1,V2,..., e.g. --param weight_scale=0.5,1,2")
        if name not in allowed or name == "dt":
            known = ", ".join(k for k in allowed if k != "dt")
            hint = " (set the time step with --dt)" if name == "dt" else ""
            raise UsageError(f"{option}: network {network!r} has no parameter {name!r}{hint}; it has {known}")
        if name in grid:
            raise UsageError(f"{option}: {name} given twice; list all its values in one --param")
        grid[name] = [_coerce(name, v, allowed[name], option) for v in values.split(",")]
    return grid


def build_named(network: str, dt: float, input_spec, steps: int, seed: int, **point):
    """Build ``network`` with ``point``'s parameters and its input (module level: pickled by reference to workers)."""
    import nir

    builder, _dt, _spec, _text = _networks()[network]
    kwargs = dict(point)
    if "dt" in _parameters(builder):
        kwargs["dt"] = dt
    net = builder(**kwargs)
    graph = net.to_nir()
    names = [n for n, node in graph.nodes.items() if isinstance(node, nir.Input)]
    if not names:
        return net
    sizes = {n: int(graph.nodes[n].input_type["input"].prod()) for n in names}
    shape = SimpleNamespace(inputs=names, populations={n: SimpleNamespace(size=sizes[n]) for n in names}, dt=dt)
    return net, parse_input_spec(input_spec, shape, steps, seed)


def run(args) -> int:
    from neuroport import backend as registry

    check_output_path(args.out, "--out")
    if args.out and not args.out.endswith(".csv"):
        raise UsageError(f"--out {args.out!r}: expected a .csv file name")
    if args.scheduler is not None and args.workers is not None:
        raise UsageError("--scheduler and --workers: give one (the scheduler's cluster has its own workers)")
    if args.cache is not None and os.path.exists(args.cache) and not os.path.isdir(args.cache):
        raise UsageError(f"--cache {args.cache!r}: is a file; give a folder (created if missing)")
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    if not metrics:
        raise UsageError(f"--metrics {args.metrics!r}: expected one or more of {', '.join(CLI_METRICS)}")
    for m in metrics:
        if m not in CLI_METRICS:
            raise UsageError(f"--metrics: {m!r} is not one of {', '.join(CLI_METRICS)}")
    if args.input is not None and args.input.endswith(".npz"):
        raise UsageError("--input: a sweep takes poisson:rate=HZ, regular:rate=HZ or zeros (not a file)")
    builder, default_dt, default_input, _text = _networks()[args.network]
    grid = parse_params(args.param, builder, args.network)
    if not grid:
        raise UsageError("give at least one --param NAME=V1,V2,... (the grid's axes), e.g. --param seed=0,1,2")
    be = registry.get(args.backend)
    be.require_available()
    dt = args.dt if args.dt is not None else default_dt
    input_spec = args.input if args.input is not None else default_input
    if input_spec is not None:  # refuse a malformed spec now, not once per point
        try:
            parse_input_spec(input_spec, SimpleNamespace(inputs=[], populations={}, dt=dt), 1, 0)
        except InputError as exc:
            raise UsageError(str(exc)) from None
    build = functools.partial(build_named, args.network, dt, input_spec, args.steps, args.seed)

    from neuroport.sweep import expand_grid, sweep

    n_points = len(expand_grid(grid))
    if args.scheduler is not None:
        where = f"Dask scheduler {args.scheduler}"
    elif args.workers == 0:
        where = "this process (serial)"
    else:
        where = f"a local Dask cluster of {args.workers or 'CPU-count'} workers"
    print(f"sweep of {args.network}: {n_points} points x {args.steps} steps of {dt * 1e3:g} ms on {args.backend}, "
          f"in {where}", flush=True)
    table = sweep(build, grid, backend=args.backend, steps=args.steps, metrics=metrics, dt=dt,
                  run_options={"seed": args.seed}, client=args.scheduler if args.scheduler else None,
                  workers=args.workers, cache=args.cache, progress=not args.no_progress)
    with_width = table.drop(columns=["error"]).to_string(index=False, float_format=lambda v: f"{v:.4g}")
    print(with_width)
    failed = table[table["status"] != "ok"]
    for _, row in failed.iterrows():
        point = ", ".join(f"{k}={row[k]!r}" for k in grid)
        print(f"point {point}: {row['error']}", file=sys.stderr)
    if args.out:
        from neuroport.fileutil import atomic_target

        with atomic_target(args.out, suffix=".csv.tmp") as tmp:
            table.to_csv(tmp, index=False)
        print(f"wrote {args.out}")
    cached = int(table["cached"].sum())
    print(f"{n_points - len(failed)} of {n_points} points ok" + (f", {len(failed)} failed" if len(failed) else "")
          + (f", {cached} from the cache" if cached else ""))
    return 1 if len(failed) else 0
