"""NB201 model builder: structure, forward pass and parameter counts against the benchmark table."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import archrank as ar


def _analytic_params(arch) -> int:  # type: ignore[no-untyped-def]
    """Stem + 2 reductions + BN + classifier (73,306 for CIFAR-10) + 5 cells per stage of ReLU-Conv-BN ops."""
    cells = sum(
        5 * (arch.ops.count("nor_conv_3x3") * (9 * c * c + 2 * c) + arch.ops.count("nor_conv_1x1") * (c * c + 2 * c))
        for c in (16, 32, 64)
    )
    return 73_306 + cells


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_built_networks_have_the_analytic_parameter_count() -> None:
    space = ar.spaces.get("nb201")
    for arch in space.sample(40, seed=11):
        assert _count(space.build_model(arch)) == _analytic_params(arch)
        assert _count(space.build_model(arch, num_classes=100)) == _analytic_params(arch) + 90 * 65


def test_parameter_counts_match_the_benchmark_table() -> None:
    space = ar.spaces.get("nb201")
    bench = ar.datasets.load("nb201", "cifar10")
    archs = space.all()
    table = bench.values("params", None) * 1e6
    ours = np.array([_analytic_params(a) for a in archs])
    same = np.abs(table - ours) < 0.5
    # the extremes, built for real: all-none 0.073306 M and all-conv3x3 1.531546 M
    for text in (
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    ):
        arch = space.parse(text)
        assert _count(space.build_model(arch)) == round(bench.query(arch, "params") * 1e6)
    # 15,421 of the 15,625 table entries agree to the parameter. Each of the other 204 (1.3 %) is a
    # mean over 3 (or 2) training records of which one counted a network with one or two conv ops
    # more or fewer than the cell (a quirk of the shipped NB201 params, noted in the README).
    assert same.sum() == 15_421
    unit_1x1 = sum(5 * (c * c + 2 * c) for c in (16, 32, 64))  # one nor_conv_1x1 edge, all 15 cells
    unit_3x3 = sum(5 * (9 * c * c + 2 * c) for c in (16, 32, 64))
    assert (unit_1x1, unit_3x3) == (28_000, 243_040)
    changes = np.array([a * unit_1x1 + b * unit_3x3 for a in range(-2, 3) for b in range(-2, 3) if (a, b) != (0, 0)])
    for difference in (table - ours)[~same]:
        assert any(np.abs(k * difference - changes).min() <= k for k in (3, 2)), difference


def test_forward_pass_shapes_and_zero_cell() -> None:
    space = ar.spaces.get("nb201")
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    model = space.build_model(space.from_index(6111)).eval()
    assert model(x).shape == (2, 10)
    assert model.features(x).shape == (2, 64, 8, 8)
    zero = space.build_model("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|").eval()
    cell_out = zero.cells[0](torch.randn(1, 16, 8, 8))
    assert torch.count_nonzero(cell_out) == 0  # no path from input to output: the cell outputs zeros
    with pytest.raises(ValueError, match="num_classes"):
        space.build_model(space.from_index(0), num_classes=0)


def test_darts_parameter_counts_equal_the_nb301_table() -> None:
    space, bench = ar.spaces.get("darts"), ar.datasets.load("darts", "cifar10")
    archs, table = bench.archs(), bench.values("params", None)
    for i in range(0, len(archs), 9):  # every 9th of the 725 cells (all 725 match: see the issue note)
        assert _count(space.build_model(archs[i])) == round(table[i] * 1e6)
    torch.manual_seed(0)
    model = space.build_model(archs[0]).eval()
    x = torch.randn(2, 3, 32, 32)
    assert model(x).shape == (2, 10)
    assert model.features(x).shape == (2, 4 * 128, 8, 8)
    from archrank.models import DartsNetwork

    with_aux = DartsNetwork(archs[0], auxiliary=True)
    assert with_aux.auxiliary_head is not None and _count(with_aux) > _count(model)


def test_nb101_parameter_counts_match_the_trained_specs(shared_data) -> None:  # type: ignore[no-untyped-def]
    import json

    from archrank.spaces import make_nb101

    data = json.loads((shared_data / "nb101" / "data-1k.json").read_text())
    # every 7th of the 1,000 specs with recorded counts (all 1,000 match: see the issue note)
    for i in range(0, 1000, 7):
        matrix, ops = np.array(data["adjacency"][i]), data["operations"][i]
        keep = [j for j, op in enumerate(ops) if op != -3]  # drop padding vertices
        arch = make_nb101(matrix[np.ix_(keep, keep)], [ops[j] for j in keep])
        assert _count(ar.spaces.get("nb101").build_model(arch)) == data["trainable_parameters"][i]


def test_nb101_channel_splitting() -> None:
    from archrank.spaces.nb101.model import vertex_channels

    # input -> 1, 2, 3; 1 -> 4; 2, 3, 4 -> output. The output's 128 channels split 43/43/42 over
    # vertices 2, 3, 4 (remainder to the first); vertex 1 takes the width of the vertex it feeds.
    m = np.zeros((6, 6), dtype=np.uint8)
    m[0, [1, 2, 3]] = 1
    m[1, 4] = 1
    m[[2, 3, 4], 5] = 1
    assert vertex_channels(64, 128, m) == [64, 42, 43, 43, 42, 128]
    arch = ar.spaces.get("nb101").parse({"matrix": m.tolist(), "ops": ["input"] + ["conv3x3-bn-relu"] * 4 + ["output"]})
    model = ar.spaces.get("nb101").build_model(arch).eval()
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert model.features(torch.randn(1, 3, 32, 32)).shape == (1, 512, 8, 8)
