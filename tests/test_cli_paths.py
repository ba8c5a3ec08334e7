"""Paths are shown as given (relative stays relative), the sample by its shorter path, and
long paths in tables are shortened in the middle, never wrapped."""

from __future__ import annotations

import os
from pathlib import Path

from mock_environment import invoke

from backrooms_scan.cli import sample_dir
from backrooms_scan.report.human import shortened

FIXTURES = Path(__file__).parent / "fixtures" / "cli"


def test_a_relative_path_stays_relative(monkeypatch):
    monkeypatch.chdir(FIXTURES.parent.parent)
    done = invoke("scan", "fixtures/cli/../cli/overlapping_hits.txt", "--set",
                  "heart-sutra-mantra", "-f", "grep")
    lines = done.stdout.splitlines()
    assert lines and all(line.startswith("fixtures/cli/../cli/overlapping_hits.txt:")
                         for line in lines)


def test_the_sample_is_shown_by_its_shorter_path(monkeypatch, tmp_path):
    for where in (sample_dir().parent.parent, tmp_path):
        monkeypatch.chdir(where)
        absolute, relative = str(sample_dir()), os.path.relpath(sample_dir())
        shorter = min(absolute, relative, key=len)
        paths = {line.split(":")[0] for line in invoke("scan", "--sample", "-l").stdout.splitlines()}
        assert paths and all(path.startswith(shorter + os.sep) and Path(path).is_file()
                             for path in paths)
    monkeypatch.chdir(sample_dir().parent.parent)
    assert invoke("scan", "--sample", "-l").stdout.startswith("backrooms_scan/sample/")


def test_shortened_keeps_both_ends():
    assert shortened("abcdefghij", 10) == "abcdefghij"
    assert shortened("abcdefghijk", 7) == "abc…ijk"
    assert len(shortened("x" * 100, 31)) == 31


def test_long_paths_in_a_table_are_shortened_in_the_middle(tmp_path):
    deep = tmp_path.joinpath(*[f"folder-{n:02}" for n in range(8)])
    deep.mkdir(parents=True)
    transcript = deep / "a_rather_long_transcript_name.txt"
    transcript.write_text("### Claude 1 ###\nbodhi svaha\n\n### Claude 2 ###\nyes\n")
    done = invoke("scan", str(transcript), "--set", "heart-sutra-mantra", "--by", "file",
                  "--color", "never", tty=True, width=80, environ={"CI": "1"})
    lines = done.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    row = next(line for line in lines if line.startswith("│ ") and ".txt │" in line)
    assert row.startswith(f"│ {str(tmp_path)[:10]}") and "…" in row
    location = next(line for line in lines if "long_transcript_name.txt:2:1" in line)
    assert location.startswith(f"  {str(tmp_path)[:10]}") and "…" in location
