"""The DARTS evaluation network that NAS-Bench-301 trained (``NetworkCIFAR`` of Liu et al., 2019).

Settings of NAS-Bench-301 (Siems et al., 2020): 32 initial channels, 8 cells, reduction cells
at positions 2 and 5 (``layers // 3`` and ``2 * layers // 3``), a 3x3 conv stem to 3C channels
with BatchNorm, global average pooling and a linear classifier. Each cell preprocesses its two
inputs to C channels (ReLU-Conv1x1-BN, or a factorised reduction when the previous cell
reduced), computes its four nodes as sums of two ops, and concatenates them (4C channels).
Ops: separable convs (two stacked ReLU-depthwise-pointwise-BN blocks), dilated convs (one block,
dilation 2), 3x3 max/avg pooling (the latter without padding in the mean) and skip connections
(a factorised reduction in a reduction cell). The BatchNorms inside the ops have no affine
parameters (those of the stem and the preprocessing do): with that, the built networks have
exactly the parameter counts of the bundled NAS-Bench-301 table (checked in the tests), while
affine op BatchNorms would add 0.9-1.2 %. Drop-path and the auxiliary head are
training-time extras: the auxiliary head is built only with ``auxiliary=True`` and, as in DARTS's
``count_parameters_in_MB``, is not part of the parameter count the benchmark reports.
"""

from __future__ import annotations

import torch
from torch import nn

from archrank.spaces.darts.space import Cell, DartsArch

C_INIT, LAYERS, STEM_MULTIPLIER, NODES = 32, 8, 3, 4


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 0) -> None:
        super().__init__(
            nn.ReLU(inplace=False), nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False), nn.BatchNorm2d(c_out)
        )


class DilConv(nn.Sequential):
    """ReLU, depthwise conv (dilation ``dilation``), pointwise conv, BatchNorm."""

    def __init__(
        self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, dilation: int, affine: bool = False
    ) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel, stride, padding, dilation=dilation, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class SepConv(nn.Sequential):
    """Two dilation-1 DilConv blocks; only the first has the stride."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__(
            DilConv(c_in, c_in, kernel, stride, padding, dilation=1),
            DilConv(c_in, c_out, kernel, 1, padding, dilation=1),
        )


class FactorizedReduce(nn.Module):
    """Halve the resolution with two offset stride-2 1x1 convs, concatenated, then BatchNorm."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True) -> None:
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even number of output channels, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


def make_op(name: str, channels: int, stride: int) -> nn.Module:
    """One DARTS op on ``channels`` channels; ``stride`` 2 on the inputs of a reduction cell."""
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride=stride, padding=1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(channels, channels, affine=False)
    if name in ("sep_conv_3x3", "sep_conv_5x5"):
        k = int(name[-1])
        return SepConv(channels, channels, k, stride, k // 2)
    if name in ("dil_conv_3x3", "dil_conv_5x5"):
        k = int(name[-1])
        return DilConv(channels, channels, k, stride, 2 * (k // 2), dilation=2)
    raise ValueError(f"unknown DARTS op {name!r}")


class DartsCell(nn.Module):
    def __init__(self, cell: Cell, c_pp: int, c_p: int, c: int, reduction: bool, reduction_prev: bool) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = FactorizedReduce(c_pp, c) if reduction_prev else ReLUConvBN(c_pp, c, 1)
        self.preprocess1 = ReLUConvBN(c_p, c, 1)
        self.inputs = [inp for _, inp in cell]
        self.ops = nn.ModuleList(make_op(op, c, 2 if reduction and inp < 2 else 1) for op, inp in cell)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in range(NODES):
            a, b = 2 * node, 2 * node + 1
            states.append(self.ops[a](states[self.inputs[a]]) + self.ops[b](states[self.inputs[b]]))
        return torch.cat(states[2:], dim=1)


class AuxiliaryHead(nn.Sequential):
    """DARTS's CIFAR auxiliary classifier on 8x8 features (training only)."""

    def __init__(self, c: int, num_classes: int) -> None:
        super().__init__(
            nn.ReLU(inplace=True),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(c, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=True),
            nn.Flatten(),
            nn.Linear(768, num_classes),
        )


class DartsNetwork(nn.Module):
    """Input (batch, 3, 32, 32), output logits (batch, num_classes); ``auxiliary_head`` only if asked for."""

    def __init__(
        self,
        arch: DartsArch,
        num_classes: int = 10,
        channels: int = C_INIT,
        layers: int = LAYERS,
        auxiliary: bool = False,
    ) -> None:
        super().__init__()
        c_curr = STEM_MULTIPLIER * channels
        self.stem = nn.Sequential(nn.Conv2d(3, c_curr, 3, padding=1, bias=False), nn.BatchNorm2d(c_curr))
        c_pp, c_p, c_curr = c_curr, c_curr, channels
        self.cells = nn.ModuleList()
        reduction_prev = False
        self.aux_position = 2 * layers // 3
        self.auxiliary_head: nn.Module | None = None
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                c_curr *= 2
            cell = arch.reduce if reduction else arch.normal
            self.cells.append(DartsCell(cell, c_pp, c_p, c_curr, reduction, reduction_prev))
            reduction_prev = reduction
            c_pp, c_p = c_p, NODES * c_curr
            if auxiliary and i == self.aux_position:
                self.auxiliary_head = AuxiliaryHead(c_p, num_classes)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Activations before global pooling: (batch, 4 * 4C, H/4, W/4)."""
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return s1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)).flatten(1))


def build_darts(arch: DartsArch, num_classes: int = 10) -> DartsNetwork:
    """The NAS-Bench-301 evaluation network of ``arch`` (no auxiliary head)."""
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    return DartsNetwork(arch, num_classes)
