"""Skipped files and notices: counted by kind on a terminal, each one in pipes and in jsonl."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from mock_environment import invoke

TALK = "### Claude 1 ###\nhello there\n\n### Claude 2 ###\nthe lantern hums{}\n"
SKIPPED, NUL_FILES, BAD_UTF8_FILES = 500, 500, 500
NO_PROGRESS = {"CI": "true"}  # the progress line has its own tests


@pytest.fixture(scope="module")
def noisy_tree(tmp_path_factory):
    """500 files that are not transcripts and 1,000 transcripts with one notice each."""
    root = tmp_path_factory.mktemp("noisy")
    for n in range(SKIPPED):
        (root / f"meta_{n:04}.json").write_text(json.dumps({"temperature": 1, "seed": n}))
    for n in range(NUL_FILES):
        (root / f"nul_{n:04}.txt").write_bytes(TALK.format("\x00").encode())
    for n in range(BAD_UTF8_FILES):
        (root / f"utf8_{n:04}.txt").write_bytes(TALK.format("").encode() + b"caf\xe9\n")
    return root


def test_a_terminal_gets_one_line_per_kind_with_a_count_and_a_hint(noisy_tree):
    done = invoke("scan", str(noisy_tree), "-j", "2", tty=True, environ=NO_PROGRESS)
    assert done.status == 1
    assert done.stderr.splitlines() == [
        "backrooms-scan: 500 files skipped: not a transcript (--verbose lists them)",
        "backrooms-scan: 500 notices: NUL byte replaced with U+FFFD (--verbose lists them)",
        "backrooms-scan: 500 notices: invalid UTF-8 (--verbose lists them)",
    ]


def test_verbose_on_a_terminal_lists_every_one(noisy_tree):
    done = invoke("scan", str(noisy_tree), "-j", "2", "--verbose", tty=True, environ=NO_PROGRESS)
    lines = done.stderr.splitlines()
    assert len(lines) == SKIPPED + NUL_FILES + BAD_UTF8_FILES
    assert f"backrooms-scan: skipped {noisy_tree / 'meta_0000.json'}: not a transcript" in lines
    assert f"backrooms-scan: {noisy_tree / 'nul_0007.txt'}:5: 1 NUL byte replaced with U+FFFD" in lines


def test_piped_stderr_gets_a_line_for_each(noisy_tree):
    done = invoke("scan", str(noisy_tree), "-j", "2", "-f", "json")
    lines = done.stderr.splitlines()
    assert len(lines) == SKIPPED + NUL_FILES + BAD_UTF8_FILES
    assert sum("skipped" in line for line in lines) == SKIPPED


def test_jsonl_holds_every_notice_and_the_summary_counts_them_by_kind(noisy_tree):
    done = invoke("scan", str(noisy_tree), "-j", "2", "-f", "jsonl", tty=True, environ=NO_PROGRESS)
    events = [json.loads(line) for line in done.stdout.splitlines()]
    notices = [e["data"] for e in events if e["type"] == "notice"]
    assert Counter(e["type"] for e in events)["skip"] == SKIPPED
    assert len(notices) == NUL_FILES + BAD_UTF8_FILES
    assert notices[0] == {"path": str(noisy_tree / "nul_0000.txt"), "line": 5,
                          "kind": "NUL byte replaced with U+FFFD",
                          "message": "1 NUL byte replaced with U+FFFD"}
    first_bad = next(n for n in notices if n["kind"] == "invalid UTF-8")
    assert first_bad["path"] == str(noisy_tree / "utf8_0000.txt") and first_bad["line"] == 6
    summary = events[-1]["data"]
    assert summary["notices"] == {"NUL byte replaced with U+FFFD": NUL_FILES,
                                  "invalid UTF-8": BAD_UTF8_FILES}
    assert len(done.stderr.splitlines()) < 20


def test_a_kind_met_once_is_told_whole(tmp_path):
    (tmp_path / "config.json").write_text('{"temperature": 1}')
    (tmp_path / "a.txt").write_bytes(TALK.format("\x00\x00").encode())
    done = invoke("scan", str(tmp_path), tty=True, environ=NO_PROGRESS)
    assert done.stderr.splitlines() == [
        f"backrooms-scan: skipped {tmp_path / 'config.json'}: not a transcript",
        f"backrooms-scan: {tmp_path / 'a.txt'}:5: 2 NUL bytes replaced with U+FFFD",
    ]


def test_quiet_tells_only_errors(noisy_tree, tmp_path):
    done = invoke("scan", str(noisy_tree), str(tmp_path / "nope"), "-q", tty=True,
                  environ=NO_PROGRESS)
    assert done.stderr == f"backrooms-scan: {tmp_path / 'nope'}: no such file or directory\n"
