"""What every host adapter shares: a space's decisions as a host tool's categorical parameters.

Host tools take categorical choices of plain values (str, int, float, bool). A decision's
option that is not one of those (``None`` for an absent NB101 vertex, a tuple) is given to the
host as its ``str()``; :func:`arch_from_params` maps it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archrank.errors import InvalidArchitectureError, UnknownChoiceError
from archrank.spaces import SpaceLike, resolve_space

_PLAIN = (str, int, float, bool)


def _plain(option: Any) -> Any:
    return option if isinstance(option, _PLAIN) else str(option)


def host_options(space: SpaceLike) -> dict[str, list[Any]]:
    """Ordered ``decision name -> host values of its options`` (see the module docstring)."""
    sp = resolve_space(space)
    if not sp.has_decisions():
        raise TypeError(f"the {sp.name} space does not describe its decisions, so host tools cannot sample it")
    out: dict[str, list[Any]] = {}
    for name, options in sp.decisions.items():
        values = [_plain(o) for o in options]
        if len(set(map(repr, values))) < len(values):
            raise ValueError(f"decision {name!r} of the {sp.name} space has options that look alike as text: {options}")
        out[name] = values
    return out


def params_of(space: SpaceLike, arch: Any) -> dict[str, Any]:
    """The host parameters (decision -> host value) that stand for ``arch``."""
    sp = resolve_space(space)
    return {name: _plain(value) for name, value in sp.to_decisions(sp.ensure(arch)).items()}


def arch_from_params(space: SpaceLike, params: Mapping[str, Any], extra: str = "error") -> Any:
    """The architecture whose decisions are ``params`` (host values). ``extra="error"``: a parameter
    that is not a decision of the space is an error naming it; ``"ignore"``: it is left out (a host
    objective may also tune, say, a learning rate)."""
    sp = resolve_space(space)
    options = host_options(sp)
    unknown = [k for k in params if k not in options]
    if unknown and extra == "error":
        raise UnknownChoiceError(f"decision of the {sp.name} space (host parameter)", unknown[0], list(options))
    missing = [k for k in options if k not in params]
    if missing:
        raise InvalidArchitectureError(
            f"the host parameters lack decision(s) {missing} of the {sp.name} space (got {sorted(params)})"
        )
    decisions: dict[str, Any] = {}
    for name, values in options.items():
        value = params[name]
        matches = [i for i, v in enumerate(values) if v == value and type(v) is type(value)]
        if not matches:
            matches = [i for i, v in enumerate(values) if v == value]
        if not matches:
            raise UnknownChoiceError(f"option of decision {name!r} of the {sp.name} space", value, values)
        decisions[name] = sp.decisions[name][matches[0]]
    return sp.from_decisions(decisions)
