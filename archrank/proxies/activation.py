"""Activation and input-Jacobian proxies: scores from how a network separates the inputs of one batch."""

from __future__ import annotations

import math

import torch
from torch import nn

from archrank.proxies._common import borrowed, working_copy
from archrank.proxies.inputs import ProxyBatch
from archrank.proxies.registry import register_proxy

JACOBIAN_EPS = 1e-5


def agreement_kernel(codes: torch.Tensor) -> torch.Tensor:
    """``K[i, j]`` = number of units on which rows ``i`` and ``j`` of the binary ``codes`` (..., B, D) agree; float64.

    One matrix product: agreements = both on + both off = ``2 c c^T - r_i - r_j + D`` with ``r`` the
    rows' counts of ones, the product's diagonal (instead of ``c c^T + (1 - c)(1 - c)^T``, two products). Counts stay
    exact (a float32 product of 0/1 values, then float64 sums) while ``D < 2**24``.
    """
    c = codes.float()
    both_on = (c @ c.mT).double()
    ones = both_on.diagonal(dim1=-2, dim2=-1)  # a row's count of ones is its agreement with itself when on
    return 2.0 * both_on - ones[..., :, None] - ones[..., None, :] + float(c.shape[-1])


@register_proxy("nwot", uses_images=True)
def nwot(model: nn.Module, batch: ProxyBatch) -> float:
    """NASWOT: ``log|det K|`` of the Hamming-similarity kernel of the batch's binary ReLU codes.

    Mellor et al., "Neural Architecture Search without Training", ICML 2021 (the published,
    second version). Every ``nn.ReLU`` contributes the code ``input > 0`` of each image;
    ``K[i, j]`` counts the units on which images ``i`` and ``j`` agree. Singular ``K`` (two
    images with identical codes) gives ``-inf``, the lowest score.
    """
    n = batch.size
    kernel = torch.zeros((n, n), dtype=torch.float64, device=batch.inputs.device)

    def accumulate(_module: nn.Module, inputs: tuple, _output: torch.Tensor) -> None:
        kernel.add_(agreement_kernel(inputs[0].detach().reshape(n, -1) > 0))

    with borrowed(model, batch) as net:  # one forward pass without gradients: no copy of the network needed
        handles = [m.register_forward_hook(accumulate) for m in net.modules() if isinstance(m, nn.ReLU)]
        try:
            with torch.no_grad():
                net(batch.inputs)
        finally:
            for handle in handles:
                handle.remove()
    return float(torch.linalg.slogdet(kernel).logabsdet)


def input_jacobians(model: nn.Module, batch: ProxyBatch) -> torch.Tensor:
    """Gradient of each image's summed logits with respect to its pixels: (B, 3*H*W), float64."""
    net = working_copy(model, batch)
    x = batch.inputs.clone().requires_grad_(True)
    out = net(x)
    (grad,) = torch.autograd.grad(out.sum(), x, allow_unused=True)
    if grad is None:
        grad = torch.zeros_like(x)
    return grad.reshape(batch.size, -1).double()


def _correlation(rows: torch.Tensor) -> torch.Tensor:
    """Pearson correlation between rows of (..., B, D): (..., B, B); a row with zero variance
    correlates 0 with every row, itself included."""
    centred = rows - rows.mean(dim=-1, keepdim=True)
    norm = centred.norm(dim=-1, keepdim=True)
    unit = torch.where(norm > 0, centred / norm.clamp_min(torch.finfo(rows.dtype).tiny), torch.zeros_like(centred))
    return unit @ unit.mT


def jacob_cov_of(jacobians: torch.Tensor) -> torch.Tensor:
    """The jacob_cov score of input Jacobians (..., B, D): a tensor of shape (...)."""
    eig = torch.linalg.eigvalsh(_correlation(jacobians))
    return -(torch.log(eig + JACOBIAN_EPS) + 1.0 / (eig + JACOBIAN_EPS)).sum(dim=-1)


@register_proxy("jacob_cov", uses_images=True)
def jacob_cov(model: nn.Module, batch: ProxyBatch) -> float:
    """Jacobian covariance: ``-sum(log(v + k) + 1/(v + k))`` over the eigenvalues ``v`` of the correlation
    matrix of the input Jacobians (``k = 1e-5``).

    Mellor et al., "Neural Architecture Search without Training", arXiv v1 (2020); as a proxy,
    Abdelfattah et al., ICLR 2021. If the output does not depend on an image (zero Jacobian
    row), that row's correlations are 0, so a network whose output ignores its input gets the
    lowest possible score, ``-B * (log k + 1/k)``, instead of NaN.
    """
    return float(jacob_cov_of(input_jacobians(model, batch)))


@register_proxy("epe_nas", uses_images=True)
def epe_nas(model: nn.Module, batch: ProxyBatch) -> float:
    """EPE-NAS: how differently the input Jacobians of each class correlate.

    Lopes et al., "EPE-NAS: Efficient Performance Estimation Without Training for Neural
    Architecture Search", ICANN 2021. Per class ``c`` present in the batch,
    ``s_c = sum log(|corr_c| + k)`` over the correlation matrix of that class's Jacobians
    (divided by its size when the dataset has more than 100 classes); the score is
    ``sum_{c, c'} |s_c - s_c'| / (number of classes present)``. A class with a single image has
    no correlation matrix and is left out, as in the reference. A network whose output ignores
    its input (all Jacobians zero) gets 0, the lowest possible score (the reference gives NaN).
    """
    jac = input_jacobians(model, batch)
    if not bool(jac.any()):
        return 0.0
    labels = batch.targets
    per_class = []
    for c in torch.unique(labels):
        rows = jac[labels == c]
        if rows.shape[0] < 2:
            continue
        s = torch.log(_correlation(rows).abs() + JACOBIAN_EPS).sum()
        per_class.append(s / rows.shape[0] if batch.num_classes > 100 else s)
    if not per_class:
        raise ValueError("epe_nas needs at least two images of one class in the batch")
    s = torch.stack(per_class)
    return float((s[:, None] - s[None, :]).abs().sum() / len(per_class))


@register_proxy("zen", uses_images=False)
def zen(model: nn.Module, batch: ProxyBatch, mixup_gamma: float = 1e-2) -> float:
    """Zen-score: ``log E||f(x) - f(x + gamma e)||_1 + sum log sqrt(mean running var)`` over BatchNorms.

    Lin et al., "Zen-NAS: A Zero-Shot NAS for High-Performance Image Recognition", ICCV 2021.
    As in the reference, weights are redrawn from N(0, 1) (BatchNorm: weight 1, bias 0), the
    inputs ``x`` and perturbations ``e`` are Gaussian noise of the batch's shape (the images are
    not used; seeded by the runner), BatchNorm uses batch statistics, and ``f`` is the
    pre-pooling feature map (``model.features`` when the model has it, else the output). A
    network whose features ignore the input scores ``-inf``.
    """
    net = working_copy(model, batch)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        features = getattr(net, "features", None)
        f = features if callable(features) else net
        x = torch.randn_like(batch.inputs)
        mixed = x + mixup_gamma * torch.randn_like(batch.inputs)
        out, out_mixed = f(x), f(mixed)
        diff = (out - out_mixed).abs().reshape(batch.size, -1).sum(dim=1).mean().double()
        variances = [
            m.running_var.double().mean()
            for m in net.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_var is not None
        ]
        log_bn = 0.5 * torch.log(torch.stack(variances)).sum() if variances else torch.zeros((), dtype=torch.float64)
        score = float(torch.log(diff) + log_bn.to(diff.device))  # one device-to-host transfer
    return -math.inf if math.isnan(score) and float(diff) <= 0 else score
