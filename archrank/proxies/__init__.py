"""Zero-cost proxies: score untrained networks from one batch (or none) at initialisation.

``compute(archs, proxies, space=..., dataset=...)`` scores many architectures, cached and
resumable; the proxy functions (``synflow(model, batch)``, ...) score one ``nn.Module``;
``load_precomputed("nb201", "cifar10")`` gives the project's own table of every scored cell.
"""

from archrank.proxies import batched  # noqa: F401  (registers the stacked forms)
from archrank.proxies.activation import epe_nas, jacob_cov, nwot, zen
from archrank.proxies.cost import flops, l2_norm, params
from archrank.proxies.features import as_features
from archrank.proxies.inputs import DATASETS, ProxyBatch, input_batch
from archrank.proxies.precomputed import available as available_precomputed
from archrank.proxies.precomputed import load_precomputed
from archrank.proxies.registry import PROXIES, Proxy, get, names, register_proxy, register_stacked, stacked_names
from archrank.proxies.runner import DEFAULT_PROXIES, DEFINITIONS_VERSION, ProxyWarning, compute
from archrank.proxies.saliency import fisher, grad_norm, grasp, plain, snip, synflow, zico

__all__ = [
    "DATASETS",
    "DEFAULT_PROXIES",
    "DEFINITIONS_VERSION",
    "PROXIES",
    "Proxy",
    "ProxyBatch",
    "ProxyWarning",
    "as_features",
    "available_precomputed",
    "compute",
    "epe_nas",
    "fisher",
    "flops",
    "get",
    "grad_norm",
    "grasp",
    "input_batch",
    "jacob_cov",
    "l2_norm",
    "load_precomputed",
    "names",
    "nwot",
    "params",
    "plain",
    "register_proxy",
    "register_stacked",
    "snip",
    "stacked_names",
    "synflow",
    "zen",
    "zico",
]
