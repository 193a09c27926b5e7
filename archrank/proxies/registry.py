"""The table of proxies: name -> function, and whether it reads the input batch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

from torch import nn

from archrank.errors import UnknownChoiceError
from archrank.proxies import activation, cost, saliency
from archrank.proxies.inputs import ProxyBatch

ProxyFn = Callable[[nn.Module, ProxyBatch], float]


@dataclass(frozen=True)
class Proxy:
    """A zero-cost proxy: ``fn(model, batch) -> float``; a higher score predicts higher accuracy."""

    name: str
    fn: ProxyFn
    uses_images: bool  # False: data-free (params, flops, l2_norm, synflow, zen)
    # Set for proxies that are a function of the cross-entropy weight gradients, which the
    # runner then computes once per architecture: from_grads(cross_entropy_grads(model, batch)).
    from_grads: Callable[[saliency.WeightGrads], float] | None = None


PROXIES: MappingProxyType[str, Proxy] = MappingProxyType(
    {
        p.name: p
        for p in (
            Proxy("synflow", saliency.synflow, False),
            Proxy("jacob_cov", activation.jacob_cov, True),
            Proxy("grad_norm", saliency.grad_norm, True, saliency.grad_norm_of),
            Proxy("snip", saliency.snip, True, saliency.snip_of),
            Proxy("grasp", saliency.grasp, True),
            Proxy("fisher", saliency.fisher, True),
            Proxy("nwot", activation.nwot, True),
            Proxy("zen", activation.zen, False),
            Proxy("zico", saliency.zico, True),
            Proxy("epe_nas", activation.epe_nas, True),
            Proxy("plain", saliency.plain, True, saliency.plain_of),
            Proxy("l2_norm", cost.l2_norm, False),
            Proxy("params", cost.params, False),
            Proxy("flops", cost.flops, False),
        )
    }
)


def names() -> list[str]:
    """Names of every proxy, in the order of the DESIGN table."""
    return list(PROXIES)


def get(name: str) -> Proxy:
    if name not in PROXIES:
        raise UnknownChoiceError("proxy", name, names())
    return PROXIES[name]
