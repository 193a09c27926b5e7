"""Several GIN networks trained side by side as one batched model: one forward pass for all members.

The GIN predictor's members are small (3 GINConv layers of 32 units) and see mini-batches of a
few hundred nodes, so on a CPU their training is dominated by the cost of each operation rather
than by arithmetic. :class:`StackedGIN` holds the weights of ``M``
:class:`~archrank.predictors.gnn.GIN` networks stacked along a leading member axis and runs their
forward pass with batched matrix products (``bmm``/``baddbmm``) and one BatchNorm per layer for
all of them, each member on its own mini-batch, on graphs padded to one node count (the dense
form of torch-geometric's ``to_dense_batch`` / ``to_dense_adj``). It computes what the
torch-geometric layers compute (``GINConv`` with sum aggregation, ``BatchNorm1d`` in training
mode, ``global_mean_pool``) up to float round-off (checked in tests/test_predictors.py); the
trained weights are written back into the torch-geometric networks, which serve predictions.
torch-geometric has no batched multi-model GIN (pyg-lib's ``segment_matmul`` would do the
grouped products, but it is not a dependency), hence this module.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def _stack(tensors: list[torch.Tensor], transpose: bool = False) -> nn.Parameter:
    return nn.Parameter(torch.stack([t.detach().T if transpose else t.detach() for t in tensors]).clone())


class StackedGIN(nn.Module):
    """``M`` GIN networks (same shapes) with their parameters stacked: linear weights (M, in, out).

    Built from, and written back to, a list of :class:`~archrank.predictors.gnn.GIN` modules.
    """

    def __init__(self, nets: list[Any]) -> None:
        super().__init__()
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        self.eps = nn.ParameterList()
        self.bn_weight, self.bn_bias = nn.ParameterList(), nn.ParameterList()
        self.running_mean: list[torch.Tensor] = []
        self.running_var: list[torch.Tensor] = []
        self.momentum, self.bn_eps = 0.1, 1e-5
        for layer in range(len(nets[0].convs)):
            convs = [net.convs[layer] for net in nets]
            bn = convs[0].nn[1]
            if (bn.momentum, bn.eps) != (self.momentum, self.bn_eps) or not bn.track_running_stats:
                raise ValueError("StackedGIN expects BatchNorm1d with momentum 0.1, eps 1e-5 and running statistics")
            for i in (0, 3):
                self.weights.append(_stack([c.nn[i].weight for c in convs], transpose=True))
                self.biases.append(_stack([c.nn[i].bias[None, :] for c in convs]))
            self.eps.append(_stack([c.eps.reshape(1, 1) for c in convs]))
            self.bn_weight.append(_stack([c.nn[1].weight[None, :] for c in convs]))
            self.bn_bias.append(_stack([c.nn[1].bias[None, :] for c in convs]))
            self.running_mean.append(torch.stack([c.nn[1].running_mean for c in convs]).clone())
            self.running_var.append(torch.stack([c.nn[1].running_var for c in convs]).clone())
        self.head_weights = nn.ParameterList(_stack([net.head[i].weight for net in nets], True) for i in (0, 2))
        self.head_biases = nn.ParameterList(_stack([net.head[i].bias[None, :] for net in nets]) for i in (0, 2))
        self.n_bn_steps = 0

    def _batch_norm(self, h: torch.Tensor, layer: int, mask: torch.Tensor | None, n_real: torch.Tensor) -> torch.Tensor:
        """Training-mode BatchNorm1d of (M, nodes, h) over each member's real nodes; updates the running stats."""
        if mask is None:
            mean = h.mean(dim=1, keepdim=True)
            var = (h - mean).square().mean(dim=1, keepdim=True)
        else:
            mean = (h * mask).sum(dim=1, keepdim=True) / n_real
            var = ((h - mean).square() * mask).sum(dim=1, keepdim=True) / n_real
        with torch.no_grad():
            n = n_real.reshape(-1, 1)
            rm, rv = self.running_mean[layer], self.running_var[layer]
            rm.mul_(1 - self.momentum).add_(self.momentum * mean.squeeze(1))
            rv.mul_(1 - self.momentum).add_(self.momentum * var.squeeze(1) * (n / (n - 1)))
        return (h - mean) * torch.rsqrt(var + self.bn_eps) * self.bn_weight[layer] + self.bn_bias[layer]

    def forward(
        self, x: torch.Tensor, adj_t: torch.Tensor, mask: torch.Tensor | None, extra: torch.Tensor | None
    ) -> torch.Tensor:
        """Predictions (M, B) of each member for its own mini-batch of B graphs, in dense form.

        ``x``: (M, B, N, d) node features, graphs padded with zero rows to N nodes; ``adj_t``:
        (M, B, N, N), ``adj_t[..., i, j]`` the number of edges j -> i (messages flow to i);
        ``mask``: (M, B, N, 1), 1.0 for real nodes, or None when no graph has padding;
        ``extra``: (M, B, e) per-graph features or None.
        """
        m, b, n, _ = x.shape
        flat_mask = None if mask is None else mask.reshape(m, b * n, 1)
        n_real = torch.full((m, 1, 1), float(b * n)) if mask is None else flat_mask.sum(dim=1, keepdim=True)
        adj = adj_t.reshape(m * b, n, n)
        h = x.reshape(m, b * n, -1)
        for layer in range(len(self.eps)):
            agg = torch.bmm(adj, h.reshape(m * b, n, -1)).reshape(m, b * n, -1)
            h = torch.baddbmm(self.biases[2 * layer], (1 + self.eps[layer]) * h + agg, self.weights[2 * layer])
            h = torch.relu(self._batch_norm(h, layer, flat_mask, n_real))
            h = torch.relu(torch.baddbmm(self.biases[2 * layer + 1], h, self.weights[2 * layer + 1]))
        self.n_bn_steps += 1
        h = h.reshape(m, b, n, -1)
        pooled = h.mean(dim=2) if mask is None else (h * mask).sum(dim=2) / mask.sum(dim=2).clamp_min(1)
        if extra is not None:
            pooled = torch.cat([pooled, extra], dim=2)
        out = torch.relu(torch.baddbmm(self.head_biases[0], pooled, self.head_weights[0]))
        return torch.baddbmm(self.head_biases[1], out, self.head_weights[1]).squeeze(-1)

    @torch.no_grad()
    def write_back(self, nets: list[Any]) -> None:
        """Copy the trained weights and BatchNorm statistics into the GIN modules ``nets``."""
        for k, net in enumerate(nets):
            for layer, conv in enumerate(net.convs):
                for j, i in enumerate((0, 3)):
                    conv.nn[i].weight.copy_(self.weights[2 * layer + j][k].T)
                    conv.nn[i].bias.copy_(self.biases[2 * layer + j][k, 0])
                conv.eps.copy_(self.eps[layer][k].reshape(conv.eps.shape))
                bn = conv.nn[1]
                bn.weight.copy_(self.bn_weight[layer][k, 0])
                bn.bias.copy_(self.bn_bias[layer][k, 0])
                bn.running_mean.copy_(self.running_mean[layer][k])
                bn.running_var.copy_(self.running_var[layer][k])
                bn.num_batches_tracked += self.n_bn_steps
            for j, i in enumerate((0, 2)):
                net.head[i].weight.copy_(self.head_weights[j][k].T)
                net.head[i].bias.copy_(self.head_biases[j][k, 0])
