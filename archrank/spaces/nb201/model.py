"""The NAS-Bench-201 network: stem, 3 stages of 5 cells (C = 16, 32, 64), residual reductions.

Layout as in NAS-Bench-201's infer network: a 3x3 conv stem (3 -> C) with BatchNorm; 5 cells; a
residual reduction block (ReLU-Conv3x3(stride 2)-BN, ReLU-Conv3x3-BN, shortcut AvgPool(2) +
Conv1x1); 5 cells at 2C; another reduction; 5 cells at 4C; BatchNorm + ReLU; global average
pooling; a linear classifier. Cell ops: ``nor_conv_kxk`` = ReLU-Conv-BN (affine BatchNorm, no
conv bias), ``avg_pool_3x3`` = 3x3 average pooling (padding excluded from the mean),
``skip_connect`` = identity, ``none`` = zero. Node ``j`` of a cell sums ``op(node i)`` over
``i < j``; node 3 is the cell output. Parameter counts equal the benchmark's ``params`` column
(checked for every cell in the tests).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from archrank.spaces.nb201.space import EDGES, NB201Arch

C_INIT, CELLS_PER_STAGE = 16, 5


class Zero(nn.Module):
    """The ``none`` op: an all-zero tensor of the input's shape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, affine=True, track_running_stats=True),
        )


def make_op(name: str, channels: int) -> nn.Module:
    """One NB201 cell op on ``channels`` channels (stride 1)."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NB201 op {name!r}")


class NB201Cell(nn.Module):
    """A 4-node NB201 cell; ``ops[k]`` sits on edge ``EDGES[k]``."""

    def __init__(self, ops: Sequence[str], channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(make_op(op, channels) for op in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for j in (1, 2, 3):
            nodes.append(sum(self.edges[k](nodes[i]) for k, (i, t) in enumerate(EDGES) if t == j))
        return nodes[3]


class ResidualReduction(nn.Module):
    """NB201's ResNet basic block halving the resolution and doubling the channels."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0), nn.Conv2d(c_in, c_out, 1, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """The whole NB201 network for one cell; input (batch, 3, H, W), output logits (batch, num_classes)."""

    def __init__(self, arch: NB201Arch, num_classes: int = 10, channels: int = C_INIT) -> None:
        super().__init__()
        self.cell_ops: tuple[str, ...] = tuple(arch.ops)
        self.stem = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        layers: list[nn.Module] = []
        c = channels
        for stage in range(3):
            if stage > 0:
                layers.append(ResidualReduction(c, 2 * c))
                c *= 2
            layers += [NB201Cell(arch.ops, c) for _ in range(CELLS_PER_STAGE)]
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=False))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Activations before global pooling: (batch, 4C, H/4, W/4)."""
        return self.lastact(self.cells(self.stem(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)).flatten(1))


def build_nb201(arch: NB201Arch, num_classes: int = 10) -> NB201Network:
    """The NB201 network of ``arch`` (10 classes for CIFAR-10, 100 for CIFAR-100, 120 for ImageNet16-120)."""
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    return NB201Network(arch, num_classes)
