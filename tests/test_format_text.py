"""Plain text: stdin and named files that no format claims are one turn of an unknown speaker."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from backrooms_scan.cli import main
from backrooms_scan.decode import Document
from backrooms_scan.formats import text
from backrooms_scan.records import Role

FIXTURES = Path(__file__).parent / "fixtures"
NOTES = FIXTURES / "text" / "notes.txt"
MANTRA_START = re.compile(r"gate,? gate,? p[aā]ragate", re.IGNORECASE)


def scan(*args: str, input: bytes | None = None):
    return CliRunner().invoke(main, ["scan", *args, "--set", "heart-sutra-mantra"],
                              input=input, catch_exceptions=False)


def events(*args: str, input: bytes | None = None) -> list[dict]:
    result = scan(*args, "-f", "jsonl", input=input)
    return [json.loads(line) for line in result.stdout.splitlines()]


def of_type(found: list[dict], kind: str) -> list[dict]:
    return [event["data"] for event in found if event["type"] == kind]


def test_the_whole_text_is_one_spoken_turn_of_an_unknown_speaker():
    doc = Document.from_bytes("notes.txt", NOTES.read_bytes())
    (conversation,) = text.load(doc)
    lines = NOTES.read_text().split("\n")
    first = next(number for number, line in enumerate(lines, 1) if line.strip())
    assert (conversation.id, conversation.format) == ("notes.txt", "text")
    assert [(t.index, t.speaker, t.role, t.model, t.line, t.column, t.text, t.verbatim)
            for t in conversation.turns] == [
        (1, "(unknown)", Role.SPOKEN, None, first, 1, NOTES.read_text().strip(), True)
    ]
    assert [n.message for n in doc.notices.items] == [text.NOTICE]


def test_plain_text_on_stdin_is_searched():
    result = scan("-", "-f", "plain", "--no-snippets", input=b"gate gate paragate\n")
    assert result.exit_code == 0
    row = re.compile(r"^heart-sutra-mantra/gate-gate-paragate +1 +1 +1 ", re.MULTILINE)
    assert row.search(result.stdout)
    assert "-: no transcript format recognised: read as plain text" in result.stderr


def test_a_named_text_file_counts_every_hit_in_it_for_the_unknown_speaker():
    found = events(str(NOTES), "--by", "speaker")
    (summary,) = of_type(found, "summary")
    expected = len(MANTRA_START.findall(NOTES.read_text()))
    assert expected == 2
    assert [(m["speaker"], m["role"], m["pattern"]) for m in of_type(found, "match")
            if m["pattern"] == "gate-gate-paragate"] == [("(unknown)", "spoken",
                                                           "gate-gate-paragate")] * expected
    assert summary["formats"] == {"text": 1}
    assert summary["turns"] == {"spoken": 1, "system": 0, "context": 0}
    assert [(row["value"], row["turns"]) for row in summary["by"]["speaker"]] == [("(unknown)", 1)]


def test_files_found_by_walking_or_in_archives_are_still_skipped(tmp_path):
    shutil.copy(NOTES, tmp_path / "README.md")
    archive = tmp_path / "dump.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(NOTES, "inner/notes.txt")
    unknown = "not a recognised transcript format"
    found = events(str(tmp_path))
    assert of_type(found, "skip") == [
        {"path": str(tmp_path / "README.md"), "reason": unknown},
        {"path": f"{archive}!inner/notes.txt", "reason": unknown},
    ]
    assert of_type(found, "summary")[0]["files_scanned"] == 0
    named_archive = events(str(archive))
    assert of_type(named_archive, "skip") == [{"path": f"{archive}!inner/notes.txt",
                                               "reason": unknown}]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"  \n\n", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ((FIXTURES / "chatjson" / "metadata.json").read_bytes(), "not a transcript"),
    ],
    ids=["empty", "blank", "binary", "json-metadata"],
)
def test_named_files_that_are_not_text_keep_their_skip_reason(tmp_path, content, reason):
    path = tmp_path / "input"
    path.write_bytes(content)
    for args, stdin in (([str(path)], None), (["-"], content)):
        (skip,) = of_type(events(*args, input=stdin), "skip")
        assert skip["reason"] == reason


def test_input_format_text_reads_any_file_as_plain_text():
    chat = FIXTURES / "chatlines" / "chat.txt"
    (summary,) = of_type(events(str(chat), "--input-format", "text"), "summary")
    assert (summary["formats"], summary["turns"]["spoken"]) == ({"text": 1}, 1)
