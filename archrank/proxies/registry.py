"""The proxy registry: each proxy registers itself where it is defined, with its metadata.

``@register_proxy("snip", uses_images=True, from_grads=snip_of)`` above a one-network function
``fn(model, batch) -> float`` adds it; ``@register_stacked("snip", from_grads=...)`` above the
function that scores a stacked network (several architectures in one pass, see
:mod:`archrank.proxies.batched`) records that the proxy has a stacked form. ``PROXIES`` is a
read-only view of the registry, in registration order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import torch
from torch import nn

from archrank.errors import UnknownChoiceError
from archrank.proxies.inputs import ProxyBatch

ProxyFn = Callable[[nn.Module, ProxyBatch], float]
#: ``fn(stacked_network, batch) -> (K,) tensor`` of the K stacked networks' scores
StackedFn = Callable[[Any, ProxyBatch], torch.Tensor]


@dataclass(frozen=True)
class Proxy:
    """A zero-cost proxy: ``fn(model, batch) -> float``; a higher score predicts higher accuracy."""

    name: str
    fn: ProxyFn
    uses_images: bool  # False: data-free (params, flops, l2_norm, synflow, zen)
    # Set for proxies that are a function of the cross-entropy weight gradients, which the
    # runner then computes once per architecture: from_grads(cross_entropy_grads(model, batch)).
    from_grads: Callable[[Any], float] | None = None
    #: the stacked form (several networks in one pass), where one exists
    stacked: StackedFn | None = None
    #: the stacked form as a function of shared stacked cross-entropy gradients: (grads, K) -> (K,)
    stacked_from_grads: Callable[[Any, int], torch.Tensor] | None = None

    @property
    def has_stacked(self) -> bool:
        return self.stacked is not None


_REGISTRY: dict[str, Proxy] = {}
PROXIES: MappingProxyType[str, Proxy] = MappingProxyType(_REGISTRY)


def register_proxy(
    name: str, *, uses_images: bool, from_grads: Callable[[Any], float] | None = None
) -> Callable[[ProxyFn], ProxyFn]:
    """Decorator: register ``fn(model, batch) -> float`` as the proxy ``name`` (a name can be taken once)."""

    def add(fn: ProxyFn) -> ProxyFn:
        if name in _REGISTRY:
            raise ValueError(f"a proxy called {name!r} is already registered")
        _REGISTRY[name] = Proxy(name, fn, uses_images, from_grads)
        return fn

    return add


def register_stacked(
    name: str, from_grads: Callable[[Any, int], torch.Tensor] | None = None
) -> Callable[[StackedFn], StackedFn]:
    """Decorator: register the stacked form of the already registered proxy ``name``."""

    def add(fn: StackedFn) -> StackedFn:
        proxy = get(name)
        if proxy.stacked is not None:
            raise ValueError(f"the proxy {name!r} already has a stacked form")
        _REGISTRY[name] = dataclasses.replace(proxy, stacked=fn, stacked_from_grads=from_grads)
        return fn

    return add


def names() -> list[str]:
    """Names of every registered proxy, in registration order."""
    return list(_REGISTRY)


def stacked_names() -> list[str]:
    """Names of the proxies that have a stacked form."""
    return [n for n, p in _REGISTRY.items() if p.stacked is not None]


def get(name: str) -> Proxy:
    """The registered proxy ``name``; UnknownChoiceError lists the registered ones."""
    if name not in _REGISTRY:
        raise UnknownChoiceError("proxy", name, names())
    return _REGISTRY[name]
