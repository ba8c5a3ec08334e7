"""ripgrep's habits: --json, -c/--count-matches/-l, --color, a bare path, did-you-mean;
and options that would do nothing in a format are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mock_environment import invoke

FIXTURES = Path(__file__).parent / "fixtures" / "cli"
TRANSCRIPT = str(FIXTURES / "conversation_1709632800_scenario_mini backrooms.txt")
OVERLAPS = str(FIXTURES / "overlapping_hits.txt")
QUIET = str(FIXTURES / "no_hits.txt")
PATTERNS = str(FIXTURES / "mini.yaml")
SCAN = ("scan", TRANSCRIPT, QUIET, "-p", PATTERNS, "-j", "1")


def without_timing(jsonl: str) -> list[dict]:
    events = [json.loads(line) for line in jsonl.splitlines()]
    for event in events:
        event["data"].pop("elapsed_seconds", None)
    return events


def test_json_is_jsonl():
    assert without_timing(invoke(*SCAN, "--json").stdout) == \
        without_timing(invoke(*SCAN, "-f", "jsonl").stdout)


@pytest.mark.parametrize("tty", [False, True])
def test_count_gives_turns_with_hits_per_file_and_leaves_out_files_without(tty):
    done = invoke(*SCAN, "-c", tty=tty, environ={"CI": "1"})
    # 3 spoken turns: the mantra (replayed at line 21, not counted), the welfare turn
    assert (done.status, done.stdout) == (0, f"{TRANSCRIPT}:2\n")


def test_count_matches_gives_hits_per_file():
    assert invoke(*SCAN, "--count-matches").stdout == f"{TRANSCRIPT}:4\n"
    assert invoke(*SCAN, "--count-matches", "--count-replays").stdout == f"{TRANSCRIPT}:5\n"
    assert invoke(*SCAN, "--count", "--count-replays").stdout == f"{TRANSCRIPT}:3\n"


def test_files_with_matches_names_them():
    overlaps = invoke("scan", TRANSCRIPT, QUIET, OVERLAPS, "--set", "heart-sutra-mantra", "-l")
    assert overlaps.stdout == f"{TRANSCRIPT}\n{OVERLAPS}\n"
    assert invoke(*SCAN, "-l").stdout == f"{TRANSCRIPT}\n"


def test_per_file_counts_in_csv_have_a_header():
    assert invoke(*SCAN, "-c", "-f", "csv").stdout == f"path,turns_with_hits\n{TRANSCRIPT},2\n"
    assert invoke(*SCAN, "-l", "-f", "csv").stdout == f"path\n{TRANSCRIPT}\n"


def test_no_color_keeps_the_table_on_a_terminal_without_colour():
    done = invoke(*SCAN, "--no-snippets", tty=True, environ={"NO_COLOR": "1", "CI": "1"})
    assert done.stdout.startswith("Pattern hits") and "┃ set / pattern" in done.stdout
    assert "\x1b[" not in done.stdout


def test_force_color_and_color_always_colour_a_piped_table():
    for environ, args in (({"FORCE_COLOR": "1"}, ()), ({}, ("--color", "always"))):
        done = invoke(*SCAN, "-f", "table", *args, environ=environ)
        assert "\x1b[" in done.stdout


def test_color_never_wins_on_a_terminal():
    done = invoke(*SCAN, "--color", "never", tty=True, environ={"FORCE_COLOR": "1", "CI": "1"})
    assert "┃ set / pattern" in done.stdout and "\x1b[" not in done.stdout


def test_a_bare_path_is_a_scan():
    assert invoke(TRANSCRIPT, "-p", PATTERNS, "--totals").stdout == \
        invoke("scan", TRANSCRIPT, "-p", PATTERNS, "--totals").stdout
    assert invoke("-", "-p", PATTERNS, "--totals", stdin=b"### Claude 1 ###\nGate\n").stdout \
        == "mini/mantra\t0\nmini/welfare\t0\nmini/capital-gate\t1\n"


@pytest.mark.parametrize(("typo", "suggestion"), [
    ("--colour", "--color"), ("--jsno", "--json"), ("--count-match", "--count-matches"),
    ("--file-with-matches", "--files-with-matches")])
def test_did_you_mean_suggests_the_option_meant(typo, suggestion):
    done = invoke("scan", TRANSCRIPT, typo)
    assert done.status == 2
    error = done.stderr.splitlines()[-1]
    assert error.startswith((f"Error: No such option: {typo}", f"Error: No such option '{typo}'"))
    assert f"'{suggestion}'" in error or f"{suggestion}?" in error


@pytest.mark.parametrize(("args", "message"), [
    (("--hits",), "--hits adds hits to -f json only; -f plain shows snippets: try -f json --hits"),
    (("--hits", "-f", "jsonl"), "--hits adds hits to -f json only; -f jsonl lists every hit already"),
    (("--chart", "-f", "csv"),
     "--chart draws in -f table or plain, without --totals, -c, --count-matches or -l"),
    (("--chart", "--totals"),
     "--chart draws in -f table or plain, without --totals, -c, --count-matches or -l"),
    (("--by", "model", "-f", "csv"),
     "--by has no effect with -f csv: breakdowns are in table, plain, json, jsonl and html reports"),
    (("--by", "model", "--totals"),
     "--by has no effect with --totals: breakdowns are in table, plain, json, jsonl and html reports"),
    (("-c", "-f", "json"), ("-c/--count prints lines per file, not -f json (whose summary and end "
                           "events carry per-file counts: try --by file)")),
    (("-l", "--totals"), "-l/--files-with-matches and --totals are alternatives; give one"),
    (("--json", "-f", "csv"), "--json is -f jsonl; it cannot be combined with -f csv"),
])
def test_options_that_would_do_nothing_are_refused_with_a_reason(args, message):
    done = invoke(*SCAN, *args)
    assert (done.status, done.stdout, done.stderr) == (2, "", f"backrooms-scan: {message}\n")
