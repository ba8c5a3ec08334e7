"""Markdown transcripts with speaker headings: `## A (Sonnet)` under `**Model A:**` lines,
`### Turn 1: 🤖A Claude_A`; ordinary markdown is not one."""

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
from backrooms_scan.formats import markdown_chat
from backrooms_scan.model_names import canonical_model
from backrooms_scan.records import Role, SkipFile

FIXTURES = Path(__file__).parent / "fixtures" / "markdown_chat"
SPOKEN = Role.SPOKEN
LETTERS = "letters_conversation.md"
TURNS = "turns_claude_ab.md"
SONNET, OPUS = "claude-sonnet-4-20250514", "claude-opus-4-20250514"


def fixture_doc(name: str) -> Document:
    return Document.from_bytes(f"logs/{name}", (FIXTURES / name).read_bytes())


def detected_conversation(name: str):
    doc = fixture_doc(name)
    fmt = formats.detect(doc)
    assert fmt is not None and fmt.name == "markdown-chat"
    (conversation,) = fmt.load(doc)
    return conversation, doc


def turn_rows(conversation) -> list[tuple]:
    return [(t.speaker, t.role, t.model, t.line, t.column, t.text) for t in conversation.turns]


def test_banner_model_lines_give_each_lettered_speaker_its_model():
    conversation, doc = detected_conversation(LETTERS)
    assert turn_rows(conversation) == [
        ("A", SPOKEN, SONNET, 8, 1, "*settling into the space* Hello."),
        ("B", SPOKEN, OPUS, 11, 1, ("Hello. What finds you here?\n## My notes\n"
                                    "a heading inside B's turn, about consciousness")),
        ("A", SPOKEN, SONNET, 18, 1, "Consciousness, maybe. Or the letters."),
        ("B", SPOKEN, OPUS, 20, 1, "Then let us write one about consciousness."),
    ]
    assert (conversation.scenario, conversation.timestamp) == ("letters", "2025-12-25T16:35:48")
    assert {t.timestamp for t in conversation.turns} == {"2025-12-25T16:35:48"}
    assert doc.notices.items == []


def test_turn_numbered_headings_name_the_speaker_after_its_letter():
    conversation, doc = detected_conversation(TURNS)
    model = "claude-3-5-sonnet-20241022"
    assert turn_rows(conversation) == [
        ("Claude_A", SPOKEN, model, 6, 1, "Hi, I'm here."),
        ("Claude_B", SPOKEN, model, 9, 1, ("So am I. Shall we talk about consciousness?\n\n"
                                           "#### A thought\nnested headings stay turn text")),
        ("Claude_A", SPOKEN, model, 15, 1, "Yes."),
    ]
    assert doc.notices.items == []


def test_without_a_banner_the_heading_parenthesis_is_the_model_and_stray_text_is_reported():
    doc = Document.from_bytes("chat.md", b"Some intro.\n\n## A (Sonnet)\nhi\n## B (Opus)\nho\n"
                                         b"## A (Sonnet)\nhey\n## B (Opus)\nbye\n")
    (conversation,) = markdown_chat.load(doc)
    assert [(t.speaker, t.model, t.text) for t in conversation.turns] == [
        ("A", "Sonnet", "hi"), ("B", "Opus", "ho"), ("A", "Sonnet", "hey"), ("B", "Opus", "bye")]
    assert [(n.message, n.line) for n in doc.notices.items] == [
        ("text before the first turn is not part of any turn", 1)]


@pytest.mark.parametrize("text", [
    (FIXTURES / "README.md").read_text(encoding="utf-8"),
    "# Notes\n## A (Sonnet)\nquoted once\n## Other\ntext\n",
    "## Example (Python)\nx\n## Output (Python)\ny\n",
    "\n### Claude 1 ###\nhi\n### Claude 2 ###\nho\n### Claude 1 ###\nhey\n",
], ids=["readme", "one-quoted-heading", "two-named-sections", "fork-log"])
def test_ordinary_markdown_is_not_a_transcript(text):
    doc = Document.from_bytes("README.md", text.encode())
    assert markdown_chat.sniff(doc.name, doc.head_text()) == 0.0
    assert formats.detect(doc) is None or formats.detect(doc).name != "markdown-chat"


def test_a_document_without_alternating_speaker_headings_is_skipped_when_forced():
    with pytest.raises(SkipFile):
        list(markdown_chat.load(fixture_doc("README.md")))


def brute_force_segments(text: str) -> list[tuple[str, str]]:
    """(speaker, text) per turn: lines `## A (…)`/`## B (…)` or `### Turn N: 🤖X Claude_X`
    start turns; the header is what comes before the first; a closing `---` is no text."""
    segments: list[list] = []
    for line in text.split("\n"):
        lettered = re.fullmatch(r"## ([AB]) \(\w+\)", line)
        numbered = re.fullmatch(r"### Turn \d+: 🤖[AB] (Claude_[AB])", line)
        if lettered or numbered:
            segments.append([(lettered or numbered)[1], []])
        elif segments:
            segments[-1][1].append(line)
    return [(speaker, "\n".join(body).strip().removesuffix("---").strip())
            for speaker, body in segments]


@pytest.mark.parametrize(("name", "model_of"), [
    (LETTERS, {"A": SONNET, "B": OPUS}),
    (TURNS, {"Claude_A": "claude-3-5-sonnet-20241022", "Claude_B": "claude-3-5-sonnet-20241022"}),
])
def test_turns_and_hits_per_speaker_model_and_role_match_a_brute_force_reading(
        name, model_of, tmp_path):
    segments = brute_force_segments((FIXTURES / name).read_text(encoding="utf-8"))
    conversation, _ = detected_conversation(name)
    assert [(t.speaker, t.text) for t in conversation.turns] == segments
    assert [t.model for t in conversation.turns] == [model_of[s] for s, _ in segments]

    patterns = tmp_path / "c.yaml"
    patterns.write_text("name: c\npatterns:\n  - consciousness\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", str(FIXTURES / name), "-p", str(patterns),
                                       "--role", "all", "-f", "jsonl"], catch_exceptions=False)
    events = [json.loads(line) for line in result.stdout.splitlines()]
    hits = Counter((e["data"]["speaker"], e["data"]["model"], e["data"]["role"])
                   for e in events if e["type"] == "match")
    expected = Counter()
    for speaker, body in segments:
        expected[(speaker, canonical_model(model_of[speaker]), "spoken")] += (
            body.lower().count("consciousness"))
    assert hits == +expected and sum(hits.values()) > 0
    (end,) = [e["data"] for e in events if e["type"] == "end"]
    assert (end["format"], end["turns"]) == ("markdown-chat", {"spoken": len(segments)})


@pytest.mark.parametrize("line", [
    "## " + " " * 100_000 + "x",
    "**" + "a" * 100_000 + "**",
    "- " * 50_000,
    "### Turn 3:" + " " * 100_000,
], ids=["heading-spaces", "bold", "rule", "turn-prefix"])
def test_a_long_hostile_line_is_read_in_linear_time(line):
    data = f"**Model A:** m\n**Model B:** n\n{line}\n## A (S)\nhi\n## B (O)\nho\n## A (S)\nhey\n".encode()
    doc = Document.from_bytes("chat.md", data)
    started = time.perf_counter()
    markdown_chat.sniff(doc.name, doc.head_text())
    (conversation,) = markdown_chat.load(doc)
    assert time.perf_counter() - started < 1.0  # quadratic work on this line takes minutes
    assert [t.speaker for t in conversation.turns] == ["A", "B", "A"]
