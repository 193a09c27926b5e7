"""The machine description every benchmark writes next to its figures."""

from __future__ import annotations

import platform
from pathlib import Path


def cpu_name() -> str:
    """CPU model from /proc/cpuinfo (Linux), else what platform reports."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
