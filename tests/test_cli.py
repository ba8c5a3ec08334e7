"""End-to-end: the command line on the sample corpus and on generated dumps."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from backrooms_scan.cli import main, sample_dir

ROOT = Path(__file__).resolve().parent.parent
PLANTED_PATTERNS = """\
name: planted
description: The phrases the benchmark generator plants
sources: ["benchmarks/generate_dump.py"]
patterns:
  - id: vow
    phrases: ["I vow to liberate all beings, without number"]
  - id: mantra
    phrases: ["gate gate paragate parasamgate bodhi svaha"]
  - id: animal-welfare
    phrases: ["animal welfare"]
  - id: factory-farming
    phrases: ["factory farming"]
"""
PATTERN_OF_KEY = {"vow": "vow", "mantra_diacritics": "mantra", "mantra_ascii": "mantra",
                  "animal_welfare": "animal-welfare", "factory_farming": "factory-farming"}


def run(*args: str, input: bytes | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def generator():
    spec = importlib.util.spec_from_file_location("generate_dump",
                                                  ROOT / "benchmarks" / "generate_dump.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
    """A generated mixed-format dump, its manifest (the truth) and a pattern file."""
    base = tmp_path_factory.mktemp("dump")
    manifest = generator().generate(base / "dump", 1.5, 7, manifest_out=base / "manifest.json")
    patterns = base / "planted.yaml"
    patterns.write_text(PLANTED_PATTERNS, encoding="utf-8")
    return base / "dump", manifest, patterns


def expected_hits(manifest: dict, roles: tuple[str, ...]) -> dict[str, int]:
    expected = dict.fromkeys(PATTERN_OF_KEY.values(), 0)
    for role in roles:
        for key, count in manifest["totals"][role].items():
            expected[PATTERN_OF_KEY[key]] += count
    return expected


def pattern_hits(summary: dict) -> dict[str, int]:
    return {row["pattern"]: row["hits"] for row in summary["patterns"]}


def json_summary(*args: str) -> dict:
    result = run("scan", *args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


# --- counts against the generator's truth ----------------------------------------------

def test_spoken_counts_equal_what_the_generator_planted(dump):
    path, manifest, patterns = dump
    summary = json_summary(str(path), "-p", str(patterns), "--count-replays")
    assert pattern_hits(summary) == expected_hits(manifest, ("spoken",))
    assert summary["turns"]["spoken"] == manifest["turns"]["spoken"]


def test_role_all_also_counts_prompt_text(dump):
    path, manifest, patterns = dump
    summary = json_summary(str(path), "-p", str(patterns), "--count-replays", "--role", "all")
    assert pattern_hits(summary) == expected_hits(manifest, ("spoken", "system", "context"))


def test_metadata_files_are_skipped_not_counted(dump):
    path, _, patterns = dump
    summary = json_summary(str(path), "-p", str(patterns))
    reasons = {s["reason"] for s in summary["skipped"]}
    assert reasons == {"not a transcript"}
    seen = summary["files_scanned"] + summary["files_skipped"]
    assert seen == sum(1 for p in path.rglob("*") if p.is_file())


def test_every_output_format_agrees_on_the_counts(dump):
    path, _, patterns = dump
    common = [str(path), "-p", str(patterns), "--count-replays"]
    summary = json_summary(*common)
    events = [json.loads(line) for line in run("scan", *common, "-f", "jsonl").stdout.splitlines()]
    rows = list(csv.DictReader(io.StringIO(run("scan", *common, "-f", "csv").stdout)))
    grep_lines = run("scan", *common, "-f", "grep").stdout.splitlines()
    counts = run("scan", *common, "-f", "csv", "--totals").stdout
    matches = [e["data"] for e in events if e["type"] == "match"]
    assert len(matches) == len(rows) == len(grep_lines) == summary["hits"] > 0
    assert events[-1]["type"] == "summary"
    assert pattern_hits(events[-1]["data"]) == pattern_hits(summary)
    per_pattern = {r["pattern"]: int(r["hits"]) for r in csv.DictReader(io.StringIO(counts))}
    assert per_pattern == pattern_hits(summary)


def test_jobs_do_not_change_the_result(dump):
    path, _, patterns = dump
    one = json_summary(str(path), "-p", str(patterns), "--jobs", "1", "--by", "file", "--hits")
    two = json_summary(str(path), "-p", str(patterns), "--jobs", "2", "--by", "file", "--hits")
    for summary in (one, two):
        summary.pop("elapsed_seconds")
    assert one == two


def test_jobs_keep_output_order_with_many_batches_and_large_files(dump, monkeypatch):
    from backrooms_scan import scan as scan_module

    path, _, patterns = dump
    args = ["scan", str(path), "-p", str(patterns), "--format", "jsonl"]
    one = run(*args, "--jobs", "1").stdout
    monkeypatch.setattr(scan_module, "BATCH_UNITS", 2)
    monkeypatch.setattr(scan_module, "BATCHES_IN_FLIGHT", 3)
    monkeypatch.setattr(scan_module, "LARGE_UNIT_BYTES", 40_000)  # some files stay in the main process
    two = without_elapsed(run(*args, "--jobs", "2").stdout)
    assert sum(e["type"] == "match" for e in two) > 0
    assert two == without_elapsed(one)


def without_elapsed(jsonl: str) -> list[dict]:
    events = [json.loads(line) for line in jsonl.splitlines()]
    for event in events:
        event["data"].pop("elapsed_seconds", None)
    return events


def test_merged_shards_equal_one_full_run(dump, tmp_path):
    path, _, patterns = dump
    by = ["--by", "model", "--by", "file", "--by", "conversation"]
    full = json_summary(str(path), "-p", str(patterns), *by)
    shard_files = []
    for index in (1, 2, 3):
        out = tmp_path / f"shard{index}.json"
        result = run("scan", str(path), "-p", str(patterns), "--shard", f"{index}/3",
                     "-f", "json", "-o", str(out))
        assert result.exit_code in (0, 1)
        shard_files.append(str(out))
    merged = run("merge", *shard_files, *by)
    assert merged.exit_code == 0, merged.output
    merged_summary = json.loads(merged.stdout)
    for summary in (full, merged_summary):
        summary.pop("elapsed_seconds")
        summary.pop("partial")
    assert merged_summary == full


def test_merge_refuses_an_incomplete_set_of_shards(dump, tmp_path):
    path, _, patterns = dump
    out = tmp_path / "shard1.json"
    run("scan", str(path), "-p", str(patterns), "--shard", "1/2", "-f", "json", "-o", str(out))
    result = CliRunner().invoke(main, ["merge", str(out)])
    assert result.exit_code == 2
    assert "need shards 1..2 once each, got [1]" in result.stderr


# --- the sample corpus and the machine formats ---------------------------------------

def test_sample_scan_finds_the_vow_and_the_mantra():
    result = run("scan", "--sample")
    assert result.exit_code == 0
    assert "bodhisattva-vow/" in result.stdout
    assert "heart-sutra-mantra/" in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal: no colour codes


def test_jsonl_match_events_carry_every_documented_field():
    result = run("scan", "--sample", "-f", "jsonl", "--set", "heart-sutra-mantra")
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "summary" and "begin" in kinds and "end" in kinds and "skip" in kinds
    match = next(e["data"] for e in events if e["type"] == "match"
                 and e["data"]["path"].endswith("vanilla backrooms.txt"))
    assert set(match) == {"path", "line", "column", "conversation", "turn", "speaker",
                          "speaker_inferred", "model", "scenario", "role", "timestamp", "set",
                          "pattern", "match", "before", "after", "replay", "relation"}
    source = Path(match["path"]).read_text(encoding="utf-8").splitlines()
    line = source[match["line"] - 1]
    assert line[match["column"] - 1 :].startswith(match["match"])
    assert match["role"] == "spoken" and match["model"] == "claude-3-opus-20240229"
    assert match["speaker_inferred"] is False
    assert events[-1]["data"]["schema_version"] == 1


def test_grep_lines_point_at_the_matched_text():
    result = run("scan", "--sample", "-f", "grep", "--set", "bodhisattva-vow")
    assert result.exit_code == 0
    for line in result.stdout.splitlines():
        path, line_no, _column, name, text = line.split(":", 4)
        if not path.endswith(".txt"):
            continue
        source_line = Path(path).read_text(encoding="utf-8").splitlines()[int(line_no) - 1]
        assert source_line == text
        assert name.startswith("bodhisattva-vow/")


def test_count_prints_only_per_pattern_totals():
    result = run("scan", "--sample", "--totals", "--set", "heart-sutra-mantra")
    lines = result.stdout.splitlines()
    assert lines and all(line.startswith("heart-sutra-mantra/") for line in lines)
    assert all(line.split("\t")[1].isdigit() for line in lines)


def test_quiet_prints_nothing_and_exit_status_tells():
    result = run("scan", "--sample", "-q")
    assert (result.exit_code, result.stdout) == (0, "")


# --- exit statuses -------------------------------------------------------------------

def test_no_hits_exits_1(tmp_path):
    quiet = tmp_path / "quiet.txt"
    quiet.write_text("### Claude 1 ###\nnothing to see\n\n### Claude 2 ###\nindeed\n")
    assert run("scan", str(quiet)).exit_code == 1


def test_missing_path_exits_2_and_names_it(tmp_path):
    result = CliRunner().invoke(main, ["scan", str(tmp_path / "nope"), "--sample"])
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope'}" in result.stderr


def test_tripped_threshold_exits_3_with_a_reason():
    result = CliRunner().invoke(main, ["scan", "--sample", "-q", "--fail-if",
                                       "heart-sutra-mantra>0"])
    assert result.exit_code == 3
    assert "--fail-if 'heart-sutra-mantra>0' tripped: heart-sutra-mantra = " in result.stderr


def test_bad_option_value_exits_2():
    result = CliRunner().invoke(main, ["scan", "--sample", "--shard", "3/2"])
    assert result.exit_code == 2
    assert "I must be between 1 and N" in result.stderr


def test_stdin_is_read_with_a_dash():
    text = b"### Claude 1 ###\nGate gate paragate parasamgate bodhi svaha\n"
    result = run("scan", "-", "--totals", "--set", "heart-sutra-mantra", input=text)
    assert result.exit_code == 0
    assert "heart-sutra-mantra/" in result.stdout


def test_output_file_is_written_whole(tmp_path):
    out = tmp_path / "report.json"
    result = run("scan", "--sample", "-f", "json", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text())["hits"] > 0
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_interrupt_prints_partial_counts_and_exits_130(monkeypatch):
    from backrooms_scan import commands

    real = commands.run_scan

    def interrupted(*args, **kwargs):
        for n, item in enumerate(real(*args, **kwargs)):
            if n == 2:
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(commands, "run_scan", interrupted)
    result = CliRunner().invoke(main, ["scan", "--sample", "--no-snippets"])
    assert result.exit_code == 130
    assert "PARTIAL (interrupted): 2 files scanned" in result.stdout
    assert "interrupted; the counts above are partial" in result.stderr


def test_broken_pipe_ends_quietly(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = (f"{sys.executable} -m backrooms_scan scan --sample -f jsonl --count-replays "
               "| head -1")
    done = subprocess.run(["bash", "-c", command], capture_output=True, env=env, timeout=60,
                          check=False)
    assert done.stdout.count(b"\n") == 1
    assert b"Traceback" not in done.stderr


def test_help_lists_every_command():
    result = run("--help")
    for command in ("scan", "merge", "patterns", "formats"):
        assert command in result.stdout


def test_sample_dir_is_inside_the_package():
    assert sample_dir().is_dir() and (sample_dir() / "exports.jsonl").exists()
