"""The README documents every command and option, and CI runs the README's test command."""

import re
from pathlib import Path

import click
import pytest

from backrooms_scan.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix}{name} ")


@pytest.mark.parametrize(("name", "command"), list(commands(main)))
def test_every_command_has_help_and_is_in_the_readme(name, command):
    assert command.help, f"{name} has no help text"
    assert f"backrooms-scan {name}" in README


@pytest.mark.parametrize("option", [
    opt for param in main.commands["scan"].params if isinstance(param, click.Option)
    for opt in param.opts if opt.startswith("--")
])
def test_every_scan_option_is_in_the_readme(option):
    assert option in README


def test_ci_runs_the_readme_test_command():
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.DOTALL)
    install_and_run, run_tests = blocks[0].strip(), blocks[1].strip()
    assert install_and_run == "pip install . && backrooms-scan scan --sample"
    assert run_tests in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
