"""Execute the notebooks in notebooks/, in place (refreshing their stored outputs) or with injected parameters.

Every notebook takes its sizes (seeds, training sizes, budgets, ...) from one code cell tagged
``parameters`` (papermill's convention) whose literal assignments are the full-size defaults.
``-p NAME=VALUE`` inserts a cell tagged ``injected-parameters`` after it that overrides them, as
papermill does; values are read with :func:`ast.literal_eval` (text that is no literal stays a
string) and must have the type of the default. Needs the ``notebooks`` extra
(``pip install -e ".[notebooks]"``). Usage::

    python scripts/run_notebooks.py [notebooks/name.ipynb ...]            # full size, outputs stored in place
    python scripts/run_notebooks.py notebooks/search_nb201.ipynb -p SEEDS=1 -p BUDGET=20 --out /tmp/nb

The test suite loads this file (``tests/test_notebooks.py``) and runs every notebook with small
parameters through :func:`execute`.
"""

from __future__ import annotations

import argparse
import ast
import copy
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

from archrank.errors import ArchrankError, UnknownChoiceError

ROOT = Path(__file__).resolve().parents[1]
PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
_ANY = object()  # the element type of an empty or mixed list default: anything goes


class NotebookParameterError(ArchrankError, TypeError):
    """A notebook parameter has the wrong type, is not a literal, or the parameters cell is malformed."""


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def parameters_cell(nb: Any, name: str = "notebook") -> int:
    """Index (in ``nb.cells``) of the one code cell tagged ``parameters``; an error if there is not exactly one."""
    found = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and PARAMETERS_TAG in _tags(c)]
    if len(found) != 1:
        raise NotebookParameterError(
            f"{name}: needs exactly one code cell tagged {PARAMETERS_TAG!r}, found {len(found)}"
        )
    return found[0]


def read_parameters(nb: Any, name: str = "notebook") -> dict[str, Any]:
    """The parameters of a notebook and their defaults: the literal ``NAME = value`` statements of its parameters cell.

    Other statements (imports, set-up) may share the cell, but none of them may read a parameter:
    the injected values arrive only after the cell has run."""
    source = nb.cells[parameters_cell(nb, name)].source
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise NotebookParameterError(f"{name}: the parameters cell does not parse: {err}") from err
    defaults: dict[str, Any] = {}
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if not isinstance(target, ast.Name) or value is None:
            continue
        try:
            defaults[target.id] = ast.literal_eval(value)
        except ValueError:
            continue  # a computed value (set-up), not a parameter
    if not defaults:
        raise NotebookParameterError(f"{name}: the parameters cell assigns no literal (NAME = value) parameter")
    read = sorted(
        {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} & set(defaults)
    )
    if read:
        raise NotebookParameterError(
            f"{name}: the parameters cell itself reads the parameter(s) {read}; an injected value would not reach "
            "that code: move it to a later cell"
        )
    return defaults


def _element_type(default: Sequence[Any]) -> Any:
    kinds = {type(v) for v in default}
    if len(kinds) == 1:
        return next(iter(default))
    if kinds == {int, float}:
        return 0.0
    return _ANY


def _describe(default: Any) -> str:
    """The type a parameter with this default takes, in words."""
    if default is None:
        return "any literal"
    if isinstance(default, float):
        return "int or float"
    if isinstance(default, list | tuple):
        element = _element_type(default)
        inner = "" if element is _ANY else f" of {_describe(element)}"
        return f"{type(default).__name__}{inner}"
    return type(default).__name__


def _accepts(default: Any, value: Any) -> bool:
    if default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, list | tuple):
        if type(value) is not type(default):
            return False
        element = _element_type(default)
        return element is _ANY or all(_accepts(element, v) for v in value)
    return type(value) is type(default)


def check_parameters(defaults: Mapping[str, Any], values: Mapping[str, Any], name: str = "notebook") -> None:
    """Raise if a name in ``values`` is no parameter, or a value's type does not fit the parameter's default.

    An int default takes an int (not a bool), a float an int or a float, a bool a bool, a str a
    str, a list (tuple) a list (tuple) whose elements fit those of the default, a dict a dict, a
    None default any literal."""
    for key, value in values.items():
        if key not in defaults:
            raise UnknownChoiceError(f"parameter of notebook {name}", key, sorted(defaults))
        if not _accepts(defaults[key], value):
            raise NotebookParameterError(
                f"notebook {name}: parameter {key!r} takes {_describe(defaults[key])} (default {defaults[key]!r}), "
                f"got {type(value).__name__} {value!r}"
            )
        try:
            same = ast.literal_eval(repr(value)) == value
        except (ValueError, SyntaxError):
            same = False
        if not same:
            raise NotebookParameterError(f"notebook {name}: parameter {key!r}: {value!r} is not a Python literal")


def inject_parameters(nb: Any, values: Mapping[str, Any], name: str = "notebook") -> Any:
    """A copy of ``nb`` with a cell tagged ``injected-parameters`` (``NAME = value`` lines) after its parameters cell.

    Values are checked first (:func:`check_parameters`); an injected cell already there is replaced."""
    check_parameters(read_parameters(nb, name), values, name)
    out = copy.deepcopy(nb)
    out.cells = [c for c in out.cells if INJECTED_TAG not in _tags(c)]
    if not values:
        return out
    source = "# Parameters\n" + "".join(f"{key} = {value!r}\n" for key, value in values.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [INJECTED_TAG]})
    out.cells.insert(parameters_cell(out, name) + 1, cell)
    return out


def execute(
    path: str | Path,
    parameters: Mapping[str, Any] | None = None,
    cwd: str | Path | None = None,
    timeout: int = 1800,
) -> Any:
    """Run the notebook at ``path`` top to bottom in a fresh ``python3`` kernel; the executed notebook (not written).

    ``parameters``: NAME -> value overrides of its parameters cell; ``cwd``: the kernel's working
    folder (default: the repository root); ``timeout``: seconds per cell."""
    path = Path(path)
    nb = inject_parameters(nbformat.read(path, as_version=4), dict(parameters or {}), path.name)
    folder = str(cwd if cwd is not None else ROOT)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": folder}}).execute()
    return nb


def printed(nb: Any) -> str:
    """Everything an executed notebook showed as text: streams and the plain-text form of results, in order."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.output_type == "stream":
                parts.append(out.text)
            elif out.output_type in ("execute_result", "display_data"):
                parts.append(out.get("data", {}).get("text/plain", "") + "\n")
    return "".join(parts)


def parse_assignment(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` -> (NAME, value): VALUE read by :func:`ast.literal_eval`, else kept as text."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise NotebookParameterError(f"-p takes NAME=VALUE, got {text!r}")
    try:
        return key, ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError):
        return key, raw.strip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help="notebooks to run (default: every notebooks/*.ipynb)")
    parser.add_argument(
        "-p", "--parameter", action="append", default=[], metavar="NAME=VALUE", help="set a parameter (repeatable)"
    )
    parser.add_argument("--out", type=Path, help="write executed notebooks to this folder instead of in place")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    args = parser.parse_args(argv)
    notebooks = [Path(p).resolve() for p in args.paths] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    try:
        values = dict(parse_assignment(p) for p in args.parameter)
        if values and args.out is None:
            raise NotebookParameterError("-p would store non-default outputs in the notebooks: give --out DIR")
        for path in notebooks:  # check every notebook's parameters before running any
            inject_parameters(nbformat.read(path, as_version=4), values, path.name)
    except (ArchrankError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in notebooks:
        nb = execute(path, values, timeout=args.timeout)
        target = path if args.out is None else args.out / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        print(f"executed {path.name} -> {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
