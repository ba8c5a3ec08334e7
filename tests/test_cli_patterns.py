"""`patterns check` and pattern loading in a scan: every problem of every file, on stdout
for check, with exit 2; `--set` names any loaded set; a name clash names both files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mock_environment import invoke

TRANSCRIPT = str(Path(__file__).parent / "fixtures" / "cli" / "no_hits.txt")
ONE = 'name: one\npatterns:\n  - id: a\n    phrase: ""\n    colour: red\n'
TWO = "name: two\npatterns: []\nsourcs: [x]\n"
GOOD = "name: {name}\ndescription: fine\nsources: [tests]\npatterns:\n  - {phrase}\n"
PROBLEMS = [
    "bad/one.yaml:4:13: empty phrase",
    ("bad/one.yaml:5:5: unknown key 'colour' (known keys: id, phrases, phrase, word, exact, "
    "all_of, within, tags, languages, description)"),
    "bad/two.yaml:2:11: 'patterns' is empty",
    "bad/two.yaml:3:1: unknown key 'sourcs' (did you mean 'sources'?)",
]


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "one.yaml").write_text(ONE)
    (tmp_path / "bad" / "two.yaml").write_text(TWO)
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "mine.yaml").write_text(GOOD.format(name="mine", phrase="lantern"))
    (tmp_path / "good" / "more.yaml").write_text(GOOD.format(name="more", phrase="anyone"))
    return tmp_path


def test_check_reports_every_problem_of_every_file_of_a_directory_on_stdout(in_tmp):
    done = invoke("patterns", "check", "bad")
    assert (done.status, done.stdout, done.stderr) == (2, "\n".join(PROBLEMS) + "\n", "")


def test_check_takes_files_and_directories_and_says_when_all_are_valid(in_tmp):
    done = invoke("patterns", "check", "good", "good/mine.yaml")
    assert (done.status, done.stdout, done.stderr) == (0, "2 pattern path(s) OK\n", "")
    missing = invoke("patterns", "check", "good", "nope.yaml")
    assert (missing.status, missing.stdout) == (2, "nope.yaml: no such file or directory\n")


def test_a_scan_with_bad_pattern_files_reports_every_problem(in_tmp):
    done = invoke("scan", TRANSCRIPT, "-p", "bad")
    assert (done.status, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [f"backrooms-scan: {line}" for line in PROBLEMS]


def test_set_names_a_set_loaded_with_p_or_a_shipped_one(in_tmp):
    done = invoke("scan", TRANSCRIPT, "-p", "good", "--set", "mine", "--set", "heart-sutra-mantra",
                  "--totals")
    assert done.status == 0
    assert [line.split("/")[0] for line in done.stdout.splitlines()] == [
        "mine", "more", *["heart-sutra-mantra"] * 5]
    unknown = invoke("scan", TRANSCRIPT, "-p", "good", "--set", "mines")
    assert unknown.status == 2
    assert unknown.stderr == ("backrooms-scan: mines: no pattern set named 'mines' "
                              "(did you mean 'mine'? shipped: animal-welfare, bodhisattva-vow, "
                              "heart-sutra-mantra; from -p: mine, more)\n")


def test_a_name_clash_names_both_files(in_tmp):
    os.makedirs("other")
    Path("other/mine.yaml").write_text(GOOD.format(name="mine", phrase="hums"))
    done = invoke("scan", TRANSCRIPT, "-p", "good/mine.yaml", "-p", "other/mine.yaml")
    assert (done.status, done.stdout) == (2, "")
    assert done.stderr == ("backrooms-scan: other/mine.yaml: pattern set name 'mine' is already "
                           "used by good/mine.yaml\n")
