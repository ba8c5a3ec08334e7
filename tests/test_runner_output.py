"""The runner's own words (errors, status, image notices, search echoes) are system turns:
counted, searchable with --role, never counted as spoken."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from backrooms_scan.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
CHAT_LOG = FIXTURES / "chatlines" / "runner_errors.txt"
EXPORT = FIXTURES / "multiagent_html" / "conversation_full_runner_output.html"
PHRASE = re.compile(r"gate,? gate,? paragate", re.IGNORECASE)


def chat_log_lines_by_speaker_and_role() -> list[tuple[str, str, str]]:
    """(speaker, role, line) for every line: `Name: ` opens a turn, other lines continue it."""
    rows, speaker = [], None
    for line in CHAT_LOG.read_text().splitlines():
        opened = re.match(r"(\w+): (.*)", line)
        if opened:
            speaker, line = opened.groups()
        rows.append((speaker, "system" if speaker == "Error" else "spoken", line))
    return rows


def export_lines_by_speaker_and_role() -> list[tuple[str, str, str]]:
    page = EXPORT.read_text()
    boxes = re.findall(r'<div class="message ([\w-]+)">(.*?)<div class="content">(.*?)</div>',
                       page, re.DOTALL)
    rows = []
    for kind, header, content in boxes:
        speaker = re.search(r'class="header">(\S+)', header)
        speaker = speaker.group(1) if speaker else "System"
        lines = html.unescape(content).split("<br>")
        echo = kind == "user" and lines[0].startswith("Search results")
        for line in lines:
            runner = echo or kind == "agent-notification" or line.startswith(
                ("Error:", "HTTP ", "Status:", "["))
            role = "system" if runner else "context" if kind == "user" else "spoken"
            rows.append((speaker, role, line))
    return rows


def hits_by_speaker_and_role(path: Path, role: str) -> Counter:
    result = CliRunner().invoke(main, ["scan", str(path), "--set", "heart-sutra-mantra",
                                       "--role", role, "-f", "jsonl"], catch_exceptions=False)
    matches = [json.loads(line)["data"] for line in result.stdout.splitlines()
               if json.loads(line)["type"] == "match"]
    return Counter((m["speaker"], m["role"]) for m in matches
                   if m["pattern"] == "gate-gate-paragate" and not m["replay"])


@pytest.mark.parametrize(
    ("path", "reading"),
    [(CHAT_LOG, chat_log_lines_by_speaker_and_role),
     (EXPORT, export_lines_by_speaker_and_role)],
    ids=["chatlines", "multiagent-html"],
)
@pytest.mark.parametrize("role", ["spoken", "system", "all"])
def test_hits_per_speaker_and_role_equal_a_line_by_line_reading(path, reading, role):
    expected = Counter()
    for speaker, line_role, line in reading():
        if role in ("all", line_role):
            expected[(speaker, line_role)] += len(PHRASE.findall(line))
    assert hits_by_speaker_and_role(path, role) == +expected
    assert sum(expected.values()) > 0


def test_turns_per_role_in_the_summary():
    result = CliRunner().invoke(main, ["scan", str(CHAT_LOG), str(EXPORT), "-f", "json",
                                       "--set", "heart-sutra-mantra"], catch_exceptions=False)
    summary = json.loads(result.stdout)
    assert summary["turns"] == {"spoken": 6 + 3, "system": 3 + 6, "context": 1}
