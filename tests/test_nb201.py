from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import archrank as ar
from archrank.spaces.nb201 import OPS, NB201Arch

SPACE = ar.spaces.get("nb201")
INDEX0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
arch_ops = st.tuples(*[st.sampled_from(OPS)] * 6).map(NB201Arch)


def test_all_cells_round_trip_and_official_order():
    archs = SPACE.all()
    assert len(archs) == 15_625 == len(set(archs))
    assert str(archs[0]) == INDEX0
    assert str(archs[6111]) == BEST
    for i, arch in enumerate(archs):
        assert SPACE.parse(str(arch)) == arch
        assert SPACE.index(arch) == i
    assert SPACE.from_index(6111) == SPACE.parse(BEST) == SPACE.from_index(np.int64(6111))
    with pytest.raises(TypeError, match=r"whole number, got 1\.5"):
        SPACE.from_index(1.5)  # type: ignore[arg-type]


def test_best_cifar10_test_accuracy_is_94_37_at_index_6111():
    bench = ar.datasets.load("nb201", dataset="cifar10")
    acc = bench.values("test_accuracy", 200)
    assert int(np.argmax(acc)) == 6111
    assert round(acc.max(), 2) == 94.37
    assert bench.query(BEST, metric="test_accuracy", epochs=200) == pytest.approx(94.373333, abs=1e-6)


def test_canonical_form_has_nb201s_6466_classes():
    assert len({SPACE.canonical(a) for a in SPACE.all()}) == 6_466


def test_canonical_form_equals_nb201_unique_string(shared_data):
    table = pd.read_csv(shared_data / "nb201" / "nats_bench.csv")
    ours = [SPACE.canonical(SPACE.parse(s)) for s in table["ArchitectureString"]]
    assert ours == table["UniqueString"].tolist()


def test_canonical_merges_none_and_dead_branches():
    # Only the 0->3 conv reaches the output in both; the other edges are dead or zero.
    a = SPACE.parse("|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|")
    b = SPACE.parse("|nor_conv_1x1~0|+|avg_pool_3x3~0|none~1|+|nor_conv_3x3~0|none~1|none~2|")
    assert a != b and SPACE.canonical(a) == SPACE.canonical(b)
    # Swapping the order of summed terms changes the string, not the function.
    c = SPACE.parse("|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_1x1~0|skip_connect~1|none~2|")
    d = SPACE.parse("|nor_conv_1x1~0|+|none~0|none~1|+|nor_conv_3x3~0|skip_connect~1|none~2|")
    assert SPACE.canonical(c) == SPACE.canonical(d)
    assert SPACE.canonical(c) != SPACE.canonical(SPACE.parse(BEST))


@given(arch_ops)
def test_parse_str_round_trip(arch):
    assert SPACE.parse(str(arch)) == arch
    assert SPACE.parse("  " + str(arch) + "\n") == arch


@given(arch_ops, st.integers(0, 2**32 - 1))
def test_mutants_are_valid_and_differ_in_one_edge(arch, seed):
    child = SPACE.mutate(arch, seed)
    assert isinstance(child, NB201Arch) and child != arch
    assert sum(a != b for a, b in zip(arch.ops, child.ops, strict=True)) == 1
    assert SPACE.mutate(arch, seed) == child  # same seed, same mutant


@given(arch_ops)
def test_neighbors_are_the_24_one_edge_changes(arch):
    nbrs = SPACE.neighbors(arch)
    assert len(nbrs) == 24 == len(set(nbrs)) and arch not in nbrs
    assert all(sum(a != b for a, b in zip(arch.ops, n.ops, strict=True)) == 1 for n in nbrs)


def test_sample_is_distinct_and_seeded():
    a = SPACE.sample(500, seed=3)
    assert len(set(a)) == 500
    assert a == SPACE.sample(500, seed=3) and a != SPACE.sample(500, seed=4)
    with pytest.raises(ValueError, match="15625"):
        SPACE.sample(15_626, seed=0)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "3 nodes"),
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|", "3 nodes"),
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown NB201 op 'conv'"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "must read from node 0"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "2 incoming edges"),
        ("|none 0|+|none~0|none~1|+|none~0|none~1|none~2|", "op~input"),
        ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "must look like"),
    ],
)
def test_malformed_strings_raise_a_clear_error(text, fragment):
    with pytest.raises(ar.InvalidArchitectureError, match=fragment):
        SPACE.parse(text)


def test_unknown_op_in_object_and_wrong_edge_count():
    with pytest.raises(ar.InvalidArchitectureError, match="unknown NB201 op"):
        NB201Arch(("none",) * 5 + ("sep_conv_3x3",))
    with pytest.raises(ar.InvalidArchitectureError, match="6 edges"):
        NB201Arch(("none",) * 5)
    with pytest.raises(ar.InvalidArchitectureError, match="is a str"):
        SPACE.parse(42)


def test_cell_graph_moves_ops_onto_nodes():
    g = SPACE.to_cell_graph(SPACE.parse(BEST))
    assert g.num_nodes == 8 and g.ops[0] == "input" and g.ops[-1] == "output"
    assert g.ops[1:7] == SPACE.parse(BEST).ops
    # input feeds the three edges leaving node 0; the three edges entering node 3 feed the output.
    assert g.adjacency[0].nonzero()[0].tolist() == [1, 2, 4]
    assert g.adjacency[:, 7].nonzero()[0].tolist() == [4, 5, 6]
    nxg = g.to_networkx()
    assert nxg.number_of_edges() == g.num_edges == 3 + 3 + 3 + 1  # in, out, 0->1 feeds 1->2/1->3, 0->2/1->2 feed 2->3
