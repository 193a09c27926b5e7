"""K NAS-Bench-201 networks run as one network, so one kernel launch serves many architectures.

Every NB201 network has the same skeleton (stem, 3 stages of 5 cells, 2 residual reductions,
classifier); only the op on each of a cell's 6 edges differs. :class:`StackedNB201` copies the
weights of K already-built :class:`~archrank.spaces.nb201.model.NB201Network` s into one network whose
tensors carry the K networks side by side in channel blocks: input (B, 3K, H, W), channel block
``k`` of every activation belongs to network ``k``, and the output is (B, K, num_classes).

- Shared layers (stem, reductions, last BatchNorm, classifier) are grouped convolutions
  (``groups=K``) and BatchNorms over ``K*C`` channels (per-channel, so training-mode batch
  statistics equal the separate networks').
- On each cell edge the networks are grouped by op: the networks with ``nor_conv_3x3`` there
  share one grouped convolution over their channel blocks (gathered when not all K have it), the
  ones with ``skip_connect`` or ``avg_pool_3x3`` share one identity or pooling, and ``none``
  contributes nothing. Contributions are added into the node tensors block by block.

Network ``k``'s outputs, losses and gradients therefore equal those of the separate network up
to float round-off, and its gradients do not mix with the others' when the loss is a sum over
networks. Each weight-bearing module has an ``owners`` buffer (the network index of each of its
channel blocks, in order), which :func:`archrank.proxies.batched.per_network` uses to split per-block sums by network.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from archrank.spaces.nb201.model import NB201Cell, NB201Network, ReLUConvBN, ResidualReduction
from archrank.spaces.nb201.space import EDGES


def _owned(module: nn.Module, owners: Sequence[int]) -> nn.Module:
    module.register_buffer("owners", torch.tensor(list(owners), dtype=torch.long), persistent=False)
    return module


def _stack_conv(convs: Sequence[nn.Conv2d], owners: Sequence[int]) -> nn.Conv2d:
    """One grouped Conv2d computing every conv of ``convs`` on its own channel block (no bias in NB201)."""
    first, g = convs[0], len(convs)
    if any(c.bias is not None for c in convs):
        raise ValueError("stacking convolutions with a bias is not supported")
    conv = nn.Conv2d(
        first.in_channels * g,
        first.out_channels * g,
        first.kernel_size,
        stride=first.stride,
        padding=first.padding,
        bias=False,
        groups=g,
    )
    with torch.no_grad():
        conv.weight.copy_(torch.cat([c.weight for c in convs], dim=0))
    return _owned(conv, owners)


def _stack_bn(bns: Sequence[nn.BatchNorm2d], owners: Sequence[int]) -> nn.BatchNorm2d:
    first = bns[0]
    bn = nn.BatchNorm2d(first.num_features * len(bns), eps=first.eps, momentum=first.momentum, affine=first.affine)
    with torch.no_grad():
        if first.affine:
            bn.weight.copy_(torch.cat([b.weight for b in bns]))
            bn.bias.copy_(torch.cat([b.bias for b in bns]))
        bn.running_mean.copy_(torch.cat([b.running_mean for b in bns]))
        bn.running_var.copy_(torch.cat([b.running_var for b in bns]))
    return _owned(bn, owners)


def _stack_relu_conv_bn(blocks: Sequence[ReLUConvBN], owners: Sequence[int]) -> nn.Sequential:
    return nn.Sequential(
        _owned(nn.ReLU(inplace=False), owners),
        _stack_conv([b[1] for b in blocks], owners),
        _stack_bn([b[2] for b in blocks], owners),
    )


class StackedLinear(nn.Module):
    """K linear classifiers: (B, K*C) -> (B, K, O); ``weight`` (K*O, C) holds classifier ``k`` in rows ``kO:(k+1)O``."""

    def __init__(self, linears: Sequence[nn.Linear]) -> None:
        super().__init__()
        self.k, self.out_features = len(linears), linears[0].out_features
        self.weight = nn.Parameter(torch.cat([lin.weight.detach() for lin in linears], dim=0).clone())
        self.bias = nn.Parameter(torch.cat([lin.bias.detach() for lin in linears]).clone())
        _owned(self, range(self.k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        w = self.weight.view(self.k, self.out_features, -1)
        return torch.einsum("bkc,koc->bko", x.view(b, self.k, -1), w) + self.bias.view(self.k, self.out_features)


class _EdgeGroup(nn.Module):
    """The networks (``owners``) that have the same op on one cell edge, computed together."""

    def __init__(self, op: str, modules: Sequence[nn.Module], owners: Sequence[int], k: int) -> None:
        super().__init__()
        self.op, self.full = op, len(owners) == k
        _owned(self, owners)
        if op in ("nor_conv_1x1", "nor_conv_3x3"):
            self.body: nn.Module = _stack_relu_conv_bn(modules, owners)  # type: ignore[arg-type]
        elif op == "avg_pool_3x3":
            self.body = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        elif op == "skip_connect":
            self.body = nn.Identity()
        else:
            raise ValueError(f"unknown NB201 op {op!r}")

    def add_into(self, acc: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
        """``acc + this op's output`` on the owners' blocks; ``acc``/``x``: (B, K, C, H, W)."""
        b, _, c, h, w = x.shape
        g = len(self.owners)
        inp = x if self.full else x.index_select(1, self.owners)
        out = self.body(inp.reshape(b, g * c, h, w)).view(b, g, c, h, w)
        if self.full:
            return out if acc is None else acc + out
        base = x.new_zeros(x.shape) if acc is None else acc
        return base.index_add(1, self.owners, out)


class StackedCell(nn.Module):
    """One cell position of K networks: per edge, one :class:`_EdgeGroup` per op in use."""

    def __init__(self, cells: Sequence[NB201Cell], ops_per_net: Sequence[Sequence[str]]) -> None:
        super().__init__()
        k = len(cells)
        self.edges = nn.ModuleList()
        for e in range(len(EDGES)):
            members: dict[str, list[int]] = {}
            for net, ops in enumerate(ops_per_net):
                members.setdefault(ops[e], []).append(net)
            self.edges.append(
                nn.ModuleList(
                    _EdgeGroup(op, [cells[n].edges[e] for n in nets], nets, k)
                    for op, nets in members.items()
                    if op != "none"
                )
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, K, C, H, W) -> (B, K, C, H, W)."""
        nodes: list[torch.Tensor] = [x]
        for j in (1, 2, 3):
            acc: torch.Tensor | None = None
            for e, (i, t) in enumerate(EDGES):
                if t == j:
                    for group in self.edges[e]:
                        acc = group.add_into(acc, nodes[i])
            nodes.append(x.new_zeros(x.shape) if acc is None else acc)
        return nodes[3]


class StackedReduction(nn.Module):
    def __init__(self, blocks: Sequence[ResidualReduction]) -> None:
        super().__init__()
        owners = range(len(blocks))
        self.k = len(blocks)
        self.conv_a = _stack_relu_conv_bn([b.conv_a for b in blocks], owners)
        self.conv_b = _stack_relu_conv_bn([b.conv_b for b in blocks], owners)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0), _stack_conv([b.shortcut[1] for b in blocks], owners)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, K, C, H, W) -> (B, K, 2C, H/2, W/2)."""
        b, k, c, h, w = x.shape
        flat = x.reshape(b, k * c, h, w)
        out = self.shortcut(flat) + self.conv_b(self.conv_a(flat))
        return out.view(b, k, -1, *out.shape[2:])


class StackedNB201(nn.Module):
    """K NB201 networks as one: input (B, 3K, H, W) (network ``k`` reads channels ``3k:3k+3``), output (B, K, O).

    Built from networks made by :func:`archrank.spaces.nb201.model.build_nb201`, whose weights it copies;
    later changes to those networks do not reach it, nor the reverse.
    """

    def __init__(self, nets: Sequence[NB201Network]) -> None:
        super().__init__()
        if not nets:
            raise ValueError("StackedNB201 needs at least one network")
        if not all(isinstance(n, NB201Network) for n in nets):
            raise TypeError("StackedNB201 stacks NB201Network instances only")
        self.k = len(nets)
        owners = range(self.k)
        self.stem = nn.Sequential(
            _stack_conv([n.stem[0] for n in nets], owners), _stack_bn([n.stem[1] for n in nets], owners)
        )
        ops = [n.cell_ops for n in nets]
        layers: list[nn.Module] = []
        for pos in range(len(nets[0].cells)):
            blocks = [n.cells[pos] for n in nets]
            if isinstance(blocks[0], ResidualReduction):
                layers.append(StackedReduction(blocks))  # type: ignore[arg-type]
            else:
                layers.append(StackedCell(blocks, ops))  # type: ignore[arg-type]
        self.cells = nn.ModuleList(layers)
        self.lastact = nn.Sequential(
            _stack_bn([n.lastact[0] for n in nets], owners), _owned(nn.ReLU(inplace=False), owners)
        )
        self.classifier = StackedLinear([n.classifier for n in nets])

    def replicate(self, x: torch.Tensor) -> torch.Tensor:
        """One input batch for every network: (B, 3, H, W) -> (B, 3K, H, W)."""
        return x.repeat(1, self.k, 1, 1)

    def scored_blocks(self) -> list[nn.Module]:
        """The stacked Conv2d and linear layers (the layers the saliency proxies score), each with ``owners``."""
        return [m for m in self.modules() if isinstance(m, (nn.Conv2d, StackedLinear))]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        h = self.stem(x)
        h = h.view(b, self.k, -1, *h.shape[2:])
        for layer in self.cells:
            h = layer(h)
        h = self.lastact(h.reshape(b, -1, *h.shape[3:]))
        return self.classifier(h.mean(dim=(2, 3)))
