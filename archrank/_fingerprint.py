"""Fingerprints of user code, so that cached results computed by other code are not reused."""

from __future__ import annotations

import hashlib
import types
from typing import Any


def _code_bytes(code: types.CodeType) -> bytes:
    parts = [code.co_code, repr(code.co_names).encode(), repr(code.co_varnames).encode()]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            parts.append(_code_bytes(const))
        elif isinstance(const, frozenset):  # its repr's order follows string hashing, which varies by process
            parts.append(repr(sorted(map(repr, const))).encode())
        else:
            parts.append(repr(const).encode())
    return b"\0".join(parts)


def code_fingerprint(fn: Any) -> str:
    """12 hex digits identifying ``fn``'s qualified name and bytecode (nested functions included).

    A callable object without ``__code__`` is identified by its class's ``__call__``. Code that
    ``fn`` calls is not included: changing a helper leaves the fingerprint as it was.
    """
    target = fn if hasattr(fn, "__code__") else vars(type(fn)).get("__call__", fn)
    code = getattr(target, "__code__", None)
    name = f"{getattr(target, '__module__', '')}.{getattr(target, '__qualname__', type(fn).__qualname__)}"
    payload = name.encode() + b"\0" + (_code_bytes(code) if code is not None else b"")
    return hashlib.sha256(payload).hexdigest()[:12]
