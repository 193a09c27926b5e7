"""Data-free proxies: size, compute and weight norm of the network at initialisation."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from archrank.proxies._common import scored_layers, working_copy
from archrank.proxies.inputs import ProxyBatch
from archrank.proxies.registry import register_proxy


@register_proxy("params", uses_images=False)
def params(model: nn.Module, batch: ProxyBatch | None = None) -> float:
    """Number of trainable parameters, in millions (NAS-Bench convention). ``batch`` is unused."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6


@register_proxy("flops", uses_images=False)
def flops(model: nn.Module, batch: ProxyBatch) -> float:
    """Multiply-accumulates of one forward pass of a single image, in millions ("MFLOPs" as
    NAS-Bench-201 and most NAS papers count them).

    Counted by ``torch.utils.flop_counter.FlopCounterMode`` (convolutions and matrix products;
    BatchNorm, pooling and element-wise ops are not counted), halved to turn FLOPs into MACs.
    """
    net = working_copy(model, batch).eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        net(batch.inputs[:1])
    return counter.get_total_flops() / 2 / 1e6


@register_proxy("l2_norm", uses_images=False)
def l2_norm(model: nn.Module, batch: ProxyBatch | None = None) -> float:
    """Sum over Conv2d and Linear layers of the Frobenius norm of the weight at initialisation.

    Used as a baseline proxy in NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 D&B).
    ``batch`` is unused.
    """
    return float(sum(layer.weight.detach().norm() for layer in scored_layers(model)))
