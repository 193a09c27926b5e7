"""Adapters that put archrank's strategies and predictors inside other NAS/HPO tools.

Each adapter lives in its own module and imports its host library only there, so
``import archrank.integrations`` costs nothing and each host is an optional extra:

- :mod:`archrank.integrations.optuna` (``pip install archrank[optuna]``): ``ArchrankSampler``, ``suggest_arch``;
- :mod:`archrank.integrations.syne_tune` (``archrank[syne-tune]``): ``ArchrankSearcher``, ``config_space``;
- :mod:`archrank.integrations.ray_tune` (``archrank[ray]``): ``ArchrankSearcher``, ``param_space``.

All of them read only what a space describes (its decisions and their options), so they work
for the built-in spaces and for a user's own space alike.
"""

from archrank.integrations.common import arch_from_params, host_options, params_of

__all__ = ["arch_from_params", "host_options", "params_of"]
