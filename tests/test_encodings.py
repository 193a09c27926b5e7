"""Encodings: lengths, injectivity on canonical cells, isomorphism invariance, hand-checked paths."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archrank as ar
from archrank.encodings import encode, make_encoder
from archrank.errors import InvalidArchitectureError, UnknownChoiceError
from archrank.spaces import make_nb101

LENGTHS = {
    "adjacency_onehot": {"nb201": 30, "nb101": 36, "darts": 140},
    "path": {"nb201": 155, "nb101": 364, "darts": 11_204},
    "path_truncated": {"nb201": 30, "nb101": 40, "darts": 100},
    "categorical": {"nb201": 6, "nb101": 26, "darts": 32},
}


@pytest.mark.parametrize("space_name", ["nb201", "nb101", "darts"])
@pytest.mark.parametrize("name", list(LENGTHS))
def test_lengths_match_readme(name: str, space_name: str) -> None:
    archs = ar.spaces.get(space_name).sample(20, seed=3)
    X = encode(archs, name)
    assert X.shape == (20, LENGTHS[name][space_name])
    assert X.dtype == np.float64 and np.isfinite(X).all()
    enc = make_encoder(name, space=space_name)
    assert enc.n_features() == LENGTHS[name][space_name]
    assert len(enc.feature_names()) == LENGTHS[name][space_name]


@pytest.mark.parametrize("name", ["adjacency_onehot", "categorical"])
def test_nb201_injective_over_all_cells(name: str) -> None:
    X = encode(ar.spaces.get("nb201").all(), name)
    assert len(np.unique(X, axis=0)) == 15_625


def test_nb201_onehot_layout() -> None:
    space = ar.spaces.get("nb201")
    arch = space.parse("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|")
    X = encode([arch], "adjacency_onehot")[0].reshape(6, 5)
    assert [space.ops[i] for i in X.argmax(axis=1)] == list(arch.ops)
    assert (X.sum(axis=1) == 1).all()
    assert encode([arch], "categorical")[0].tolist() == [3, 0, 1, 4, 2, 0]


@pytest.mark.parametrize("name", ["adjacency_onehot", "categorical", "graph"])
def test_nb101_distinct_hashes_get_distinct_encodings(name: str) -> None:
    archs = ar.spaces.get("nb101").sample(3000, seed=5)
    out = encode(archs, name)
    if name == "graph":
        keys = {(tuple(g.x.argmax(1).tolist()), tuple(map(tuple, g.edge_index.T.tolist()))) for g in out}
        assert len(keys) == 3000
    else:
        assert len(np.unique(out, axis=0)) == 3000


def _relabelled(arch, rng: np.random.Generator):  # type: ignore[no-untyped-def]
    """An isomorphic spec with its vertices renumbered along another topological order."""
    g = nx.DiGraph()
    g.add_nodes_from(range(arch.num_vertices))
    g.add_edges_from(zip(*np.nonzero(arch.adjacency), strict=True))
    orders = list(nx.all_topological_sorts(g))
    order = orders[int(rng.integers(len(orders)))]
    pos = {v: i for i, v in enumerate(order)}
    m = np.zeros_like(arch.adjacency)
    for i, j in zip(*np.nonzero(arch.adjacency), strict=True):
        m[pos[i], pos[j]] = 1
    ops = [arch.ops[v] for v in order]
    return make_nb101(m, ops)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 423_623), st.integers(0, 2**31))
def test_nb101_isomorphic_specs_share_every_encoding(row: int, seed: int) -> None:
    space = ar.spaces.get("nb101")
    arch = space._decode(np.array([row]))[0]
    twin = _relabelled(arch, np.random.default_rng(seed))
    assert twin.module_hash == arch.module_hash
    for name in ("adjacency_onehot", "categorical", "path", "path_truncated"):
        np.testing.assert_array_equal(encode([arch], name), encode([twin], name))
    a, b = encode([arch, twin], "graph")
    assert (a.x == b.x).all() and (a.edge_index == b.edge_index).all()


def test_nb201_paths_by_hand() -> None:
    space = ar.spaces.get("nb201")
    enc = make_encoder("path", space="nb201")
    names = enc.feature_names()
    arch = space.parse("|skip_connect~0|+|none~0|nor_conv_3x3~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|")
    row = encode([arch], "path")[0]
    present = {names[i] for i in np.flatnonzero(row)}
    assert present == {
        "input>avg_pool_3x3>output",  # 0->3
        "input>skip_connect>none>output",  # 0->1->3
        "input>none>nor_conv_1x1>output",  # 0->2->3
        "input>skip_connect>nor_conv_3x3>nor_conv_1x1>output",  # 0->1->2->3
    }


def test_nb101_paths_by_hand() -> None:
    arch = ar.spaces.get("nb101").parse("0101/0010/0001/0000|input,conv3x3-bn-relu,maxpool3x3,output")
    names = make_encoder("path", space="nb101").feature_names()
    present = {names[i] for i in np.flatnonzero(encode([arch], "path")[0])}
    assert present == {"input>conv3x3-bn-relu>maxpool3x3>output", "input>output"}  # 0->1->2->3 and 0->3


def test_truncated_is_the_bananas_cutoff_for_nb201_and_nb101() -> None:
    for space_name, cut in (("nb201", 30), ("nb101", 40)):
        archs = ar.spaces.get(space_name).sample(50, seed=1)
        np.testing.assert_array_equal(encode(archs, "path_truncated"), encode(archs, "path")[:, :cut])


def test_truncated_length_is_configurable_and_checked() -> None:
    archs = ar.spaces.get("darts").sample(5, seed=0)
    assert encode(archs, "path_truncated", length=12).shape == (5, 12)
    with pytest.raises(ValueError, match="length"):
        encode(archs, "path_truncated", length=0)


def test_darts_paths_count_every_op_sequence() -> None:
    darts = ar.spaces.get("darts")
    arch = darts.random_arch(np.random.default_rng(0))
    row = encode([arch], "path")[0]
    # each cell/input block: one path per walk from that input to any intermediate node
    n_paths = 0
    for cell in (arch.normal, arch.reduce):
        for source in (0, 1):
            walks = {0: 1 if source == 0 else 0, 1: 1 if source == 1 else 0}
            for k in range(4):
                walks[k + 2] = sum(walks[inp] for _, inp in cell[2 * k : 2 * k + 2])
            n_paths += sum(walks[k + 2] for k in range(4))
    assert row.sum() <= n_paths and row.sum() > 0
    assert row[[0, 2801, 5602, 8403]].sum() == 0  # no empty paths in DARTS


def test_darts_distinct_genotypes_distinct_rows() -> None:
    archs = ar.spaces.get("darts").sample(500, seed=2)
    for name in ("adjacency_onehot", "categorical"):
        assert len(np.unique(encode(archs, name), axis=0)) == 500


def test_graph_encoding_shapes() -> None:
    for space_name, nodes, width in (("nb201", 8, 7), ("darts", 30, 22)):
        g = encode(ar.spaces.get(space_name).sample(3, seed=0), "graph")[0]
        assert tuple(g.x.shape) == (nodes, width)
        assert g.edge_index.dtype.is_floating_point is False
        src, dst = g.edge_index
        assert (src < dst).all()  # topological order: edges point forward
    g = encode(ar.spaces.get("nb201").sample(1, seed=0), "graph")[0]
    assert g.x[0].argmax() == 0 and g.x[-1].argmax() == 6  # input first, output last


def test_strings_need_a_space_and_bad_input_is_named() -> None:
    s = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    assert encode([s], "categorical", space="nb201").shape == (1, 6)
    with pytest.raises(ValueError, match="space"):
        encode([s], "categorical")
    with pytest.raises(InvalidArchitectureError):
        encode(["|bogus~0|"], "path", space="nb201")
    with pytest.raises(UnknownChoiceError, match="encoding"):
        encode([s], "onehot", space="nb201")
    with pytest.raises(ValueError, match="empty"):
        encode([], "path", space="nb201")


def test_sklearn_pipeline_with_an_encoder() -> None:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    bench = ar.datasets.load("nb201", "cifar10-valid")
    archs = bench.archs()[:300]
    y = bench.values("valid_accuracy", 200, archs)
    pipe = make_pipeline(make_encoder("adjacency_onehot", space="nb201"), Ridge()).fit(archs, y)
    assert pipe.predict(archs[:5]).shape == (5,)


def test_gnn_embedding_needs_targets_and_returns_hidden_units() -> None:
    bench = ar.datasets.load("nb201", "cifar10-valid")
    archs = bench.archs()[:80]
    y = bench.values("valid_accuracy", 200, archs)
    with pytest.raises(ValueError, match="targets"):
        encode(archs, "gnn_embedding")
    from archrank.predictors import GNNPredictor

    emb = encode(archs, "gnn_embedding", y=y, predictor=GNNPredictor(epochs=3, hidden=16), random_state=0)
    assert emb.shape == (80, 16) and np.isfinite(emb).all()
    fitted = GNNPredictor(epochs=3, n_members=1, random_state=1).fit(archs, y)
    again = encode(archs[:10], "gnn_embedding", predictor=fitted)
    np.testing.assert_allclose(again, fitted.embed(archs[:10]))


def test_a_renamed_subclass_gets_every_encoding_from_its_description() -> None:
    from archrank.spaces import NB201Space

    class ToySpace(NB201Space):
        name = "toy"

    toy, nb201 = ToySpace(), ar.spaces.get("nb201")
    archs = nb201.sample(20, seed=0)
    for name in ("adjacency_onehot", "path", "path_truncated", "categorical"):
        np.testing.assert_array_equal(encode(archs, name, space=toy), encode(archs, name, space=nb201))


def test_encoding_that_does_not_apply_names_those_that_do() -> None:
    space = ar.spaces.Choices("enc-choices", {"a": ["x", "y"], "b": [1, 2, 3]})
    archs = space.sample(3, seed=0)
    with pytest.raises(UnknownChoiceError, match=r"path.*adjacency_onehot, categorical, graph"):
        encode(archs, "path", space=space)
