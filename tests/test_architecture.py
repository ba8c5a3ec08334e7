"""The layout keeps its promises: the core never touches the terminal or ends the process.

The core is every module of the package except the command line (`cli.py`,
`__main__.py`) and the reporters (`report/`). It gets streams from the Environment
it is handed and returns exit statuses; `environment.py` is the one core module
that may name the process's streams, since capturing them is its job.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "backrooms_scan"
OUTSIDE_THE_CORE = {"cli.py", "__main__.py"}
STREAM_OWNER = "environment.py"

CALLS = {"print": "prints", "exit": "exits", "quit": "exits", "input": "reads the terminal",
         "breakpoint": "stops for a debugger"}
ATTRIBUTES = {
    ("sys", "exit"): "exits", ("os", "_exit"): "exits", ("os", "abort"): "exits",
    ("sys", "stdout"): "names a process stream", ("sys", "stderr"): "names a process stream",
    ("sys", "stdin"): "names a process stream", ("sys", "__stdout__"): "names a process stream",
    ("sys", "__stderr__"): "names a process stream", ("sys", "__stdin__"): "names a process stream",
}
STREAMS = {"stdout", "stderr", "stdin", "__stdout__", "__stderr__", "__stdin__"}
MODULES = {"click": "uses click", "rich": "uses rich (a Console writes to a terminal)"}
TERMINAL_FDS = (1, 2)


def core_modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py")
                  if path.relative_to(PACKAGE).parts[0] not in OUTSIDE_THE_CORE | {"report"})


def offences(source: str, name: str = "module.py") -> list[str]:
    """Each way `source` writes to a terminal or ends the process, as 'line: what'."""
    found = []
    for node in ast.walk(ast.parse(source)):
        for what in _node_offences(node, streams_allowed=name == STREAM_OWNER):
            found.append(f"{node.lineno}: {what}")
    return found


def _node_offences(node: ast.AST, streams_allowed: bool) -> list[str]:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CALLS:
        return [f"{node.func.id}() {CALLS[node.func.id]}"]
    if isinstance(node, ast.Call) and _dotted(node.func) == ("os", "write") and node.args \
            and isinstance(node.args[0], ast.Constant) and node.args[0].value in TERMINAL_FDS:
        return [f"os.write({node.args[0].value}) writes to a terminal"]
    if isinstance(node, ast.Attribute) and _dotted(node) in ATTRIBUTES:
        what = ATTRIBUTES[_dotted(node)]
        return [] if streams_allowed and what == "names a process stream" else [
            f"{'.'.join(_dotted(node))} {what}"]
    if isinstance(node, ast.Raise) and node.exc is not None and _raised_name(node.exc) == "SystemExit":
        return ["raise SystemExit exits"]
    if isinstance(node, ast.Import):
        return [f"import {alias.name} {MODULES[alias.name.split('.')[0]]}"
                for alias in node.names if alias.name.split(".")[0] in MODULES]
    if isinstance(node, ast.ImportFrom) and node.module:
        top = node.module.split(".")[0]
        if top in MODULES:
            return [f"from {node.module} import ... {MODULES[top]}"]
        imported = {alias.name for alias in node.names}
        if top == "sys" and imported & ({"exit"} | (set() if streams_allowed else STREAMS)):
            return [f"from sys import {', '.join(sorted(imported))} exits or names a stream"]
        if top == "os" and imported & {"_exit", "abort"}:
            return ["from os import _exit/abort exits"]
    return []


def _dotted(node: ast.AST) -> tuple[str, ...] | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id, node.attr
    return None


def _raised_name(exc: ast.AST) -> str | None:
    target = exc.func if isinstance(exc, ast.Call) else exc
    return target.id if isinstance(target, ast.Name) else None


def test_the_core_is_every_module_but_the_command_line_and_the_reporters():
    names = {str(path.relative_to(PACKAGE)) for path in core_modules()}
    assert {"walk.py", "scan.py", "commands.py", "tally.py", "formats/chatjson.py"} <= names
    assert not names & {"cli.py", "__main__.py", "report/table.py"}


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_core_module_writes_to_a_terminal_or_exits(path):
    assert offences(path.read_text(encoding="utf-8"), path.name) == []


@pytest.mark.parametrize(("source", "what"), [
    ("print('x')", "print() prints"),
    ("import sys\nsys.exit(2)", "sys.exit exits"),
    ("exit(1)", "exit() exits"),
    ("quit()", "quit() exits"),
    ("import os\nos._exit(3)", "os._exit exits"),
    ("raise SystemExit(2)", "raise SystemExit exits"),
    ("import sys\nsys.stderr.write('x')", "sys.stderr names a process stream"),
    ("import sys\nout = sys.stdout", "sys.stdout names a process stream"),
    ("import sys\ndata = sys.stdin.buffer.read()", "sys.stdin names a process stream"),
    ("from sys import stdout", "from sys import stdout exits or names a stream"),
    ("import os\nos.write(2, b'x')", "os.write(2) writes to a terminal"),
    ("import click\nclick.echo('x')", "import click uses click"),
    ("from rich.console import Console", "from rich.console import ... uses rich"),
])
def test_each_kind_of_terminal_use_is_caught(source, what):
    assert any(what in offence for offence in offences(source))


def test_the_environment_may_name_the_streams_but_not_exit():
    source = "import sys\nstream = sys.stdout\nsys.exit(1)"
    assert offences(source, STREAM_OWNER) == ["3: sys.exit exits"]


# --- ARCHITECTURE.md names only what exists, and every module ------------------------------

ARCHITECTURE = (PACKAGE.parent / "ARCHITECTURE.md").read_text(encoding="utf-8")
CODE_SPANS = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", ARCHITECTURE, flags=re.DOTALL))
FILE_NAME = re.compile(r"(?<![\w/.])((?:tests/|formats/|report/)?[\w]+\.py|(?:formats|report)/)(?![\w/])")


def named_files(text: str) -> set[str]:
    return {match.group(1) for match in FILE_NAME.finditer(text)}


def package_names() -> set[str]:
    """Every module-level name and class attribute (also as `Class.attr`) in the package."""
    names: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        dotted = ".".join(("backrooms_scan", *path.relative_to(PACKAGE).with_suffix("").parts))
        module = importlib.import_module(dotted.removesuffix(".__init__"))
        for name, value in vars(module).items():
            names.add(name)
            if isinstance(value, type):
                for attr in vars(value):
                    names.update((attr, f"{name}.{attr}"))
    return names


def test_every_file_architecture_names_exists():
    for name in named_files(ARCHITECTURE):
        assert (PACKAGE / name).exists() or (PACKAGE.parent / name).exists(), name


def test_architecture_names_every_module_of_the_package():
    top_level = {path.name for path in PACKAGE.glob("*.py")} | {"formats/", "report/"}
    assert top_level - {"__init__.py"} <= named_files(ARCHITECTURE)


def test_every_identifier_architecture_names_exists():
    names = package_names() | {"scan", "merge", "show"}  # commands
    identifiers = [span for span in CODE_SPANS if re.fullmatch(r"[A-Za-z_][\w.]*", span)
                   and not span.endswith(".py")]
    assert len(identifiers) > 20
    assert [span for span in identifiers if span not in names] == []
