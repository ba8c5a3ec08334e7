"""The README documents every command and option, and CI runs the README's test command."""

import json
import os
import re
import shutil
import subprocess
import sys
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


# --- every README recipe, run ------------------------------------------------------------

FIXTURES = ROOT / "tests" / "fixtures" / "cli"
MINI = FIXTURES / "conversation_1709632800_scenario_mini backrooms.txt"
# The mini fixture, counted by hand: explorer (opus) recites the mantra twice, the second
# time a replay; simulator (sonnet) says "animal welfare" twice.
MINI_HITS_PER_MODEL = {"claude-3-opus-20240229": 2, "claude-3-sonnet-20240229": 2}


def readme_block(after: str, language: str) -> str:
    start = README.index(after)
    return re.search(rf"```{language}\n(.*?)\n```", README[start:], re.DOTALL).group(1)


def recipe_lines(block: str) -> list[str]:
    return [line for line in block.splitlines() if line and not line.startswith("#")]


@pytest.fixture
def shell(tmp_path):
    """Run a README line in bash in `tmp_path`, `backrooms-scan` being this checkout."""
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "backrooms-scan"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m backrooms_scan "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{bin_dir}:{os.environ['PATH']}"}

    def run(line: str, **substitutions: str) -> subprocess.CompletedProcess:
        for name, value in substitutions.items():
            line = line.replace(name, value)
        return subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    return run


@pytest.fixture
def dump(tmp_path):
    """dump/: the mini transcript, a file with notices, and a file that is skipped."""
    folder = tmp_path / "dump"
    folder.mkdir()
    shutil.copy(MINI, folder / MINI.name)
    (folder / "nul.txt").write_bytes(b"### Claude 1 ###\nhi\x00\n\n### Claude 2 ###\nho\x00\n")
    (folder / "config.json").write_text('{"temperature": 1}')
    return folder


def run_recipes(shell, dump) -> list[subprocess.CompletedProcess]:
    lines = recipe_lines(readme_block("Recipes (", "sh"))
    assert len(lines) == 3
    return [shell(line, DUMP=f"'{dump}' -p {FIXTURES / 'mini.yaml'}") for line in lines]


def test_readme_jq_recipes_agree_with_the_counts(shell, dump):
    per_model, per_pattern, notices = run_recipes(shell, dump)
    for done in (per_model, per_pattern, notices):
        assert done.returncode == 0, done.stderr
    counted = {model: int(n) for n, model in (line.split() for line in per_model.stdout.splitlines())}
    assert counted == MINI_HITS_PER_MODEL
    assert [json.loads(line) for line in per_pattern.stdout.splitlines()] == [
        {"pattern": "mantra", "hits": 1}, {"pattern": "welfare", "hits": 2},
        {"pattern": "capital-gate", "hits": 1}]
    assert notices.stdout.split() == ["1", "NUL", "bytes", "replaced", "with", "U+FFFD"]


def test_readme_python_recipe_agrees_with_the_counts(shell, dump, tmp_path):
    made = shell(f"backrooms-scan scan '{dump}' -p {FIXTURES / 'mini.yaml'} -f jsonl > hits.jsonl")
    assert made.returncode == 0, made.stderr
    (tmp_path / "recipe.py").write_text(readme_block("Recipes (", "python"))
    done = shell(f"{sys.executable} recipe.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("[(('claude-3-opus-20240229', 'capital-gate'), 1), "
                           "(('claude-3-opus-20240229', 'mantra'), 1), "
                           "(('claude-3-sonnet-20240229', 'welfare'), 2)]\n")
    assert sum(MINI_HITS_PER_MODEL.values()) == 4


def test_readme_ci_step_passes_on_a_clean_dump_and_trips_on_the_mantra(shell, tmp_path):
    step = re.search(r"- run: pip install \. && (.*)", README).group(1)
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "quiet.txt").write_text("### Claude 1 ###\nhello\n\n### Claude 2 ###\nhi\n")
    clean = shell(step)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")
    shutil.copy(MINI, tmp_path / "dump" / MINI.name)
    tripped = shell(step)
    assert tripped.returncode == 3
    assert tripped.stderr == ("backrooms-scan: --fail-if 'heart-sutra-mantra>0' tripped: "
                              "heart-sutra-mantra = 4\n")


def test_readme_shard_recipe_merges_into_the_full_run(shell, dump, tmp_path):
    loop, merge = recipe_lines(readme_block("--shard I/N` scans a deterministic", "sh"))
    (tmp_path / "dump").rename(tmp_path / "whole")
    shutil.copytree(tmp_path / "whole", tmp_path / "dump")
    assert shell(loop).returncode in (0, 1)  # the last shard may hold no hit
    assert sorted(p.name for p in tmp_path.glob("shard*.json")) == [
        f"shard{i}.json" for i in (1, 2, 3, 4)]
    merged = shell(merge)
    full = shell("backrooms-scan scan dump/ -f json --by model")
    assert merged.returncode == 0, merged.stderr
    drop = ("elapsed_seconds", "partial")
    summaries = [{k: v for k, v in json.loads(done.stdout).items() if k not in drop}
                 for done in (merged, full)]
    assert summaries[0] == summaries[1]
    assert summaries[0]["hits"] > 0
