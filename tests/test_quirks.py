"""Published dumps as they really are, end to end: each quirk changes the counts it should."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from backrooms_scan.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
MANTRA = "gate gate pāragate pārasaṃgate bodhi svāhā"
MANTRA_PATTERNS = """\
name: mantra
sources: [test]
patterns:
  - id: full
    phrases: ["gate gate paragate parasamgate bodhi svaha"]
"""


def summary_of(*args: str) -> dict:
    result = CliRunner().invoke(main, ["scan", *args, "-f", "json"], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def hits_of(summary: dict, pattern: str) -> int:
    return next(row["hits"] for row in summary["patterns"] if row["pattern"] == pattern)


def mojibake(text: str) -> str:
    """What the widely shared scrape did: UTF-8 bytes read as Latin-1, saved as UTF-8."""
    return text.encode("utf-8").decode("latin-1")


def scraped_page(tmp_path: Path) -> Path:
    page = (
        "conversation_1712345678_scenario_vanilla-backrooms.txt "
        + mojibake("•")
        + " infinite backroomsBack to indexscenario: vanilla backroomsThe following is an"
        " automated conversation between two instances of a model.\n"
        "actors: Claude 1,Claude 2\nmodels: claude-3-opus-20240229,claude-3-opus-20240229\n"
        "temp: 1,1\n\n<Claude 1>\n$ cat sutra.txt\n\n<Claude 2>\n<system>\n"
        + mojibake(MANTRA) + "\n</system>\n\n<Claude 1>\n" + mojibake(MANTRA.title()) + "\n"
    )
    path = tmp_path / "conversation_1712345678_scenario_vanilla-backrooms.txt"
    path.write_text(page, encoding="utf-8")
    (tmp_path / "mantra.yaml").write_text(MANTRA_PATTERNS, encoding="utf-8")
    return path


def test_repairing_mojibake_finds_mantras_the_raw_text_hides(tmp_path):
    page = scraped_page(tmp_path)
    patterns = str(tmp_path / "mantra.yaml")
    repaired = summary_of(str(page), "-p", patterns)
    raw = summary_of(str(page), "-p", patterns, "--no-fix-text")
    assert hits_of(repaired, "full") == 2
    assert hits_of(raw, "full") == 0
    assert (repaired["files_repaired"], raw["files_repaired"]) == (1, 0)


def test_repaired_hit_is_reported_with_the_repaired_text_and_the_right_line(tmp_path):
    page = scraped_page(tmp_path)
    result = CliRunner().invoke(main, ["scan", str(page), "-p", str(tmp_path / "mantra.yaml"),
                                       "-f", "jsonl"])
    matches = [json.loads(line)["data"] for line in result.stdout.splitlines()
               if json.loads(line)["type"] == "match"]
    assert [(m["line"], m["column"], m["match"], m["speaker"], m["scenario"]) for m in matches] == [
        (11, 1, MANTRA, "Claude 2", "vanilla backrooms"),
        (15, 1, MANTRA.title(), "Claude 1", "vanilla backrooms"),
    ]


def test_clean_text_with_real_accented_capitals_is_not_repaired(tmp_path):
    clean = tmp_path / "clean.txt"
    body = (FIXTURES / "decode" / "clean_accents.txt").read_text(encoding="utf-8")
    clean.write_text("### Claude 1 ###\n" + body + "\n### Claude 2 ###\ngate gate\n",
                     encoding="utf-8")
    summary = summary_of(str(clean), "--set", "heart-sutra-mantra")
    assert summary["files_repaired"] == 0


def test_summary_counts_files_read_per_format(tmp_path):
    for sub in ("backrooms", "forklog", "chatjson", "multiagent_html"):
        shutil.copytree(FIXTURES / sub, tmp_path / sub)
    summary = summary_of(str(tmp_path), "--set", "heart-sutra-mantra")
    formats = summary["formats"]
    site_pages = len(list((FIXTURES / "backrooms").glob("*.html")))
    assert formats["backrooms"] >= 4 and formats["backrooms-html"] == site_pages >= 2
    exports = len(list((FIXTURES / "multiagent_html").glob("*.html")))
    assert formats["forklog"] >= 2 and formats["multiagent-html"] == exports >= 3
    assert formats["json"] >= 8
    assert sum(formats.values()) == summary["files_scanned"]


def test_ansi_coloured_log_hits_point_at_the_original_line(tmp_path):
    log = tmp_path / "session.log"
    log.write_bytes(b"\x1b[36mAlice:\x1b[0m hello there\n"
                    b"\x1b[35mBob:\x1b[0m \x1b[1mgate gate\x1b[0m paragate\n"
                    b"\x1b[36mAlice:\x1b[0m ok\n\x1b[35mBob:\x1b[0m bye\n")
    result = CliRunner().invoke(main, ["scan", str(log), "--set", "heart-sutra-mantra",
                                       "-f", "grep"])
    lines = result.stdout.splitlines()
    assert lines and all(line.startswith(f"{log}:2:") for line in lines)
    assert "\x1b" not in result.stdout


def test_round_marker_only_log_is_a_conversation_with_no_turns(tmp_path):
    log = tmp_path / "opus_opus_dreamsim_20240501_123000.txt"
    log.write_text("### Round 1/inf\n", encoding="utf-8")
    summary = summary_of(str(log), "--input-format", "forklog")
    assert (summary["files_scanned"], summary["conversations"]) == (1, 1)
    assert summary["turns"] == {"spoken": 0, "system": 0, "context": 0}


def test_images_in_multi_agent_exports_are_not_scanned(tmp_path):
    page = tmp_path / "conversation_full.html"
    page.write_text(
        '<html><head><title>Liminal Backrooms</title></head><body>'
        '<div class="message assistant"><div class="message-content">'
        '<div class="header">AI-1 (Claude 3 Opus) <span class="timestamp">October 10, 2025 at'
        ' 07:02 AM</span></div><div class="content">we are the gate, gone beyond'
        '<img src="data:image/png;base64,Z2F0ZSBnYXRl" alt="gate gate paragate"></div>'
        '</div></div></body></html>', encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", str(page), "-p", str(scraped_page(tmp_path).parent
                                                                   / "mantra.yaml"), "--totals"])
    assert result.stdout.strip() == "mantra/full\t0"
