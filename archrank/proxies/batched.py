"""Proxies of many architectures in one pass: the same definitions, computed on a stacked network.

For spaces whose networks share one skeleton (capability ``stacked_proxies``; NB201's
``stack_networks`` builds :class:`~archrank.spaces.nb201.stacked.StackedNB201`), K networks run
as one, so every kernel launch does the work of K architectures; on a GPU this removes most of
the launch and Python overhead that dominates small networks. The loss (or output sum) is a
sum over the K networks, so each network's weight gradients are its own, and each score below equals the one-network
definition in :mod:`archrank.proxies.saliency` / :mod:`archrank.proxies.activation` up to
float round-off (checked in the tests).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import torch
from torch import nn

from archrank.proxies._common import working_copy
from archrank.proxies.activation import agreement_kernel, jacob_cov_of
from archrank.proxies.inputs import ProxyBatch
from archrank.proxies.registry import StackedFn, register_stacked
from archrank.proxies.saliency import linearised_copy, zico_layer_sum
from archrank.spaces import get as get_space
from archrank.spaces.base import SearchSpace

# (weights (G, n), gradients (G, n), owners (G,)) of every stacked scored layer
BlockGrads = list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


class StackedNetwork(Protocol):
    """What a space's ``stack_networks`` returns: K networks as one ``nn.Module``.

    ``replicate(x)`` turns one input batch (B, C, H, W) into the stacked input, the output is
    (B, K, num_classes), and ``scored_blocks()`` lists the weight layers the saliency proxies
    score, each with an ``owners`` buffer: the network index of each of its channel blocks.
    Every ``nn.ReLU`` whose input is split into K blocks carries ``owners`` too.
    """

    k: int

    def replicate(self, x: torch.Tensor) -> torch.Tensor: ...
    def scored_blocks(self) -> list[nn.Module]: ...
    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...


def stack(space: SearchSpace | str, models: Sequence[nn.Module]) -> StackedNetwork:
    """The stacked network of ``models`` (built by ``space.build_model``), for a space with ``stacked_proxies``."""
    space = get_space(space)
    if not space.stacked_proxies:
        raise ValueError(f"the {space.name} space cannot stack networks (its stacked_proxies capability is off)")
    return space.stack_networks(list(models))


def per_network(values: torch.Tensor, owners: torch.Tensor, k: int) -> torch.Tensor:
    """Sum per-block ``values`` (G,) into per-network totals (K,) by the blocks' ``owners`` (G,)."""
    return values.new_zeros(k).index_add(0, owners, values)


def _block_grads(net: StackedNetwork) -> BlockGrads:
    out = []
    for layer in net.scored_blocks():
        g = len(layer.owners)
        w = layer.weight.detach().reshape(g, -1)
        grad = layer.weight.grad
        grad = torch.zeros_like(w) if grad is None else grad.detach().reshape(g, -1)
        out.append((w, grad, layer.owners))
    return out


def _cross_entropy_sum(net: StackedNetwork, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Sum over the K networks of each one's mean cross-entropy on the batch."""
    logits = net(net.replicate(inputs))  # (B, K, O)
    per_image = nn.functional.cross_entropy(
        logits.permute(0, 2, 1), targets[:, None].expand(-1, net.k), reduction="none"
    )
    return per_image.mean(dim=0).sum()


def cross_entropy_block_grads(stacked: StackedNetwork, batch: ProxyBatch) -> BlockGrads:
    """Per-network weight gradients of the mean cross-entropy (as :func:`saliency.cross_entropy_grads`)."""
    net = working_copy(stacked, batch)
    _cross_entropy_sum(net, batch.inputs, batch.targets).backward()
    return _block_grads(net)


def _totals(values: list[tuple[torch.Tensor, torch.Tensor]], k: int) -> torch.Tensor:
    """Per-network sums of per-block values [(values (G,), owners (G,))]: (K,) float64, in one scatter."""
    flat = torch.cat([v.double() for v, _ in values])
    return per_network(flat, torch.cat([owners for _, owners in values]), k)


def grad_norm_of(grads: BlockGrads, k: int) -> torch.Tensor:
    return _totals([(g.norm(dim=1), o) for _, g, o in grads], k)


def snip_of(grads: BlockGrads, k: int) -> torch.Tensor:
    return _totals([((w * g).abs().sum(dim=1), o) for w, g, o in grads], k)


def plain_of(grads: BlockGrads, k: int) -> torch.Tensor:
    return _totals([((w * g).sum(dim=1), o) for w, g, o in grads], k)


@register_stacked("synflow")
def synflow(stacked: StackedNetwork, batch: ProxyBatch) -> torch.Tensor:
    """:func:`saliency.synflow` of each stacked network: (K,)."""
    net, ones = linearised_copy(stacked, batch)
    net(net.replicate(ones)).sum().backward()
    return snip_of(_block_grads(net), net.k)


@register_stacked("jacob_cov")
def jacob_cov(stacked: StackedNetwork, batch: ProxyBatch) -> torch.Tensor:
    """:func:`activation.jacob_cov` of each stacked network: (K,)."""
    net = working_copy(stacked, batch)
    x = net.replicate(batch.inputs).requires_grad_(True)
    (grad,) = torch.autograd.grad(net(x).sum(), x)
    jac = grad.reshape(batch.size, net.k, -1).transpose(0, 1).double()  # (K, B, 3HW)
    return jacob_cov_of(jac)


@register_stacked("nwot")
def nwot(stacked: StackedNetwork, batch: ProxyBatch) -> torch.Tensor:
    """:func:`activation.nwot` of each stacked network: (K,)."""
    net = working_copy(stacked, batch)
    n = batch.size
    kernel = torch.zeros((net.k, n, n), dtype=torch.float64, device=batch.inputs.device)

    def accumulate(module: nn.Module, inputs: tuple, _output: torch.Tensor) -> None:
        codes = inputs[0].detach().reshape(n, len(module.owners), -1).transpose(0, 1) > 0  # (G, B, D)
        kernel.index_add_(0, module.owners, agreement_kernel(codes))

    handles = [m.register_forward_hook(accumulate) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            net(net.replicate(batch.inputs))
    finally:
        for handle in handles:
            handle.remove()
    return torch.linalg.slogdet(kernel).logabsdet


@register_stacked("zico")
def zico(stacked: StackedNetwork, batch: ProxyBatch, splits: int = 2) -> torch.Tensor:
    """:func:`saliency.zico` of each stacked network: (K,)."""
    if batch.size < splits or splits < 2:
        raise ValueError(f"zico needs splits >= 2 and a batch of at least {splits} images, got {batch.size}")
    net = working_copy(stacked, batch)
    parts = torch.tensor_split(torch.arange(batch.size, device=batch.inputs.device), splits)
    per_layer: list[list[torch.Tensor]] = []
    owners = []
    for idx in parts:
        net.zero_grad(set_to_none=True)
        _cross_entropy_sum(net, batch.inputs[idx], batch.targets[idx]).backward()
        grads = _block_grads(net)
        if not per_layer:
            per_layer, owners = [[] for _ in grads], [o for _, _, o in grads]
        for store, (_, g, _) in zip(per_layer, grads, strict=True):
            store.append(g.double())
    sums = [zico_layer_sum(torch.stack(g)) for g in per_layer]  # each (G,)
    logs = [(torch.where(s != 0, torch.log(s), torch.zeros_like(s)), o) for s, o in zip(sums, owners, strict=True)]
    return _totals(logs, net.k)


def _from_grads(fn: Callable[[BlockGrads, int], torch.Tensor]) -> StackedFn:
    def score(stacked: StackedNetwork, batch: ProxyBatch) -> torch.Tensor:
        return fn(cross_entropy_block_grads(stacked, batch), stacked.k)

    return score


for _name, _of in (("grad_norm", grad_norm_of), ("snip", snip_of), ("plain", plain_of)):
    register_stacked(_name, from_grads=_of)(_from_grads(_of))
