"""Exact output of every format and filter on one small, hand-counted transcript.

The fixture (tests/fixtures/cli) has, in order: a SYSTEM prompt that mentions
"gate gate paragate"; a CONTEXT message reciting the whole mantra; explorer
(opus) reciting it (line 15); simulator (sonnet) saying "animal welfare"
twice (line 18); explorer reciting it again in other case and punctuation
(line 21), which folds to the same text as line 15 and so is a replay. As the
SYSTEM prompt holds the set `mini`, every hit of it is `prompted`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from click.testing import CliRunner

from backrooms_scan.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "cli"
TRANSCRIPT = str(FIXTURES / "conversation_1709632800_scenario_mini backrooms.txt")
PATTERNS = str(FIXTURES / "mini.yaml")


def scan(*args: str):
    return CliRunner().invoke(main, ["scan", TRANSCRIPT, "-p", PATTERNS, *args],
                              catch_exceptions=False)


def without_timing(text: str) -> str:
    return re.sub(r"\d+\.\d\d s$", "T s", text, flags=re.MULTILINE)


def counts(*args: str) -> dict[str, int]:
    lines = scan("--totals", *args).stdout.splitlines()
    return {name: int(n) for name, n in (line.split("\t") for line in lines)}


def test_plain_report_exactly():
    result = scan("--max-snippets", "1")
    assert result.exit_code == 0
    assert without_timing(result.stdout) == f"""\
pattern            hits  turns with hits  convs with hits  per 1k turns searched
mini/mantra           1                1                1                 333.33
mini/welfare          2                1                1                 666.67
mini/capital-gate     1                1                1                 333.33

set   distinct  turns with hits  convs with hits  per 1k turns searched
mini         3                2                1                1000.00
(hits: each pattern counted on its own, so a phrase and its parts are hits of each; distinct: a set's overlapping hits merged into one; rates per 1,000 of the 3 turns searched)

by model
  model                     hits  distinct  turns searched  per 1k turns searched
  claude-3-opus-20240229       2         1               2                1000.00
  claude-3-sonnet-20240229     2         2               1                2000.00
  (hits and distinct as above; turns searched: the turns of each model that passed the filters, with hits or not)

by speaker
  speaker    hits  distinct  turns searched  per 1k turns searched
  explorer      2         1               2                1000.00
  simulator     2         2               1                2000.00
  (hits and distinct as above; turns searched: the turns of each speaker that passed the filters, with hits or not)

origin and echo (conversations)
  set   model                     originated  only echoed  prompted
  mini  claude-3-opus-20240229             0            0         1
  mini  claude-3-sonnet-20240229           0            0         1

snippets
mini/mantra
  {TRANSCRIPT}:15:1  explorer (claude-3-opus-20240229)
    [Gate gate paragate parasamgate bodhi svaha]
    backrooms-scan show '{TRANSCRIPT}:15'
mini/welfare
  {TRANSCRIPT}:18:1  simulator (claude-3-sonnet-20240229)
    [animal welfare] matters. Animal welfare!
    backrooms-scan show '{TRANSCRIPT}:18'
mini/capital-gate
  {TRANSCRIPT}:15:1  explorer (claude-3-opus-20240229)
    [Gate] gate paragate parasamgate bodhi svaha
    backrooms-scan show '{TRANSCRIPT}:15'

1 file scanned, 0 skipped, 1 conversation, 3 spoken / 2 system / 1 context turns, 4 pattern hits (5 with replays), 3 distinct, T s
"""


def test_snippet_context_width_and_newline_mark():
    result = scan("-C", "8", "--role", "all", "--set", "heart-sutra-mantra", "--no-snippets")
    assert "snippets" not in result.stdout
    result = scan("-C", "9", "--max-snippets", "1")
    assert "  [animal welfare] matters.…" in result.stdout


def test_table_report_without_a_terminal_has_no_colour_but_marks_hits():
    result = scan("-f", "table", "--max-snippets", "1")
    assert "\x1b[" not in result.stdout
    assert "┃ set / pattern  ┃ hits ┃ distinct ┃" in result.stdout
    assert "│   welfare      │    2 │          │            1 │           1 │       666.67 │" in result.stdout
    assert "[animal welfare]" in result.stdout


def test_table_report_on_a_terminal_is_coloured():
    from backrooms_scan.report import ReportOptions, make_reporter
    from backrooms_scan.tally import Tally

    out = io.StringIO()
    tally = Tally([])
    reporter = make_reporter("table", out, ReportOptions(color=True))
    reporter.finish(tally, tally.summary(), {"elapsed_seconds": 0.0, "partial": False})
    assert "\x1b[" in out.getvalue()


def test_count_with_replays_and_without():
    assert counts() == {"mini/mantra": 1, "mini/welfare": 2, "mini/capital-gate": 1}
    assert counts("--count-replays") == {"mini/mantra": 2, "mini/welfare": 2,
                                         "mini/capital-gate": 1}


def test_role_all_counts_prompt_text_and_makes_later_spoken_copies_replays():
    summary = json.loads(scan("--role", "all", "-f", "json").stdout)
    assert (summary["hits"], summary["hits_including_replays"]) == (4, 7)
    assert summary["turns_matched"] == 6


def test_role_context_alone():
    assert counts("--role", "context") == {"mini/mantra": 1, "mini/welfare": 0,
                                           "mini/capital-gate": 1}


def test_model_speaker_and_scenario_filters():
    assert counts("--model", "*sonnet*") == {"mini/mantra": 0, "mini/welfare": 2,
                                             "mini/capital-gate": 0}
    assert counts("--speaker", "EXPLORER") == {"mini/mantra": 1, "mini/welfare": 0,
                                               "mini/capital-gate": 1}
    assert counts("--scenario", "mini*") == counts()
    assert sum(counts("--scenario", "other").values()) == 0


def test_date_filters_use_the_conversation_time():
    # 1709632800 is 2024-03-05T10:00:00Z
    assert counts("--since", "2024-03-05") == counts()
    assert sum(counts("--since", "2024-03-06").values()) == 0
    assert sum(counts("--until", "2024-02").values()) == 0


def test_exact_mode_is_case_sensitive_on_raw_text():
    assert counts("--exact") == {"mini/mantra": 0, "mini/welfare": 1, "mini/capital-gate": 1}


def test_word_mode_keeps_whole_word_hits():
    assert counts("--word") == counts()


def test_csv_rows_exactly():
    rows = list(csv.reader(io.StringIO(scan("-f", "csv", "-C", "5").stdout)))
    assert rows[0] == ["path", "line", "column", "conversation", "turn", "speaker",
                       "speaker_inferred", "model", "scenario", "role", "timestamp", "set",
                       "pattern", "match", "before", "after", "replay", "relation"]
    assert rows[3] == [TRANSCRIPT, "18", "1", TRANSCRIPT, "5", "simulator", "False",
                       "claude-3-sonnet-20240229", "mini backrooms", "spoken",
                       "2024-03-05T10:00:00Z", "mini", "welfare", "animal welfare", "",
                       " matt", "False", "prompted"]
    assert [row[16] for row in rows[1:]] == ["False", "False", "False", "False", "True"]


def test_csv_count_rows_exactly():
    assert scan("-f", "csv", "--totals").stdout == (
        "set,pattern,hits,hits_including_replays,turns,conversations\n"
        "mini,mantra,1,2,1,1\nmini,welfare,2,2,1,1\nmini,capital-gate,1,1,1,1\n")


def test_grep_lines_exactly():
    assert scan("-f", "grep").stdout == (
        f"{TRANSCRIPT}:15:1:mini/capital-gate:Gate gate paragate parasamgate bodhi svaha\n"
        f"{TRANSCRIPT}:15:1:mini/mantra:Gate gate paragate parasamgate bodhi svaha\n"
        f"{TRANSCRIPT}:18:1:mini/welfare:animal welfare matters. Animal welfare!\n"
        f"{TRANSCRIPT}:18:25:mini/welfare:animal welfare matters. Animal welfare!\n"
        f"{TRANSCRIPT}:21:1:mini/mantra:gate, gate, PARAGATE, parasamgate, bodhi svaha\n")


def test_jsonl_events_field_by_field():
    events = [json.loads(line) for line in scan("-f", "jsonl", "-C", "4").stdout.splitlines()]
    assert [e["type"] for e in events] == ["begin"] + ["match"] * 5 + ["end", "summary"]
    assert events[0]["data"] == {"path": TRANSCRIPT, "format": "backrooms"}
    assert events[5]["data"] == {
        "path": TRANSCRIPT, "line": 21, "column": 1, "conversation": TRANSCRIPT, "turn": 6,
        "speaker": "explorer", "speaker_inferred": False, "model": "claude-3-opus-20240229",
        "scenario": "mini backrooms", "role": "spoken", "timestamp": "2024-03-05T10:00:00Z", "set": "mini", "pattern": "mantra",
        "match": "gate, gate, PARAGATE, parasamgate, bodhi svaha", "before": "",
        "after": "", "replay": True, "relation": "prompted"}
    assert events[6]["data"] == {
        "path": TRANSCRIPT, "format": "backrooms", "conversations": 1,
        "turns": {"system": 2, "context": 1, "spoken": 3}, "hits": 4,
        "hits_including_replays": 5, "repaired": False}
    summary = events[7]["data"]
    assert summary["patterns"][0] == {
        "set": "mini", "pattern": "mantra", "hits": 1, "hits_including_replays": 2, "turns": 1,
        "conversations": 1, "rate_per_1000_turns": 333.333}


def test_a_files_end_event_counts_its_hits_as_the_summary_does():
    for args, hits in (((), 4), (("--count-replays",), 5)):
        events = [json.loads(line) for line in scan("-f", "jsonl", *args).stdout.splitlines()]
        (end,) = [e["data"] for e in events if e["type"] == "end"]
        summary = events[-1]["data"]
        assert (end["hits"], end["hits_including_replays"]) == (hits, 5)
        assert (end["hits"], end["conversations"]) == (summary["hits"], summary["conversations"])


def test_json_with_hits_lists_every_hit():
    document = json.loads(scan("-f", "json", "--hits").stdout)
    assert [(h["line"], h["column"], h["pattern"]) for h in document["hits"]] == [
        (15, 1, "capital-gate"), (15, 1, "mantra"), (18, 1, "welfare"), (18, 25, "welfare"),
        (21, 1, "mantra")]


def test_chart_draws_hits_per_model_and_month():
    out = scan("--chart", "--no-snippets").stdout
    assert "hits per model\n  claude-3-opus-20240229    " in out
    assert "hits per month\n  2024-03  ######################################## 4" in out


def test_by_scenario_and_file():
    summary = json.loads(scan("-f", "json", "--by", "scenario", "--by", "file").stdout)
    assert summary["by"]["scenario"][0]["value"] == "mini backrooms"
    assert summary["by"]["file"] == [{"value": TRANSCRIPT, "hits": 4, "occurrences": 3, "turns": 3,
                                      "rate_per_1000_turns": 1333.333,
                                      "patterns": {"mini/capital-gate": 1, "mini/mantra": 1,
                                                   "mini/welfare": 2}}]
