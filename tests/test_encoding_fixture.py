"""The built-in spaces give exactly the encodings they gave before spaces became plug-ins.

The fixture was written by ``scripts/make_encoding_fixture.py`` from the code before the
redesign (commit add95e5); every encoding is now computed from the space's self-description.
"""

from pathlib import Path

import numpy as np
import pytest

import archrank as ar

FIXTURE = np.load(Path(__file__).parent / "fixtures" / "encodings_builtin.npz")


@pytest.mark.parametrize("space_name", ["nb201", "nb101", "darts"])
@pytest.mark.parametrize("encoding", ["adjacency_onehot", "path", "path_truncated", "categorical"])
def test_fixed_encodings_unchanged(space_name: str, encoding: str) -> None:
    space = ar.spaces.get(space_name)
    archs = [space.parse(s) for s in FIXTURE[f"{space_name}|archs"]]
    x = ar.encodings.encode(archs, encoding)
    np.testing.assert_array_equal(x, FIXTURE[f"{space_name}|{encoding}"].astype(np.float64))
    names = ar.encodings.make_encoder(encoding, space=space).feature_names()
    assert names == list(FIXTURE[f"{space_name}|{encoding}|names"])


@pytest.mark.parametrize("space_name", ["nb201", "nb101", "darts"])
def test_graph_encoding_unchanged(space_name: str) -> None:
    space = ar.spaces.get(space_name)
    archs = [space.parse(s) for s in FIXTURE[f"{space_name}|archs"]]
    graphs = ar.encodings.encode(archs, "graph")
    np.testing.assert_array_equal([g.num_nodes for g in graphs], FIXTURE[f"{space_name}|graph|num_nodes"])
    np.testing.assert_array_equal(np.concatenate([g.x.numpy() for g in graphs]), FIXTURE[f"{space_name}|graph|x"])
    ei = np.concatenate([g.edge_index.numpy() for g in graphs], axis=1)
    np.testing.assert_array_equal(ei, FIXTURE[f"{space_name}|graph|edge_index"])
    names = ar.encodings.make_encoder("graph", space=space).feature_names()
    assert names == list(FIXTURE[f"{space_name}|graph|names"])
