"""Helpers every benchmark shares: the machine description and RESULTS.md section updates."""

from __future__ import annotations

import json
import os
import platform
import re
from datetime import date
from pathlib import Path
from typing import Any


def cpu_name() -> str:
    """CPU model from /proc/cpuinfo (Linux), else what platform reports."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> str:
    """CPU model, core count, GPU (if any), Python and torch versions, in one line."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU (CPU run)"
    return f"{cpu_name()}, {os.cpu_count()} cores, {gpu}, Python {platform.python_version()}, torch {torch.__version__}"


def write_results(name: str, payload: dict[str, Any], **json_options: Any) -> Path:
    """Write ``payload`` to benchmarks/results/``name`` as JSON, stamped first with today's date and :func:`machine`."""
    path = Path(__file__).parent / "results" / name
    path.write_text(
        json.dumps({"date": date.today().isoformat(), "machine": machine(), **payload}, indent=1, **json_options)
    )
    return path


def replace_section(name: str, body: str) -> None:
    """Replace the ``<!-- name:start -->`` ... ``<!-- name:end -->`` block of RESULTS.md (append if absent)."""
    path = Path(__file__).parent / "RESULTS.md"
    text = path.read_text()
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
