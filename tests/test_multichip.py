"""neuroport.multichip: cores to chips, cut synapses, inter-chip traffic, refusals.

Expected values come from the construction (disconnected clusters: no cut) or
from independent computations in the test: brute force over every feasible
assignment for the minimum cut, and Python loops over every synapse for the
traffic (one message per spike per destination core on another chip).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

import neuroport
from neuroport.errors import ParameterError, ResourceError
from neuroport.hardware import HALA_POINT, KAPOHO_POINT, LOIHI2, SYSTEMS
from neuroport.multichip import DEFAULT_RATE_HZ, map_chips
from neuroport.program import Population, Program, Projection
from neuroport.result import Result, SpikeTrain

DT = 1e-3


def _lif(name, n):
    return Population(name, n, "lif", {"du": np.ones(1), "dv": np.full(1, 0.1), "v_threshold": np.ones(1)},
                      "spikes", None, (n,))


def _input(name, n):
    return Population(name, n, "input", {}, "state", np.zeros(n), (n,))


def _program(pops, projs):
    return Program({p.name: p for p in pops}, tuple(projs), tuple(p.name for p in pops if p.is_input), {}, (),
                   {"dt": DT, "timing": "hardware"}, "discrete")


def _proj(pre, post, n_pre, n_post, p, seed):
    w = sp.random(n_post, n_pre, density=p, format="csr", random_state=seed)
    w.sort_indices()
    return Projection(f"{pre}->{post}", pre, post, w, np.ones(w.nnz, dtype=np.int64))


def _spec(chips, cores_per_chip, neurons_per_core=100, **kw):
    return LOIHI2.replace(name="toy", chips=chips, cores_per_chip=cores_per_chip, neurons_per_core=neurons_per_core,
                          neurons_per_chip=cores_per_chip * neurons_per_core, **kw)


def _neuron_chips(chip_map, program):
    """Chip of every neuron, per population, from the map's core slices (input populations: -1)."""
    out = {n: np.full(p.size, -1) for n, p in program.populations.items()}
    for k in range(chip_map.cores):
        name = chip_map.populations[chip_map.core_population[k]]
        out[name][chip_map.core_start[k]:chip_map.core_stop[k]] = chip_map.core_chip[k]
    return out


def _cut(program, chip_of):
    """Synapses between neurons on different chips (from the host not counted), summed per synapse."""
    total = 0
    for proj in program.projections:
        if program.populations[proj.pre].is_input:
            continue
        coo = proj.weights.tocoo()
        total += int(np.sum(chip_of[proj.post][coo.row] != chip_of[proj.pre][coo.col]))
    return total


def test_two_disconnected_clusters_are_not_cut():
    # population order interleaves the clusters, so placing in order would cut every projection
    names = ["a1", "b1", "a2", "b2"]
    pops = [_lif(n, 100) for n in names]
    projs = [_proj("a1", "a2", 100, 100, 0.1, 1), _proj("a2", "a1", 100, 100, 0.1, 2),
             _proj("b1", "b2", 100, 100, 0.1, 3), _proj("b2", "b1", 100, 100, 0.1, 4)]
    prog = _program(pops, projs)
    chip_map = map_chips(prog, _spec(chips=2, cores_per_chip=2))
    assert chip_map.cut_synapses == 0 and chip_map.messages_per_step == 0
    assert chip_map.chips_of("a1") == chip_map.chips_of("a2") != chip_map.chips_of("b1") == chip_map.chips_of("b2")
    assert _cut(prog, _neuron_chips(chip_map, prog)) == 0


def test_balanced_clusters_one_per_chip():
    pops, projs = [], []
    for k in range(4):
        pops += [_lif(f"e{k}", 150), _lif(f"i{k}", 50)]
        projs += [_proj(f"e{k}", f"i{k}", 150, 50, 0.2, 10 + k), _proj(f"i{k}", f"e{k}", 50, 150, 0.2, 20 + k)]
    prog = _program(pops, projs)
    packed = map_chips(prog, _spec(chips=4, cores_per_chip=8, neurons_per_core=100))
    assert packed.chips_used == 2 and packed.cut_synapses == 0        # 12 cores, 8 per chip: 2 + 2 clusters
    balanced = map_chips(prog, _spec(chips=4, cores_per_chip=8, neurons_per_core=100), balance=True)
    assert balanced.chips_used == 4 and balanced.cut_synapses == 0
    assert sorted(balanced.chip_cores.tolist()) == [3, 3, 3, 3]
    for k in range(4):
        assert balanced.chips_of(f"e{k}") == balanced.chips_of(f"i{k}")


def test_chain_cut_is_the_brute_force_minimum():
    # p0 -> p1 -> p2 -> p3, one core each, 3 cores per chip: the weak link (p1 -> p2) is the best cut
    sizes = [100, 100, 100, 100]
    pops = [_lif(f"p{k}", n) for k, n in enumerate(sizes)]
    projs = [_proj("p0", "p1", 100, 100, 0.30, 1), _proj("p1", "p2", 100, 100, 0.02, 2),
             _proj("p2", "p3", 100, 100, 0.15, 3)]
    prog = _program(pops, projs)
    spec = _spec(chips=2, cores_per_chip=3)
    chip_map = map_chips(prog, spec)
    best = None
    for assign in itertools.product(range(2), repeat=4):
        if max(assign.count(0), assign.count(1)) > 3:
            continue
        chip_of = {f"p{k}": np.full(100, c) for k, c in enumerate(assign)}
        cut = _cut(prog, chip_of)
        best = cut if best is None else min(best, cut)
    assert best == projs[1].nnz                       # the construction's optimum
    assert chip_map.cut_synapses == best == _cut(prog, _neuron_chips(chip_map, prog))


def _mixed_network():
    pops = [_input("x", 60), _lif("big", 520), _lif("mid", 230), _lif("small", 40)]
    projs = [_proj("x", "big", 60, 520, 0.1, 1), _proj("big", "big", 520, 520, 0.02, 2),
             _proj("big", "mid", 520, 230, 0.03, 3), _proj("mid", "big", 230, 520, 0.03, 4),
             _proj("mid", "small", 230, 40, 0.2, 5), _proj("small", "mid", 40, 230, 0.1, 6),
             _proj("x", "small", 60, 40, 0.1, 7)]
    return _program(pops, projs)


def test_totals_are_conserved_and_large_populations_split():
    prog = _mixed_network()
    spec = _spec(chips=4, cores_per_chip=3)          # 100 neurons per core: 'big' takes 6 cores, 2 chips
    chip_map = map_chips(prog, spec)
    assert chip_map.neurons == prog.n_neurons == int(chip_map.chip_neurons.sum())
    assert chip_map.synapses == prog.n_synapses == int(chip_map.chip_synapses.sum())
    assert int(chip_map.chip_cores.sum()) == chip_map.cores
    assert len(chip_map.chips_of("big")) >= 2
    assert chip_map.split_populations()["big"] == chip_map.chips_of("big")
    assert "populations across chips" in str(chip_map) and "big (chips" in str(chip_map)
    chips = _neuron_chips(chip_map, prog)
    for name, pop in prog.populations.items():
        if not pop.is_input:
            assert np.all(chips[name] >= 0), name          # every neuron on exactly one core
    # per chip synapses: the incoming synapses of its neurons, counted per synapse
    per_chip = np.zeros(spec.chips, dtype=np.int64)
    for proj in prog.projections:
        np.add.at(per_chip, chips[proj.post][proj.weights.tocoo().row], 1)
    np.testing.assert_array_equal(per_chip, chip_map.chip_synapses)
    assert np.all(chip_map.chip_cores <= spec.cores_per_chip)
    assert chip_map.cut_synapses == _cut(prog, chips)


def test_traffic_is_rate_times_remote_cores():
    prog = _mixed_network()
    spec = _spec(chips=4, cores_per_chip=3)
    rng = np.random.default_rng(0)
    hz = {n: rng.uniform(0, 50, p.size) for n, p in prog.populations.items()}
    chip_map = map_chips(prog, spec, rates=hz)
    core_of = {n: np.full(p.size, -1) for n, p in prog.populations.items()}
    for k in range(chip_map.cores):
        core_of[chip_map.populations[chip_map.core_population[k]]][chip_map.core_start[k]:chip_map.core_stop[k]] = k
    chip_of_core = chip_map.core_chip
    pairs = set()                                   # (pre population, pre neuron, destination core)
    for proj in prog.projections:
        coo = proj.weights.tocoo()
        for i, j in zip(coo.row.tolist(), coo.col.tolist()):
            pairs.add((proj.pre, j, int(core_of[proj.post][i])))
    traffic = np.zeros((spec.chips, spec.chips))
    host = np.zeros(spec.chips)
    for pre, j, core in pairs:
        dst = chip_of_core[core]
        if prog.populations[pre].is_input:
            host[dst] += hz[pre][j] * DT
        else:
            src = chip_of_core[core_of[pre][j]]
            if src != dst:
                traffic[src, dst] += hz[pre][j] * DT
    np.testing.assert_allclose(chip_map.traffic, traffic, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(chip_map.chip_host_in, host, rtol=1e-12, atol=1e-12)
    assert chip_map.messages_per_step == pytest.approx(traffic.sum())
    assert traffic.sum() > 0
    assert "given per population" in chip_map.rate_source


def test_rates_from_a_result_and_the_default():
    prog = _mixed_network()
    spec = _spec(chips=4, cores_per_chip=3)
    default = map_chips(prog, spec)
    assert f"assumed {DEFAULT_RATE_HZ:g} Hz" in default.rate_source and f"{DEFAULT_RATE_HZ:g} Hz" in str(default)
    # a Result at another dt: the rates in Hz carry over
    rng = np.random.default_rng(1)
    spikes, hz = {}, {}
    for name, pop in prog.populations.items():
        counts = rng.integers(0, 5, pop.size)
        neurons = np.repeat(np.arange(pop.size), counts)
        spikes[name] = SpikeTrain(np.zeros(neurons.size, dtype=np.int64), neurons, pop.size, 200)
        hz[name] = counts / (200 * 2e-3)
    result = Result("numpy", 2e-3, 200, spikes=spikes)
    measured = map_chips(prog, spec, rates=result)
    given = map_chips(prog, spec, rates=hz)
    np.testing.assert_allclose(measured.traffic, given.traffic)
    assert "measured from a numpy run of 200 steps" in measured.rate_source
    scalar = map_chips(prog, spec, rates=2 * DEFAULT_RATE_HZ)
    np.testing.assert_allclose(scalar.traffic, 2 * default.traffic)


def test_refusals_give_needed_and_available():
    prog = _program([_lif("a", 950), _lif("b", 300)], [])
    spec = _spec(chips=2, cores_per_chip=5)          # 10 cores of 100 neurons; 13 needed
    with pytest.raises(ResourceError, match=r"cores needed 13 > available 10.*chips needed at least 3"):
        map_chips(prog, spec)
    # neurons per chip: the cores fit, the chips' neuron limit does not
    with pytest.raises(ResourceError, match=r"neurons needed 1250 > available 1200"):
        map_chips(prog, spec.replace(cores_per_chip=8, neurons_per_chip=600))
    # one neuron's fan-in over a core's synapse memory
    proj = _proj("a", "b", 950, 300, 0.5, 1)
    worst = int(np.diff(proj.weights.indptr).max())
    small = _spec(chips=8, cores_per_chip=8, synapses_per_core=worst - 1, max_fan_in=worst - 1)
    with pytest.raises(ResourceError, match=rf"fan-in\) needed {worst} > available {worst - 1}"):
        map_chips(_program([_lif("a", 950), _lif("b", 300)], [proj]), small)
    # total synapses over all chips
    with pytest.raises(ResourceError, match=rf"synapses needed {proj.nnz} > available 200"):
        map_chips(_program([_lif("a", 950), _lif("b", 300)], [proj]),
                  _spec(chips=2, cores_per_chip=8, synapses_per_chip=100))


def test_uneven_fan_in_splits_by_synapse_memory():
    # half the rows dense, half empty: an even neuron split would overload the first cores
    n_pre, n_post = 200, 100
    dense = np.zeros((n_post, n_pre))
    dense[:50] = 1.0
    w = sp.csr_matrix(dense)
    proj = Projection("x->a", "x", "a", w, np.ones(w.nnz, dtype=np.int64))
    prog = _program([_input("x", n_pre), _lif("a", n_post)], [proj])
    spec = _spec(chips=1, cores_per_chip=16, synapses_per_core=2000, max_fan_in=2000)
    chip_map = map_chips(prog, spec)
    assert chip_map.core_synapses.max() <= 2000 and chip_map.core_synapses.sum() == w.nnz
    assert chip_map.cores >= int(np.ceil(w.nnz / 2000))


def test_bad_arguments():
    prog = _mixed_network()
    with pytest.raises(ParameterError, match="objective"):
        map_chips(prog, KAPOHO_POINT, objective="speed")
    with pytest.raises(ParameterError, match=r"rates\['big'\].*shape \(520,\)"):
        map_chips(prog, KAPOHO_POINT, rates={"big": np.ones(3)})
    with pytest.raises(ParameterError, match="no population named 'nope'"):
        map_chips(prog, KAPOHO_POINT, rates={"nope": 1.0})
    with pytest.raises(ParameterError, match=">= 0 Hz"):
        map_chips(prog, KAPOHO_POINT, rates=-1.0)
    with pytest.raises(ParameterError, match="expected a Program"):
        map_chips("net.nir", KAPOHO_POINT)


def test_network_input_and_traffic_objective():
    net = neuroport.Network()
    x = net.input(20, name="x")
    a = net.population(300, neuroport.LIF(), name="a")
    b = net.population(300, neuroport.LIF(), name="b")
    net.connect(x, a, weight=1.0, p=0.2, seed=1)
    net.connect(a, b, weight=1.0, p=0.05, seed=2)
    net.connect(b, a, weight=1.0, p=0.05, seed=3)
    spec = _spec(chips=2, cores_per_chip=4)
    chip_map = map_chips(net, spec, dt=DT, objective="traffic")
    prog = neuroport.compile(net.to_nir(), dt=DT)
    assert chip_map.neurons == 600 and chip_map.synapses == prog.n_synapses
    assert chip_map.objective == "traffic" and "minimising traffic cut" in str(chip_map)
    assert chip_map.to_dict()["chips_used"] == chip_map.chips_used


def test_presets_mark_published_and_estimated_figures():
    assert KAPOHO_POINT.chips == 8 and KAPOHO_POINT.total_cores == 8 * 128
    assert HALA_POINT.chips == 1152 and HALA_POINT.total_cores == 140_544
    assert abs(HALA_POINT.chips * HALA_POINT.neurons_per_chip - 1.15e9) < HALA_POINT.chips
    assert abs(HALA_POINT.chips * HALA_POINT.synapses_per_chip - 128e9) < HALA_POINT.chips
    assert SYSTEMS["kapoho-point"] is KAPOHO_POINT and SYSTEMS["hala-point"] is HALA_POINT
    for spec in (KAPOHO_POINT, HALA_POINT):
        assert spec.sources["chips"].startswith("intel:")
        assert spec.sources["chip_link_bits_per_s"].startswith("estimate:")
    assert LOIHI2.sources["neurons_per_chip"].startswith("intel:")
    assert HALA_POINT.sources["neurons_per_chip"].startswith("estimate:")


def test_cli_map_chips(tmp_path, capsys):
    from neuroport.cli import main

    net = neuroport.Network()
    x = net.input(20, name="x")
    a = net.population(300, neuroport.LIF(), name="a")
    net.connect(x, a, weight=1.0, p=0.2, seed=1)
    path = tmp_path / "net.nir"
    neuroport.write(path, net)
    assert main(["map", str(path), "--dt", "1e-3", "--system", "kapoho-point", "--rate", "5"]) == 0
    out = capsys.readouterr().out
    assert "Chip map on kapoho-point" in out and "1 of 8 chip(s)" in out and "given: 5 Hz" in out
    assert main(["map", str(path), "--dt", "1e-3"]) == 0
    assert "Chip map" not in capsys.readouterr().out
    assert main(["map", str(path), "--dt", "1e-3", "--chips", "2", "--rates", str(path)]) == 1
    assert "not a result .npz" in capsys.readouterr().err


def test_packed_areas_match_the_exhaustive_optimum():
    # 4 areas (E: 3 cores, I: 1 core), mostly local; 16 cores, 14 per chip: greedy filling splits the
    # last area; the best packing moves a whole area to the second chip
    pops, projs, seed = [], [], 0
    names = [f"{kind}{k}" for k in range(4) for kind in ("e", "i")]
    size = {n: 300 if n[0] == "e" else 100 for n in names}
    pops = [_lif(n, size[n]) for n in names]
    for pre in names:
        for post in names:
            seed += 1
            p = 0.05 if pre[1] == post[1] else 0.004
            projs.append(_proj(pre, post, size[pre], size[post], p, seed))
    prog = _program(pops, projs)
    spec = _spec(chips=2, cores_per_chip=14)
    chip_map = map_chips(prog, spec)
    # independent: core of every neuron is (population's first core) + index // 100
    first = dict(zip(names, np.cumsum([0] + [size[n] // 100 for n in names])))
    n_cores = 16
    a = np.zeros((n_cores, n_cores))
    for proj in projs:
        coo = proj.weights.tocoo()
        np.add.at(a, (first[proj.post] + coo.row // 100, first[proj.pre] + coo.col // 100), 1)
    x = ((np.arange(2 ** n_cores)[:, None] >> np.arange(n_cores)) & 1).astype(float)   # every assignment
    ok = (x.sum(axis=1) <= 14) & ((1 - x).sum(axis=1) <= 14)
    cuts = np.einsum("ki,ij,kj->k", x, a, 1 - x) + np.einsum("ki,ij,kj->k", 1 - x, a, x)
    assert chip_map.cut_synapses == int(cuts[ok].min())
    assert chip_map.cut_synapses == _cut(prog, _neuron_chips(chip_map, prog))


def test_packing_moves_a_whole_area_rather_than_splitting_one():
    # 4 areas of 9 cores (E 7, I 2), mostly local; 32 cores per chip: filling chip 0 in order leaves 4
    # cores of the last area on chip 1; no single move lowers that cut, moving the whole area does
    names = [f"{kind}{k}" for k in range(4) for kind in ("e", "i")]
    size = {n: 700 if n[0] == "e" else 200 for n in names}
    pops, projs, seed = [_lif(n, size[n]) for n in names], [], 0
    for pre in names:
        for post in names:
            seed += 1
            projs.append(_proj(pre, post, size[pre], size[post], 0.03 if pre[1] == post[1] else 0.002, seed))
    prog = _program(pops, projs)
    chip_map = map_chips(prog, _spec(chips=2, cores_per_chip=32))
    whole_area = []
    for k in range(4):
        chip_of = {n: np.full(size[n], int(n[1] == str(k))) for n in names}
        whole_area.append(_cut(prog, chip_of))
    split = {n: np.zeros(size[n], dtype=int) for n in names}      # the in-order filling: 32 cores on chip 0
    split["e3"][300:] = 1
    split["i3"][:] = 1
    assert min(whole_area) < _cut(prog, split)
    assert chip_map.cut_synapses <= min(whole_area)
    assert chip_map.cut_synapses == _cut(prog, _neuron_chips(chip_map, prog))
