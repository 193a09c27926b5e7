from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archrank as ar
from archrank.spaces.darts import OPS, DartsArch

SPACE = ar.spaces.get("darts")
DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
seeds = st.integers(0, 2**32 - 1)


def test_parses_the_published_darts_v2_genotype():
    arch = SPACE.parse(DARTS_V2)
    assert arch.normal[4:6] == (("skip_connect", 0), ("sep_conv_3x3", 1))  # node 4 sorted by input
    assert SPACE.parse(str(arch)) == arch
    assert SPACE.parse(DARTS_V2.replace("[2, 3, 4, 5]", "range(2, 6)")) == arch


def test_compact_form_round_trip_against_the_table():
    bench = ar.datasets.load("darts")
    archs = bench.archs()
    assert len(archs) == 725 == len(set(archs))
    for arch in archs[:50]:
        assert SPACE.parse(str(arch)) == arch
        assert SPACE.parse(str(arch.compact())) == arch
        assert SPACE.parse([list(c) for c in arch.compact()]) == arch
    key = (
        "[[(0, 0), (1, 5), (1, 1), (0, 1), (1, 3), (0, 3), (1, 3), (3, 2)], "
        "[(1, 0), (0, 2), (1, 3), (0, 3), (3, 0), (0, 1), (2, 0), (3, 6)]]"
    )
    assert bench.query(key, "valid_accuracy") == pytest.approx(93.32119084207302)


def test_op_order_is_confirmed_by_the_parameter_counts():
    """Params are exactly linear in per-op counts: ops 0-2 are free, sep = 2x dil, op 2 reduces with params."""
    bench = ar.datasets.load("darts")
    rows = []
    for arch in bench.archs():
        feats = []
        for cell_type in ("normal", "reduce"):
            counts = np.zeros(len(OPS))
            reduce_skip = 0
            for op, inp in arch.cell(cell_type):
                if cell_type == "reduce" and op == "skip_connect" and inp < 2:
                    reduce_skip += 1  # FactorizedReduce on a stride-2 input
                else:
                    counts[OPS.index(op)] += 1
            feats += list(counts[3:]) + ([reduce_skip] if cell_type == "reduce" else [])
        rows.append([*feats, 1.0])
    x, y = np.array(rows), bench.values("params")
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    assert np.abs(x @ coef - y).max() < 1e-9  # exact fit with pools/skip free in the normal cell
    sep3, sep5, dil3, dil5 = coef[:4]
    assert sep3 == pytest.approx(2 * dil3, rel=1e-6) and sep5 == pytest.approx(2 * dil5, rel=1e-6)
    assert 0 < dil3 < dil5 and coef[8] > 0  # reduce-cell skip from a cell input carries params


@given(seeds)
def test_random_genotypes_are_valid_and_round_trip(seed):
    arch = SPACE.random_arch(np.random.default_rng(seed))
    assert SPACE.parse(str(arch)) == arch
    for cell_type in ("normal", "reduce"):
        cell = arch.cell(cell_type)
        for k in range(4):
            (_, a), (_, b) = cell[2 * k], cell[2 * k + 1]
            assert a < b <= k + 1


@given(seeds, seeds)
def test_mutants_are_valid_and_differ(seed_arch, seed_mut):
    arch = SPACE.random_arch(np.random.default_rng(seed_arch))
    child = SPACE.mutate(arch, seed_mut)
    assert isinstance(child, DartsArch) and child != arch
    assert SPACE.parse(str(child)) == child
    diff = sum(x != y for x, y in zip(arch.normal + arch.reduce, child.normal + child.reduce, strict=True))
    assert 1 <= diff <= 2  # one edge changed (its node's pair may re-sort)


def test_neighbors_count_and_distinctness():
    arch = SPACE.parse(DARTS_V2)
    nbrs = SPACE.neighbors(arch)
    # per cell: 8 edges x 6 other ops + input moves (node k has k free inputs per edge) = 48 + 12
    assert len(nbrs) == 120 == len(set(nbrs)) and arch not in nbrs


def test_sample_distinct_and_seeded():
    a = SPACE.sample(50, seed=0)
    assert len(set(a)) == 50 and a == SPACE.sample(50, seed=0)


def test_canonical_merges_reordered_independent_nodes():
    base = SPACE.parse(DARTS_V2)
    # Swap nodes 2 and 3 of the normal cell when neither reads the other: same cell up to concat order.
    normal = [("sep_conv_3x3", 0), ("max_pool_3x3", 1), ("dil_conv_5x5", 0), ("skip_connect", 1)]
    swapped = normal[2:] + normal[:2]
    tail = [("sep_conv_3x3", 2), ("sep_conv_3x3", 3), ("sep_conv_5x5", 4), ("avg_pool_3x3", 1)]
    a = DartsArch(tuple(normal + tail), base.reduce)
    b = DartsArch(tuple(swapped + [("sep_conv_3x3", 3), ("sep_conv_3x3", 2)] + tail[2:]), base.reduce)
    assert a != b and SPACE.canonical(a) == SPACE.canonical(b)
    assert SPACE.canonical(a) != SPACE.canonical(base)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Genotype(normal=[('none', 0)]*8)", "not a DARTS genotype"),
        (DARTS_V2.replace("('sep_conv_3x3', 0)", "('none', 0)", 1), "'none' is not an NAS-Bench-301 op"),
        (DARTS_V2.replace("('sep_conv_3x3', 0)", "('conv_7x1_1x7', 0)", 1), "unknown DARTS op"),
        (
            DARTS_V2.replace("('sep_conv_3x3', 1), ('sep_conv_3x3', 0)", "('sep_conv_3x3', 0), ('sep_conv_3x3', 0)", 1),
            "must differ",
        ),
        (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)", 1), "can read nodes 0..4"),
        (DARTS_V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[2, 3]"), "concatenate nodes"),
        ("[[(0, 0)], [(0, 0)]]", "needs 8 edges"),
        ("[[(0, 9)] * 8, [(0, 0)] * 8]", "malformed"),
        ("hello", "not a DARTS genotype"),
    ],
)
def test_malformed_genotypes_raise_a_clear_error(text, fragment):
    with pytest.raises(ar.InvalidArchitectureError, match=fragment):
        SPACE.parse(text)


def test_cell_graphs():
    arch = SPACE.parse(DARTS_V2)
    normal, reduce = SPACE.cell_graphs(arch)
    assert normal.num_nodes == reduce.num_nodes == 15 and normal.num_edges == 20
    assert normal.ops[:5] == ("input0", "input1", "sep_conv_3x3", "sep_conv_3x3", "sum")
    assert normal.adjacency[:, -1].sum() == 4  # the concat output reads the four node sums
    sums = [v for v, op in enumerate(normal.ops) if op == "sum"]
    assert sums == [4, 7, 10, 13] and (normal.adjacency[:, sums].sum(axis=0) == 2).all()
    assert normal.adjacency[10, 14] == 1  # node 5's dil_conv_3x3 reads node 2 (its sum vertex)
    union = SPACE.to_cell_graph(arch)
    assert union.num_nodes == 30 and union.ops[0] == "normal/input0" and union.ops[15] == "reduce/input0"


def _renumbered(cell, order):  # type: ignore[no-untyped-def]
    """``cell`` with intermediate node ``order[i]`` moved to position ``i + 2`` (None if a node would read ahead)."""
    new = {0: 0, 1: 1, **{old: i + 2 for i, old in enumerate(order)}}
    edges = []
    for old in order:
        pair = cell[2 * (old - 2) : 2 * (old - 2) + 2]
        if any(new[inp] >= new[old] for _, inp in pair):
            return None
        edges += [(op, new[inp]) for op, inp in pair]
    return tuple(edges)


def _exact_key(arch):  # type: ignore[no-untyped-def]
    """Isomorphism class by brute force: the smallest spelling over all valid renumberings of each cell."""
    key = []
    for cell in (arch.normal, arch.reduce):
        spellings = (_renumbered(cell, order) for order in itertools.permutations(range(2, 6)))
        key.append(min(DartsArch(c, c).normal for c in spellings if c is not None))
    return tuple(key)


def test_canonical_keeps_which_ops_are_summed_into_a_node():
    red = [("max_pool_3x3", 0), ("max_pool_3x3", 1)] * 4
    tail = [("skip_connect", 0), ("skip_connect", 1)] * 2
    # g3: node 2 = sep3(x0) + max(x1), node 3 = skip(x0) + avg(x1); g4: max and avg trade places
    g3 = SPACE.parse(
        {
            "normal": [("sep_conv_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 0), ("avg_pool_3x3", 1)] + tail,
            "reduce": red,
        }
    )
    g4 = SPACE.parse(
        {
            "normal": [("sep_conv_3x3", 0), ("avg_pool_3x3", 1), ("skip_connect", 0), ("max_pool_3x3", 1)] + tail,
            "reduce": red,
        }
    )
    assert g3 != g4 and SPACE.canonical(g3) != SPACE.canonical(g4)
    assert not SPACE.to_cell_graph(g3).is_isomorphic(SPACE.to_cell_graph(g4))
    # the same two cells with nodes 2 and 3 listed the other way round are still merged
    g3_swapped = DartsArch(_renumbered(g3.normal, (3, 2, 4, 5)), g3.reduce)
    assert g3_swapped != g3 and SPACE.canonical(g3_swapped) == SPACE.canonical(g3)


def test_canonical_ignores_the_order_of_a_nodes_two_edges():
    base = SPACE.parse(DARTS_V2)
    flipped = {
        c: [e for k in range(4) for e in reversed(base.cell(c)[2 * k : 2 * k + 2])] for c in ("normal", "reduce")
    }
    assert SPACE.parse(flipped) == base and SPACE.canonical(SPACE.parse(flipped)) == SPACE.canonical(base)


def test_table_cells_have_distinct_canonical_keys():
    archs = ar.datasets.load("darts", "cifar10").archs()
    assert len({SPACE.canonical(a) for a in archs}) == len(archs) == 725


@settings(max_examples=25, deadline=None)
@given(seeds, st.permutations(range(2, 6)), st.permutations(range(2, 6)))
def test_renumbered_nodes_share_the_canonical_key_and_the_parameter_count(seed, order_n, order_r):
    arch = SPACE.random_arch(np.random.default_rng(seed))
    normal, reduce = _renumbered(arch.normal, order_n), _renumbered(arch.reduce, order_r)
    twin = DartsArch(normal or arch.normal, reduce or arch.reduce)
    flipped = DartsArch(
        *(tuple(e for k in range(4) for e in reversed(c[2 * k : 2 * k + 2])) for c in (twin.normal, twin.reduce))
    )
    assert SPACE.canonical(twin) == SPACE.canonical(arch) == SPACE.canonical(flipped)
    if twin != arch:
        count = [sum(p.numel() for p in SPACE.build_model(a).parameters()) for a in (arch, twin)]
        assert count[0] == count[1]


@settings(max_examples=10, deadline=None)
@given(seeds, st.lists(st.sampled_from(OPS[:3]), min_size=16, max_size=16))
def test_canonical_is_exact_isomorphism_on_neighbours(seed, few_ops):
    """Among a genotype and its 120 neighbours, canonical keys agree exactly when the cells are isomorphic."""
    arch = SPACE.random_arch(np.random.default_rng(seed))
    edges = [(op, inp) for op, (_, inp) in zip(few_ops, arch.normal + arch.reduce, strict=True)]
    arch = DartsArch(tuple(edges[:8]), tuple(edges[8:]))  # few distinct ops: many isomorphic neighbours
    key, exact = SPACE.canonical(arch), _exact_key(arch)
    for nbr in SPACE.neighbors(arch):
        assert (SPACE.canonical(nbr) == key) == (_exact_key(nbr) == exact)
