"""Which format reads a file: sniffers score, `formats.detect` alone decides."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from backrooms_scan import formats
from backrooms_scan.cli import main
from backrooms_scan.decode import Document

FIXTURES = Path(__file__).parent / "fixtures"
SNIFF = FIXTURES / "sniff"
COPYRIGHT_TREE = SNIFF / "copyright_tree"


def fixture_doc(path: Path) -> Document:
    return Document.from_bytes(str(path), path.read_bytes())


def detected(path: Path) -> str | None:
    fmt = formats.detect(fixture_doc(path))
    return None if fmt is None else fmt.name


def scan_summary(*args: str) -> dict:
    result = CliRunner().invoke(main, ["scan", *args, "-f", "json", "--role", "all"],
                                catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (FIXTURES / "chatlines" / "chat.txt", "chatlines"),
        (FIXTURES / "chatlines" / "terminal_20240501.log", "chatlines"),
        (SNIFF / "chat_in_rounds.txt", "chatlines"),
        (FIXTURES / "forklog" / "old_colon_log.txt", "forklog"),
        (FIXTURES / "forklog" / "gpt5_hermes_dreamsim3_20250915_070102.txt", "forklog"),
        (FIXTURES / "backrooms" / "opus45_terminal.txt", "backrooms"),
        (FIXTURES / "backrooms" / "site_page.html", "backrooms-html"),
        (FIXTURES / "multiagent_html" / "conversation_full_span_template.html",
         "multiagent-html"),
        (FIXTURES / "chatjson" / "openai.jsonl", "json"),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_each_layout_is_read_by_its_own_format(path: Path, expected: str):
    assert detected(path) == expected


def copyright_files() -> list[Path]:
    return sorted(COPYRIGHT_TREE.rglob("copyright"))


@pytest.mark.parametrize("path", copyright_files(), ids=lambda p: p.parent.name)
def test_debian_copyright_files_are_claimed_by_no_format(path: Path):
    fields = [line.split(":")[0] for line in path.read_text().splitlines()
              if line[:1].isalpha() and ":" in line]
    assert {"Files", "Copyright", "License"} <= set(fields)  # what made them look like chat
    assert detected(path) is None


def test_a_tree_of_copyright_files_gives_no_turns_and_each_file_a_skip_reason():
    summary = scan_summary(str(COPYRIGHT_TREE))
    assert (summary["files_scanned"], summary["turns"]) == (
        0, {"spoken": 0, "system": 0, "context": 0})
    assert sorted(s["path"] for s in summary["skipped"]) == [str(p) for p in copyright_files()]
    assert {s["reason"] for s in summary["skipped"]} == {"not a recognised transcript format"}


def test_package_metadata_opening_with_a_header_of_fields_is_claimed_by_no_format():
    path = SNIFF / "METADATA"
    lines = path.read_text().split("\n\n")[0].splitlines()
    names = Counter(line.split(":")[0] for line in lines)
    assert sum(1 for n in names.values() if n == 1) >= 5 and names["Classifier"] >= 2
    assert detected(path) is None


@pytest.mark.parametrize("name", ["markdown_quoting_html.md", "html_notes_quoting_html.md"])
def test_markdown_quoting_the_export_markup_is_not_a_multiagent_export(name: str):
    text = (SNIFF / name).read_text()
    assert 'class="message' in text and "```" in text
    assert detected(SNIFF / name) is None


def test_rounds_of_one_line_turns_are_read_turn_by_turn():
    summary = scan_summary(str(SNIFF / "chat_in_rounds.txt"), "--by", "speaker",
                           "--set", "heart-sutra-mantra")
    lines = (SNIFF / "chat_in_rounds.txt").read_text().splitlines()
    said = [line.split(":")[0] for line in lines if line]
    assert summary["turns"]["spoken"] == len(said) == 6
    assert {r["value"]: r["hits"] for r in summary["by"]["speaker"]}["Bob"] == 1


ALL_FIXTURE_FILES = sorted(path for path in FIXTURES.rglob("*") if path.is_file())


@pytest.mark.parametrize("path", ALL_FIXTURE_FILES, ids=lambda path: str(path.relative_to(FIXTURES)))
def test_detection_picks_the_highest_score_and_the_earlier_format_on_a_tie(path):
    """Detection may stop early (once no format left can score higher), so no sniffer may
    score above the maximum its format declares, and the choice is that of asking all."""
    doc = fixture_doc(path)
    head = doc.head_text()
    scores = [(fmt.sniff(doc.name, head), fmt) for fmt in formats.all_formats()]
    for score, fmt in scores:
        assert 0.0 <= score <= fmt.max_score, fmt.name
    best_score = max(score for score, _ in scores)
    expected = next((fmt.name for score, fmt in scores if score == best_score and score > 0), None)
    assert detected(path) == expected
