"""Filters: substring-or-glob, invalid dates refused, and a notice when one selects nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from mock_environment import invoke

FIXTURES = Path(__file__).parent / "fixtures" / "cli"
TRANSCRIPT = str(FIXTURES / "conversation_1709632800_scenario_mini backrooms.txt")
PATTERNS = str(FIXTURES / "mini.yaml")
NOTHING = "backrooms-scan: no turn passed the filters; the report counts nothing\n"


def counts(*args: str, tty: bool = False) -> tuple[dict[str, int], str]:
    done = invoke("scan", TRANSCRIPT, "-p", PATTERNS, "--totals", *args, tty=tty,
                  environ={"CI": "1"})
    lines = done.stdout.splitlines()
    return {name: int(n) for name, n in (line.split("\t") for line in lines)}, done.stderr


def test_a_filter_without_wildcards_is_a_substring():
    opus, stderr = counts("--model", "claude-3-opus")
    assert opus == {"mini/mantra": 1, "mini/welfare": 0, "mini/capital-gate": 1}
    assert stderr == ""
    assert counts("--model", "OPUS")[0] == opus
    assert counts("--model", "*opus*")[0] == opus


def test_a_glob_must_match_the_whole_value():
    none, stderr = counts("--model", "claude-3-opus*2023")
    assert sum(none.values()) == 0
    assert stderr.startswith("backrooms-scan: --model 'claude-3-opus*2023' matches no model; ")


@pytest.mark.parametrize("tty", [False, True])
def test_a_filter_that_matches_nothing_names_what_there_is(tty):
    found, stderr = counts("--model", "claude-3-opuss", tty=tty)
    assert sum(found.values()) == 0
    assert stderr == (
        "backrooms-scan: --model 'claude-3-opuss' matches no model; did you mean "
        "'claude-3-opus-20240229'? (models seen: claude-3-opus-20240229, claude-3-sonnet-20240229)\n"
        + NOTHING)


def test_without_a_close_value_only_the_values_are_listed():
    _, stderr = counts("--speaker", "zzz")
    assert stderr == ("backrooms-scan: --speaker 'zzz' matches no speaker "
                      "(speakers seen: explorer, simulator)\n" + NOTHING)


def test_filters_that_match_apart_but_not_together_say_nothing_passed():
    _, stderr = counts("--model", "sonnet", "--speaker", "explorer")
    assert stderr == NOTHING


def test_dates_that_leave_nothing_say_so():
    assert counts("--since", "2030")[1] == NOTHING


@pytest.mark.parametrize(("value", "reason"), [
    ("2025-13", "month must be in 1..12"),
    ("2024-02-30", "day is out of range for month"),
    ("2023-02-29", "day is out of range for month"),
    ("2024-00", "month must be in 1..12"),
])
def test_invalid_dates_are_refused_with_exit_2(value, reason):
    for option in ("--since", "--until"):
        done = invoke("scan", TRANSCRIPT, "-p", PATTERNS, option, value)
        assert (done.status, done.stdout) == (2, "")
        assert done.stderr == f"backrooms-scan: {option} {value!r}: not a date ({reason})\n"


def test_a_leap_day_is_a_date():
    assert counts("--since", "2024-02-29")[0] == counts()[0]
