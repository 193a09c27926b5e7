from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
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
    assert normal.num_nodes == reduce.num_nodes == 11
    assert normal.adjacency[:, -1].sum() == 8  # every edge-op feeds the concat output
    union = SPACE.to_cell_graph(arch)
    assert union.num_nodes == 22 and union.ops[0] == "normal/input0" and union.ops[11] == "reduce/input0"
