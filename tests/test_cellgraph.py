from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import archrank as ar
from archrank.spaces import CellGraph

SPACE = ar.spaces.get("nb201")
nb201_codes = st.integers(0, 15_624)


@given(nb201_codes)
def test_networkx_round_trip(code):
    g = SPACE.to_cell_graph(SPACE.from_index(code))
    back = CellGraph.from_networkx(g.to_networkx())
    assert back.is_isomorphic(g) and back.fingerprint() == g.fingerprint()
    assert g == CellGraph(g.adjacency.copy(), g.ops) and hash(g) == hash(CellGraph(g.adjacency, g.ops))


@given(nb201_codes, st.randoms(use_true_random=False))
def test_fingerprint_is_invariant_to_node_order(code, rnd):
    g = SPACE.to_cell_graph(SPACE.from_index(code))
    orders = list(nx.all_topological_sorts(g.to_networkx()))
    order = orders[rnd.randrange(len(orders))]
    permuted = CellGraph(g.adjacency[np.ix_(order, order)], [g.ops[i] for i in order])
    assert permuted.fingerprint() == g.fingerprint() and permuted.is_isomorphic(g)


@pytest.mark.parametrize(
    ("adj", "ops", "fragment"),
    [
        (np.zeros((2, 3)), ["a", "b"], "square"),
        ([[0, 1], [1, 0]], ["a", "b"], "upper-triangular"),
        ([[0, 3], [0, 0]], ["a", "b"], "0 or 1"),
        ([[0, 1], [0, 0]], ["a"], "1 op labels for 2 nodes"),
    ],
)
def test_bad_graphs_raise(adj, ops, fragment):
    with pytest.raises(ar.InvalidArchitectureError, match=fragment):
        CellGraph(adj, ops)


def test_adjacency_is_read_only():
    g = SPACE.to_cell_graph(SPACE.from_index(0))
    with pytest.raises(ValueError):
        g.adjacency[0, 1] = 0


def test_cyclic_networkx_graph_is_rejected():
    g = nx.DiGraph([(0, 1), (1, 0)])
    with pytest.raises(ar.InvalidArchitectureError, match="cycle"):
        CellGraph.from_networkx(g)
