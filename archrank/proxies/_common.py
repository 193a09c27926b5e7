"""Helpers shared by the proxy functions: private model copies and the layers scored."""

from __future__ import annotations

import contextlib
import copy
import itertools
from collections.abc import Iterator

import torch
from torch import nn

from archrank.proxies.inputs import ProxyBatch

SCORED_LAYERS = (nn.Conv2d, nn.Linear)


def working_copy(model: nn.Module, batch: ProxyBatch | None = None) -> nn.Module:
    """A deep copy of ``model`` in training mode with no gradients, on the batch's device.

    Every proxy scores such a copy, so the caller's model is never modified.
    """
    net = copy.deepcopy(model)
    if batch is not None:
        net = net.to(batch.inputs.device)
    net.train()
    net.zero_grad(set_to_none=True)
    return net


@contextlib.contextmanager
def borrowed(model: nn.Module, batch: ProxyBatch) -> Iterator[nn.Module]:
    """``model`` itself in training mode, for proxies that only run forward passes without gradients.

    Its buffers (BatchNorm running statistics) and every module's train/eval mode are restored on
    exit, so the caller's model ends as it was; the outputs equal a copy's (training-mode
    BatchNorm normalises with the batch's statistics). Saves the deep copy of
    :func:`working_copy` (tens of milliseconds for an NB201 network). A model that is not on the
    batch's device gets a working copy there instead.
    """
    device = batch.inputs.device
    if any(t.device != device for t in itertools.chain(model.parameters(), model.buffers())):
        yield working_copy(model, batch)
        return
    modes = [(m, m.training) for m in model.modules()]
    saved = [(b, b.clone()) for b in model.buffers()]
    model.train()
    try:
        yield model
    finally:
        with torch.no_grad():
            for buffer, value in saved:
                buffer.copy_(value)
        for module, mode in modes:
            module.training = mode


def scored_layers(net: nn.Module) -> list[nn.Module]:
    """The Conv2d and Linear layers, whose weights the saliency proxies score (as zero-cost-nas)."""
    return [m for m in net.modules() if isinstance(m, SCORED_LAYERS)]


def weight_grads(net: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``(weight, grad)`` for every scored layer; a layer the loss does not reach has a zero gradient."""
    out = []
    for layer in scored_layers(net):
        grad = layer.weight.grad if layer.weight.grad is not None else torch.zeros_like(layer.weight)
        out.append((layer.weight.detach(), grad.detach()))
    return out


def cross_entropy_backward(net: nn.Module, batch: ProxyBatch) -> None:
    """One forward pass of the batch and a backward pass of the mean cross-entropy loss."""
    loss = nn.functional.cross_entropy(net(batch.inputs), batch.targets)
    loss.backward()


def without_batchnorm(net: nn.Module) -> nn.Module:
    """``net`` with every BatchNorm layer replaced by an identity (in place)."""
    for name, child in net.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(net, name, nn.Identity())
        else:
            without_batchnorm(child)
    return net
