"""Gradient-saliency proxies: scores from the weights' gradients of one batch at initialisation.

All of them score the Conv2d and Linear weights, as the zero-cost-nas reference code does, and
work on a private copy of the model in training mode (BatchNorm uses batch statistics).
A network whose output does not depend on its weights (no path from input to output) gets 0
from ``grad_norm``, ``snip``, ``grasp``, ``fisher``, ``plain`` and ``synflow``.
"""

from __future__ import annotations

import torch
from torch import nn

from archrank.proxies._common import (
    cross_entropy_backward,
    scored_layers,
    weight_grads,
    without_batchnorm,
    working_copy,
)
from archrank.proxies.inputs import ProxyBatch
from archrank.proxies.registry import register_proxy

WeightGrads = list[tuple[torch.Tensor, torch.Tensor]]


def cross_entropy_grads(model: nn.Module, batch: ProxyBatch) -> WeightGrads:
    """``(weight, dL/dweight)`` of every scored layer for the batch's mean cross-entropy ``L``.

    ``grad_norm``, ``snip`` and ``plain`` are functions of these; the runner computes them once
    per architecture for all three.
    """
    net = working_copy(model, batch)
    cross_entropy_backward(net, batch)
    return weight_grads(net)


def grad_norm_of(grads: WeightGrads) -> float:
    return float(sum(g.norm() for _, g in grads))


def snip_of(grads: WeightGrads) -> float:
    return float(sum((w * g).abs().sum() for w, g in grads))


def plain_of(grads: WeightGrads) -> float:
    return float(sum((w * g).sum() for w, g in grads))


@register_proxy("grad_norm", uses_images=True, from_grads=grad_norm_of)
def grad_norm(model: nn.Module, batch: ProxyBatch) -> float:
    """Sum over layers of the L2 norm of the cross-entropy gradient of the layer's weight.

    Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021 (definition of
    zero-cost-nas: per-layer Frobenius norms, summed).
    """
    return grad_norm_of(cross_entropy_grads(model, batch))


@register_proxy("snip", uses_images=True, from_grads=snip_of)
def snip(model: nn.Module, batch: ProxyBatch) -> float:
    """Connection sensitivity: sum of ``|w * dL/dw|`` over all scored weights.

    Lee et al., "SNIP: Single-shot Network Pruning based on Connection Sensitivity", ICLR 2019;
    used as a proxy by Abdelfattah et al., ICLR 2021.
    """
    return snip_of(cross_entropy_grads(model, batch))


@register_proxy("plain", uses_images=True, from_grads=plain_of)
def plain(model: nn.Module, batch: ProxyBatch) -> float:
    """Signed first-order saliency: sum of ``w * dL/dw`` over all scored weights.

    Mozer & Smolensky, "Skeletonization", NeurIPS 1988; the "plain" proxy of Abdelfattah et al.,
    ICLR 2021.
    """
    return plain_of(cross_entropy_grads(model, batch))


@register_proxy("grasp", uses_images=True)
def grasp(model: nn.Module, batch: ProxyBatch) -> float:
    """Gradient signal preservation: sum of ``-w * (H g)`` with ``g = dL/dw`` and ``H`` the Hessian.

    Wang et al., "Picking Winning Tickets Before Training by Preserving Gradient Flow", ICLR
    2020. ``H g`` is one Hessian-vector product: the gradient of ``g_const . dL/dw``.
    """
    net = working_copy(model, batch)
    weights = [layer.weight for layer in scored_layers(net)]
    loss_fn = nn.functional.cross_entropy
    first = torch.autograd.grad(loss_fn(net(batch.inputs), batch.targets), weights, allow_unused=True)
    second = torch.autograd.grad(
        loss_fn(net(batch.inputs), batch.targets), weights, create_graph=True, allow_unused=True
    )
    z = sum((g1.detach() * g2).sum() for g1, g2 in zip(first, second, strict=True) if g1 is not None and g2 is not None)
    if not isinstance(z, torch.Tensor) or not z.requires_grad:
        return 0.0
    hg = torch.autograd.grad(z, weights, allow_unused=True)
    return float(sum((-w.detach() * h).sum() for w, h in zip(weights, hg, strict=True) if h is not None))


@register_proxy("fisher", uses_images=True)
def fisher(model: nn.Module, batch: ProxyBatch) -> float:
    """Fisher information of the layer outputs (channel saliency), summed over all channels.

    Per scored layer with output ``a`` (B, C, H, W) and its loss gradient ``dL/da``:
    ``0.5 * mean_batch (sum_hw a * dL/da)^2`` per channel. Theis et al., "Faster gaze prediction
    with dense networks and Fisher pruning", 2018; Turner et al., "BlockSwap", ICLR 2020.
    """
    net = working_copy(model, batch)
    outputs: list[torch.Tensor] = []

    def keep(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        if output.requires_grad:
            output.retain_grad()
            outputs.append(output)

    handles = [layer.register_forward_hook(keep) for layer in scored_layers(net)]
    try:
        cross_entropy_backward(net, batch)
    finally:
        for handle in handles:
            handle.remove()
    total = torch.zeros((), dtype=torch.float64, device=batch.inputs.device)
    for act in outputs:
        if act.grad is None:
            continue
        prod = act.detach() * act.grad
        per_channel = prod.sum(dim=(2, 3)) if prod.dim() == 4 else prod
        total += per_channel.double().pow(2).mean(0).mul(0.5).sum()
    return float(total)


@register_proxy("synflow", uses_images=False)
def synflow(model: nn.Module, batch: ProxyBatch) -> float:
    """Synaptic flow: sum of ``|w * dR/dw|`` with ``R`` the summed output of the linearised network.

    Tanaka et al., "Pruning neural networks without any data by iteratively conserving synaptic
    flow", NeurIPS 2020; as a proxy, Abdelfattah et al., ICLR 2021. Reference settings: BatchNorm
    removed, all weights replaced by their absolute values, float64, a single all-ones input of
    the batch's image shape (the batch's pixels are not used). Float64 keeps the product of many
    weights from overflowing; an overflow that still happens gives inf, which the runner reports.
    """
    net, ones = linearised_copy(model, batch)
    net(ones).sum().backward()
    return float(sum((w * g).abs().sum() for w, g in weight_grads(net)))


def linearised_copy(model: nn.Module, batch: ProxyBatch) -> tuple[nn.Module, torch.Tensor]:
    """synflow's network and input: a float64 copy of ``model`` without BatchNorm and with every
    weight replaced by its absolute value, and an all-ones float64 input (1, 3, H, W)."""
    net = without_batchnorm(working_copy(model, batch)).double()
    with torch.no_grad():
        for p in net.state_dict().values():
            if p.is_floating_point():
                p.abs_()
    return net, torch.ones((1, *batch.inputs.shape[1:]), dtype=torch.float64, device=batch.inputs.device)


def zico_layer_sum(grads: torch.Tensor) -> torch.Tensor:
    """``sum(mean|g| / std(g))`` over the weights whose gradient varies, from ``grads`` (splits, ..., n): (...)."""
    std = grads.std(dim=0, unbiased=False)
    varying = std != 0
    ratio = grads.abs().mean(dim=0) / torch.where(varying, std, torch.ones_like(std))
    return torch.where(varying, ratio, torch.zeros_like(ratio)).sum(dim=-1)


@register_proxy("zico", uses_images=True)
def zico(model: nn.Module, batch: ProxyBatch, splits: int = 2) -> float:
    """ZiCo: per layer, ``log sum(mean|g| / std(g))`` of the weight gradients over mini-batches, summed.

    Li et al., "ZiCo: Zero-shot NAS via Inverse Coefficient of Variation on Gradients", ICLR
    2023. The batch is split into ``splits`` equal parts (the reference uses 2); ``mean`` and
    ``std`` (population) are taken over the parts' gradients, elementwise; weights whose
    gradient does not vary are skipped, and so is a layer whose sum is 0.
    """
    if batch.size < splits or splits < 2:
        raise ValueError(f"zico needs splits >= 2 and a batch of at least {splits} images, got {batch.size}")
    net = working_copy(model, batch)
    parts = torch.tensor_split(torch.arange(batch.size, device=batch.inputs.device), splits)
    per_layer: list[list[torch.Tensor]] = [[] for _ in scored_layers(net)]
    for idx in parts:
        net.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(net(batch.inputs[idx]), batch.targets[idx])
        loss.backward()
        for store, (_, g) in zip(per_layer, weight_grads(net), strict=True):
            store.append(g.flatten().double())
    if not per_layer:
        return 0.0
    total = torch.stack([zico_layer_sum(torch.stack(grads)) for grads in per_layer])
    # one device-to-host transfer for the whole network
    return float(torch.log(total[total != 0]).sum())
