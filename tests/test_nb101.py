from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archrank as ar
from archrank.spaces.nb101 import NUM_UNIQUE_CELLS, OPS, NB101Arch, make_nb101

SPACE = ar.spaces.get("nb101")
# First entry of NAS-Bench-101's data-1k.json: spec and the benchmark's own module hash.
KNOWN_MATRIX = [
    [0, 1, 0, 0, 1, 1, 0],
    [0, 0, 1, 0, 0, 0, 0],
    [0, 0, 0, 1, 0, 0, 1],
    [0, 0, 0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 0],
]
KNOWN_OPS = [-1, 0, 2, 0, 0, 1, -2]
KNOWN_HASH = "00005c142e6f48ac74fdcf73e3439874"


def random_spec(draw_bits: list[int], labels: list[int], n: int) -> tuple[np.ndarray, list[str]]:
    mat = np.zeros((n, n), dtype=np.uint8)
    iu = np.triu_indices(n, 1)
    mat[iu] = draw_bits[: len(iu[0])]
    return mat, ["input", *(OPS[i] for i in labels[: n - 2]), "output"]


specs = st.builds(
    random_spec,
    st.lists(st.integers(0, 1), min_size=21, max_size=21),
    st.lists(st.integers(0, 2), min_size=5, max_size=5),
    st.integers(2, 7),
)


def try_make(spec):
    try:
        return make_nb101(*spec)
    except ar.InvalidArchitectureError:
        return None


def test_module_hash_matches_the_benchmark():
    arch = make_nb101(KNOWN_MATRIX, KNOWN_OPS)
    assert arch.module_hash == KNOWN_HASH
    assert SPACE.canonical(arch) == KNOWN_HASH


def test_module_hash_matches_every_spec_of_data_1k(shared_data):
    import json

    d = json.loads((shared_data / "nb101" / "data-1k.json").read_text())
    for adj, ops, key in zip(d["adjacency"], d["operations"], d["key"], strict=True):
        assert make_nb101(adj, ops).module_hash == key


def test_enumeration_has_423624_distinct_cells():
    cells = SPACE._cells
    assert len(cells["hash_prefix"]) == NUM_UNIQUE_CELLS == 423_624
    assert len(np.unique(cells["hash_prefix"])) == NUM_UNIQUE_CELLS
    assert (np.diff(cells["hash_prefix"].astype(np.float64)) >= 0).all()  # sorted for lookups
    # By hand: n=2 is input->output; n=3 is one op, with or without the input->output edge.
    assert np.bincount(cells["n_vertices"]).tolist()[2:4] == [1, 6]


def test_enumerated_cells_are_valid_and_hash_to_their_key():
    rows = np.random.default_rng(0).choice(NUM_UNIQUE_CELLS, 300, replace=False)
    for row, arch in zip(rows, SPACE._decode(rows), strict=True):
        assert make_nb101(arch.matrix, arch.ops) == arch  # valid and already pruned
        assert int(arch.module_hash[:16], 16) == int(SPACE._cells["hash_prefix"][row])
        assert SPACE.from_hash(arch.module_hash) == arch


def test_every_table_hash_is_found(shared_data):
    import json

    keys = json.loads((shared_data / "nb101" / "data-20k.json").read_text())["key"]
    archs = SPACE.from_hashes(keys)
    assert [a.module_hash for a in archs] == keys


def test_table_rows_hash_consistently():
    bench = ar.datasets.load("nb101")
    frame = bench.frame()
    assert len(frame) == 20_001 and frame["module_hash"].is_unique
    sample = frame.sample(200, random_state=0)
    for h, s in zip(sample["module_hash"], sample["arch"], strict=True):
        assert SPACE.parse(s).module_hash == h


def test_top_ten_table_cells_with_specs():
    bench = ar.datasets.load("nb101")
    top = bench.top(10, "valid_accuracy", 108)
    assert top["valid_accuracy@108"].iloc[0] == pytest.approx(94.91, abs=0.005)
    assert top["valid_accuracy@108"].is_monotonic_decreasing
    for s in top["arch"]:
        arch = SPACE.parse(s)
        assert arch.num_vertices <= 7 and arch.num_edges <= 9


def test_unknown_hash_is_a_clear_error():
    with pytest.raises(ar.UnknownArchitectureError, match="no NB101 cell has module hash"):
        SPACE.from_hash("0" * 32)
    with pytest.raises(ar.InvalidArchitectureError, match="32-hex-digit"):
        SPACE.from_hash("xyz")


def test_pruning_removes_dangling_vertices():
    # Vertex 2 has no path to the output and vertex 3 none from the input: both go.
    mat = np.zeros((5, 5), dtype=int)
    mat[0, 1] = mat[1, 4] = mat[0, 2] = mat[3, 4] = 1
    arch = make_nb101(mat, ["input", OPS[0], OPS[1], OPS[2], "output"])
    assert arch.ops == ("input", OPS[0], "output")
    assert arch.matrix == ((0, 1, 0), (0, 0, 1), (0, 0, 0))


@pytest.mark.parametrize(
    ("matrix", "ops", "fragment"),
    [
        ([[0, 1, 0], [0, 0, 1]], ["input", OPS[0], "output"], "square"),
        ([[0, 1], [0, 0]], ["input", OPS[0], "output"], "2 vertices but 3 ops"),
        ([[0, 1], [1, 0]], ["input", "output"], "upper-triangular"),
        ([[0, 2], [0, 0]], ["input", "output"], "0 or 1"),
        ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5-bn-relu", "output"], "unknown NB101 op"),
        ([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", OPS[0], "output"], "not reachable"),
        ([[0, 1], [0, 0]], ["output", "input"], "first op must be"),
        (np.triu(np.ones((8, 8), dtype=int), 1), ["input"] + [OPS[0]] * 6 + ["output"], "at most 7 vertices"),
        (np.triu(np.ones((7, 7), dtype=int), 1), ["input"] + [OPS[0]] * 5 + ["output"], "at most 9 edges"),
        ([[0, 1], [0, 0]], [-1, 7], "unknown NB101 op code"),
    ],
)
def test_invalid_specs_raise_a_clear_error(matrix, ops, fragment):
    with pytest.raises(ar.InvalidArchitectureError, match=fragment):
        make_nb101(matrix, ops)


@pytest.mark.parametrize(
    "text", ["", "01/00", "01/00|input,output|x", "012/001/000|input,x,output", "0100/0010/0001|input,output"]
)
def test_malformed_strings_raise(text):
    with pytest.raises(ar.InvalidArchitectureError):
        SPACE.parse(text)


@settings(max_examples=200)
@given(specs)
def test_valid_specs_round_trip_and_respect_the_rules(spec):
    arch = try_make(spec)
    if arch is None:
        return
    assert SPACE.parse(str(arch)) == arch
    assert arch.num_vertices <= 7 and arch.num_edges <= 9
    assert SPACE.parse({"matrix": arch.matrix, "ops": arch.ops}) == arch


@settings(max_examples=100)
@given(specs, st.randoms(use_true_random=False))
def test_hash_is_invariant_under_vertex_relabelling(spec, rnd):
    arch = try_make(spec)
    if arch is None or arch.num_vertices < 4:
        return
    # Any topological order of the same graph gives the same module hash.
    g = SPACE.to_cell_graph(arch).to_networkx()
    import networkx as nx

    orders = list(nx.all_topological_sorts(g))
    order = orders[rnd.randrange(len(orders))]
    mat = arch.adjacency[np.ix_(order, order)]
    permuted = make_nb101(mat, [arch.ops[v] for v in order])
    assert permuted.module_hash == arch.module_hash


@settings(max_examples=100)
@given(specs, st.integers(0, 2**32 - 1))
def test_mutants_are_valid_and_differ_from_the_parent(spec, seed):
    arch = try_make(spec)
    if arch is None:
        return
    child = SPACE.mutate(arch, seed)
    assert isinstance(child, NB101Arch)
    assert make_nb101(child.matrix, child.ops) == child
    assert child.module_hash != arch.module_hash
    assert SPACE.mutate(arch, seed) == child


def test_neighbors_are_valid_distinct_and_exclude_self():
    arch = make_nb101(KNOWN_MATRIX, KNOWN_OPS)
    nbrs = SPACE.neighbors(arch)
    hashes = [n.module_hash for n in nbrs]
    assert len(nbrs) >= 10 and len(set(hashes)) == len(hashes) and KNOWN_HASH not in hashes


def test_sample_is_distinct_uniform_over_unique_cells_and_seeded():
    a = SPACE.sample(300, seed=1)
    assert len({x.module_hash for x in a}) == 300
    assert a == SPACE.sample(300, seed=1)
