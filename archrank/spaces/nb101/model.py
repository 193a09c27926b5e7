"""The NAS-Bench-101 network: a 128-channel stem, 3 stacks of 3 cells, max-pool downsampling.

As in the benchmark: stem Conv3x3-BN-ReLU (3 -> 128); stacks of 3 cells, the channels doubling
(and a 2x2 max-pool halving the resolution) before stacks 2 and 3; global average pooling and a
linear classifier. Inside a cell the output channels are split among the vertices that feed the
output (the remainder going one channel each to the first of them); other vertices take the
largest width they feed; vertices read the cell input through a Conv1x1-BN-ReLU projection to
their width and other vertices' outputs truncated to it; the output concatenates its inputs and
adds a projection of the cell input when there is a direct input-to-output edge. Ops:
``conv3x3-bn-relu``, ``conv1x1-bn-relu``, ``maxpool3x3`` (stride 1), convs without bias.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from archrank.spaces.nb101.space import NB101Arch

STEM_CHANNELS, NUM_STACKS, CELLS_PER_STACK = 128, 3, 3


def vertex_channels(c_in: int, c_out: int, matrix: np.ndarray) -> list[int]:
    """Channels of every vertex of a cell (NAS-Bench-101's channel-splitting rule)."""
    n = matrix.shape[0]
    channels = [0] * n
    channels[0], channels[-1] = c_in, c_out
    if n == 2:
        return channels
    in_degree = matrix[1:].sum(axis=0)
    share, extra = divmod(c_out, int(in_degree[-1]))
    for v in range(1, n - 1):
        if matrix[v, -1]:
            channels[v] = share + (extra > 0)  # the remainder goes one channel each to the first ones
            extra = max(extra - 1, 0)
    for v in range(n - 3, 0, -1):
        if not matrix[v, -1]:
            for dst in range(v + 1, n - 1):
                if matrix[v, dst]:
                    channels[v] = max(channels[v], channels[dst])
    return channels


class ConvBNReLU(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()
        )


def make_op(name: str, channels: int) -> nn.Module:
    if name == "conv3x3-bn-relu":
        return ConvBNReLU(channels, channels, 3)
    if name == "conv1x1-bn-relu":
        return ConvBNReLU(channels, channels, 1)
    if name == "maxpool3x3":
        return nn.MaxPool2d(3, stride=1, padding=1)
    raise ValueError(f"unknown NB101 op {name!r}")


class NB101Cell(nn.Module):
    def __init__(self, arch: NB101Arch, c_in: int, c_out: int) -> None:
        super().__init__()
        self.matrix = arch.adjacency.astype(bool)
        n = self.matrix.shape[0]
        self.channels = vertex_channels(c_in, c_out, arch.adjacency)
        self.ops = nn.ModuleList(
            nn.Identity() if v in (0, n - 1) else make_op(arch.ops[v], self.channels[v]) for v in range(n)
        )
        self.proj = nn.ModuleList(
            ConvBNReLU(c_in, self.channels[v], 1) if self.matrix[0, v] else nn.Identity() for v in range(n)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.matrix.shape[0]
        values = [x]
        for v in range(1, n - 1):
            c = self.channels[v]
            parts = [values[s][:, :c] for s in range(1, v) if self.matrix[s, v]]
            if self.matrix[0, v]:
                parts.append(self.proj[v](x))
            values.append(self.ops[v](sum(parts)))
        feeds = [values[s] for s in range(1, n - 1) if self.matrix[s, -1]]
        out = torch.cat(feeds, dim=1) if feeds else None
        if self.matrix[0, -1]:
            skip = self.proj[-1](x)
            out = skip if out is None else out + skip
        return out


class NB101Network(nn.Module):
    def __init__(self, arch: NB101Arch, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = ConvBNReLU(3, STEM_CHANNELS, 3)
        layers: list[nn.Module] = []
        c_in = c = STEM_CHANNELS
        for stack in range(NUM_STACKS):
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2))
                c *= 2
            for _ in range(CELLS_PER_STACK):
                layers.append(NB101Cell(arch, c_in, c))
                c_in = c
        self.cells = nn.Sequential(*layers)
        self.classifier = nn.Linear(c, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.cells(self.stem(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean(dim=(2, 3)))


def build_nb101(arch: NB101Arch, num_classes: int = 10) -> NB101Network:
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    return NB101Network(arch, num_classes)
