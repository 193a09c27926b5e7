"""The built-in NB201 and NB101 spaces written as declarative ``Cell`` spaces give the same answers."""

from __future__ import annotations

import numpy as np
import pytest

import archrank as ar

NB201_OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
NB101_OPS = ["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"]


@pytest.fixture(scope="module")
def nb201_cell() -> ar.spaces.Cell:
    return ar.spaces.Cell(
        "test-nb201-cell", nodes=4, ops=NB201_OPS, op_on="edge", zero_ops=["none"], identity_ops=["skip_connect"]
    )


@pytest.fixture(scope="module")
def nb101_cell() -> ar.spaces.Cell:
    return ar.spaces.Cell("test-nb101-cell", nodes=7, ops=NB101_OPS, op_on="node", max_edges=9)


def test_nb201_as_a_cell_has_every_cell_and_fewer_canonical_classes(nb201_cell: ar.spaces.Cell) -> None:
    nb201 = ar.spaces.get("nb201")
    cells = nb201_cell.all()
    assert len(cells) == 15625 and list(nb201_cell.decisions) == list(nb201.decisions)
    as_cell = [nb201_cell.from_decisions(nb201.to_decisions(a)) for a in nb201.all()]
    assert set(as_cell) == set(cells)
    # NB201 counts 6,466 unique cells; our key also merges cells whose only differences lie on
    # edges that cannot reach the output, and nodes whose every input is a zero op
    assert len({nb201_cell.canonical(a) for a in cells}) == 5390
    sample = nb201.sample(300, seed=0)
    converted = [nb201_cell.from_decisions(nb201.to_decisions(a)) for a in sample]
    for name in ("adjacency_onehot", "path", "categorical"):
        np.testing.assert_array_equal(ar.encodings.encode(converted, name), ar.encodings.encode(sample, name))


def test_nb201_as_a_cell_gives_the_same_predictor_study(nb201_cell: ar.spaces.Cell) -> None:
    nb201 = ar.spaces.get("nb201")
    bench = ar.datasets.load("nb201", "cifar10-valid")
    frame = bench.frame().drop(columns=["index"])
    frame["arch"] = [str(nb201_cell.from_decisions(nb201.to_decisions(a))) for a in bench.archs()]
    # NB201 trained isomorphic cells separately, so rows are keyed by the cell itself
    own = ar.datasets.Benchmark.from_frame(frame, nb201_cell, dataset="cifar10-valid", key="exact")
    assert own.top(1, "valid_accuracy").iloc[0]["valid_accuracy@200"] == bench.values("valid_accuracy").max()
    kwargs = dict(predictors=["xgb", "gp", "gnn"], train_sizes=[50], seeds=[0], test_size=400, progress=False)
    built_in = ar.studies.predictor_study(bench, **kwargs)
    declared = ar.studies.predictor_study(own, **kwargs)
    assert (built_in.kendall_tau > 0.3).all()
    np.testing.assert_allclose(declared.kendall_tau, built_in.kendall_tau, atol=1e-9)


def _nb101_as_cell(arch: ar.spaces.NB101Arch, cell: ar.spaces.Cell, order: list[int] | None = None) -> object:
    """The NB101 cell on 7 nodes: interior vertices renumbered by ``order``, unused nodes left unconnected."""
    n = len(arch.ops)
    interior = order or list(range(1, n - 1))
    where = {0: 0, n - 1: 6, **{v: k + 1 for k, v in enumerate(interior)}}
    values: dict[str, object] = {d: 0 for d in cell.decisions if "->" in d}
    values.update({f"node{k}": "maxpool3x3" for k in range(1, 6)})
    for v in range(1, n - 1):
        values[f"node{where[v]}"] = arch.ops[v]
    for i in range(n):
        for j in range(n):
            if arch.matrix[i][j]:
                values[f"{where[i]}->{where[j]}"] = 1
    return cell.from_decisions(values)


def _topological_orders(arch: ar.spaces.NB101Arch, rng: np.random.Generator) -> list[int]:
    """A random order of the interior vertices that keeps every edge pointing forward."""
    n = len(arch.ops)
    left, order = set(range(1, n - 1)), []
    while left:
        ready = [v for v in sorted(left) if not any(arch.matrix[u][v] for u in left)]
        pick = ready[int(rng.integers(len(ready)))]
        order.append(pick)
        left.remove(pick)
    return order


def test_nb101_as_a_cell_keys_cells_as_the_module_hash_does(nb101_cell: ar.spaces.Cell) -> None:
    nb101 = ar.spaces.get("nb101")
    sample = nb101.sample(1500, seed=0)
    assert len({a.module_hash for a in sample}) == 1500
    keys = [nb101_cell.canonical(_nb101_as_cell(a, nb101_cell)) for a in sample]
    assert len(set(keys)) == 1500  # distinct NB101 cells stay distinct
    rng = np.random.default_rng(0)
    for arch, key in zip(sample[:300], keys[:300], strict=True):
        renumbered = _nb101_as_cell(arch, nb101_cell, _topological_orders(arch, rng))
        assert nb101_cell.canonical(renumbered) == key  # isomorphic numberings share the key
