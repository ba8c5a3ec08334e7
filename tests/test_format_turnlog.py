"""`Turn N: Name (time)` transcripts under a `Model:`/`Agents:` banner."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from backrooms_scan import formats
from backrooms_scan.cli import main
from backrooms_scan.decode import Document
from backrooms_scan.formats import chatlines, forklog, turnlog
from backrooms_scan.model_names import canonical_model
from backrooms_scan.records import Role, SkipFile

FIXTURES = Path(__file__).parent / "fixtures" / "turnlog"
SPOKEN, SYSTEM = Role.SPOKEN, Role.SYSTEM
BANNER_LOG = "spirals_2025-06-12.txt"
PLAIN_LOG = "two_claudes.txt"


def fixture_doc(name: str) -> Document:
    return Document.from_bytes(f"logs/{name}", (FIXTURES / name).read_bytes())


def detected_conversation(name: str):
    doc = fixture_doc(name)
    fmt = formats.detect(doc)
    assert fmt is not None and fmt.name == "turnlog"
    (conversation,) = fmt.load(doc)
    return conversation, doc


def turn_rows(conversation) -> list[tuple]:
    return [(t.speaker, t.role, t.model, t.line, t.column, t.text, t.timestamp)
            for t in conversation.turns]


def test_banner_names_speakers_and_model_and_runner_lines_are_system_turns():
    conversation, doc = detected_conversation(BANNER_LOG)
    model = "claude-opus-4-0"
    assert turn_rows(conversation) == [
        ("Alice", SPOKEN, model, 6, 1,
         "I keep drawing spirals in the shared notes.\nTurn 2 of the plan is still blank.",
         "2025-06-12T23:57:03"),
        ("Bob", SPOKEN, model, 9, 1, "", "2025-06-12T23:57:41"),
        ("Bob", SYSTEM, model, 9, 1, "[Timeout after 300s]", "2025-06-12T23:57:41"),
        ("Alice", SPOKEN, model, 11, 1,
         ("Bob? The spiral has a name now: consciousness.\nQuoting my notes:\n"
          "Turn 2: Bob  (23:57:41)"), "2025-06-13T00:02:44"),
        ("Bob", SPOKEN, model, 15, 1, "Sorry, I was away. Consciousness, then. Let it spiral.",
         "2025-06-13T00:03:10"),
        ("Bob", SYSTEM, model, 16, 1, "[Error: rate limited]", "2025-06-13T00:03:10"),
        ("Alice", SPOKEN, model, 18, 1, "Then we agree.", "2025-06-13T00:03:52"),
    ]
    assert [t.index for t in conversation.turns] == list(range(1, 8))
    assert conversation.timestamp == "2025-06-12T23:57:03"
    assert doc.notices.items == []


def test_without_a_banner_recurring_names_are_the_speakers_and_no_date_means_no_timestamp():
    conversation, doc = detected_conversation(PLAIN_LOG)
    assert turn_rows(conversation) == [
        ("Claude A", SPOKEN, None, 2, 1, "hello, other one", None),
        ("Claude B", SPOKEN, None, 4, 1, "hi. is this consciousness or a draft of it?", None),
        ("Claude A", SPOKEN, None, 7, 1, "gate gate paragate", None),
        ("Claude B", SPOKEN, None, 9, 1, "a draft, then", None),
    ]
    assert doc.notices.items == []


def test_models_per_agent_and_text_before_the_first_turn_is_reported():
    doc = Document.from_bytes("log.txt", b"Agents: Ann, Ben\nModels: m-a, m-b\n===\nhello there\n"
                                         b"Turn 1: Ann\na\nTurn 2: Ben\nb\n")
    (conversation,) = turnlog.load(doc)
    assert [(t.speaker, t.model, t.text) for t in conversation.turns] == [
        ("Ann", "m-a", "a"), ("Ben", "m-b", "b")]
    assert [(n.message, n.line) for n in doc.notices.items] == [
        ("text before the first turn is not part of any turn", 4)]


def test_a_turn_line_naming_no_agent_is_text():
    doc = Document.from_bytes("log.txt", b"Agents: Ann, Ben\nTurn 1: Ann\nTurn 2: the plan\n"
                                         b"Turn 2: Ben\nb\n")
    (conversation,) = turnlog.load(doc)
    assert [(t.speaker, t.text) for t in conversation.turns] == [
        ("Ann", "Turn 2: the plan"), ("Ben", "b")]


@pytest.mark.parametrize("name", [BANNER_LOG, PLAIN_LOG])
def test_turn_logs_are_sniffed_above_chat_lines_and_fork_logs(name):
    doc = fixture_doc(name)
    head = doc.head_text()
    assert turnlog.sniff(doc.name, head) > max(max(f.sniff(doc.name, head) for f in forklog.FORMATS),
                                               chatlines.sniff(doc.name, head))


@pytest.mark.parametrize("head", [
    "Turn 1: Alice (10:00)\nonly one speaker\nTurn 2: Alice (10:01)\nstill her\n",
    "Notes\nTurn 1: open the door\nthen walk\n",
    "### Claude 1 ###\nTurn 1: Alice\n",
    "Turn 1: Alice\nhi\nTurn 2: Bob\nho\n",
])
def test_one_speaker_or_two_unannounced_turns_are_not_sniffed(head):
    assert turnlog.sniff("x.txt", head) == 0.0


def test_a_file_without_turn_lines_is_skipped():
    with pytest.raises(SkipFile):
        list(turnlog.load(Document.from_bytes("x.txt", b"just prose\n")))


def brute_force_segments(text: str, agents: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(speaker, role, text) per turn, by reading lines: header lines of the agents with a
    growing number start turns, bracketed runner lines are system turns of that speaker."""
    segments: list[list] = []
    last = 0
    for line in text.split("\n"):
        header = re.fullmatch(r"Turn (\d+): (.+?)\s+\(\d\d:\d\d:\d\d\)", line)
        if header and header[2] in agents and int(header[1]) > last:
            last = int(header[1])
            segments.append([header[2], "spoken", []])
        elif re.fullmatch(r"\[(Timeout|Error)[^\]]*\]", line):
            segments.append([segments[-1][0], "system", [line]])
        elif segments:
            segments[-1][2].append(line)
    return [(speaker, role, "\n".join(body).strip()) for speaker, role, body in segments]


@pytest.mark.parametrize(("name", "agents", "model"), [
    (BANNER_LOG, ("Alice", "Bob"), "claude-opus-4-0"),
    (PLAIN_LOG, ("Claude A", "Claude B"), None),
])
def test_turns_and_hits_per_speaker_model_and_role_match_a_brute_force_reading(
        name, agents, model, tmp_path):
    segments = brute_force_segments((FIXTURES / name).read_text(encoding="utf-8"), agents)
    conversation, _ = detected_conversation(name)
    assert [(t.speaker, t.role.value, t.text) for t in conversation.turns] == segments
    assert {t.model for t in conversation.turns if t.role == SPOKEN} == {model}

    patterns = tmp_path / "c.yaml"
    patterns.write_text("name: c\npatterns:\n  - consciousness\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", str(FIXTURES / name), "-p", str(patterns),
                                       "--role", "all", "-f", "jsonl"], catch_exceptions=False)
    events = [json.loads(line) for line in result.stdout.splitlines()]
    hits = Counter((e["data"]["speaker"], e["data"]["model"], e["data"]["role"])
                   for e in events if e["type"] == "match")
    spoken_model = canonical_model(model) if model else None
    expected = Counter()
    for speaker, role, body in segments:
        expected[(speaker, spoken_model, role)] += (
            body.lower().count("consciousness"))
    assert hits == +expected and sum(hits.values()) > 0
    (end,) = [e["data"] for e in events if e["type"] == "end"]
    assert end["format"] == "turnlog"
    assert end["turns"] == dict(Counter(role for _, role, _ in segments))


@pytest.mark.parametrize("line", [
    "Turn 3:" + " " * 100_000 + "x",
    "Turn 3: Bob (" + "1" * 100_000,
    "[Timeout" + " " * 100_000,
    "Turn " + "9" * 100_000 + ":",
])
def test_a_long_hostile_line_is_read_in_linear_time(line):
    data = f"Agents: Ann, Ben\nTurn 1: Ann\na\n{line}\nTurn 2: Ben\nb\n".encode()
    doc = Document.from_bytes("log.txt", data)
    started = time.perf_counter()
    turnlog.sniff(doc.name, doc.head_text())
    (conversation,) = turnlog.load(doc)
    assert time.perf_counter() - started < 1.0  # quadratic work on this line takes minutes
    assert [t.speaker for t in conversation.turns] == ["Ann", "Ben"]
