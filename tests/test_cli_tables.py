"""Honest tables: distinct occurrences per set beside per-pattern hits, checked against a
brute-force reading of the fixture, and column names and notes that say what is counted."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import yaml
from mock_environment import invoke

FIXTURES = Path(__file__).parent / "fixtures" / "cli"
TRANSCRIPT = str(FIXTURES / "overlapping_hits.txt")
SETS = (FIXTURES / "overlap.yaml", FIXTURES / "overlap-care.yaml")
ARGS = ("scan", TRANSCRIPT, "-p", str(SETS[0]), "-p", str(SETS[1]), "--by", "speaker")


def brute_force() -> tuple[Counter, Counter, Counter]:
    """Per set and per (speaker, set): distinct occurrences; per pattern: hits. Turns are
    split at `### NAME ###` lines, text folded one character for one (lower case, anything
    not a letter or digit a space), phrases found overlapping with a lookahead, and each
    set's spans merged where they overlap."""
    text = Path(TRANSCRIPT).read_text()
    parts = re.split(r"^### (.+?) ###\n", text, flags=re.MULTILINE)[1:]
    turns = list(zip(parts[::2], parts[1::2]))
    sets = [yaml.safe_load(path.read_text()) for path in SETS]
    per_set, per_speaker, per_pattern = Counter(), Counter(), Counter()
    for speaker, body in turns:
        folded = "".join(c.lower() if c.isalnum() else " " for c in body)
        for pattern_set in sets:
            spans = []
            for pattern in pattern_set["patterns"]:
                for phrase in pattern["phrases"]:
                    regex = r"(?<![a-z0-9])(?=(" + r"\s+".join(phrase.split()) + r"))"
                    found = [(m.start(1), m.end(1)) for m in re.finditer(regex, folded)]
                    per_pattern[f"{pattern_set['name']}/{pattern['id']}"] += len(found)
                    spans.extend(found)
            reach, distinct = -1, 0
            for start, end in sorted(spans):
                if start >= reach:
                    distinct += 1
                reach = max(reach, end)
            per_set[pattern_set["name"]] += distinct
            per_speaker[(speaker, pattern_set["name"])] += distinct
    return per_set, per_speaker, per_pattern


def test_distinct_occurrences_per_set_and_speaker_equal_a_brute_force_reading():
    per_set, per_speaker, per_pattern = brute_force()
    summary = json.loads(invoke(*ARGS, "-f", "json").stdout)
    assert {r["set"]: r["occurrences"] for r in summary["sets"]} == dict(per_set)
    assert {f"{r['set']}/{r['pattern']}": r["hits"] for r in summary["patterns"]} == dict(per_pattern)
    speakers = Counter()
    for (speaker, _), n in per_speaker.items():
        speakers[speaker] += n
    assert {r["value"]: r["occurrences"] for r in summary["by"]["speaker"]} == dict(speakers)
    assert summary["occurrences"] == sum(per_set.values()) == 10
    assert summary["hits"] == sum(per_pattern.values()) == 14


def test_the_set_rows_hold_the_hits_of_their_patterns_and_their_distinct_occurrences():
    summary = json.loads(invoke(*ARGS, "-f", "json").stdout)
    assert summary["sets"] == [
        {"set": "mantra", "hits": 7, "occurrences": 5, "turns": 3, "conversations": 1,
         "rate_per_1000_turns": 1250.0},
        {"set": "care", "hits": 7, "occurrences": 5, "turns": 2, "conversations": 1,
         "rate_per_1000_turns": 1250.0},
    ]


def test_replays_are_not_distinct_occurrences_unless_counted(tmp_path):
    twice = tmp_path / "twice.txt"
    twice.write_text("### Claude 1 ###\nbodhi svaha\n\n### Claude 2 ###\nBodhi, svaha!\n")
    args = ("scan", str(twice), "-p", str(SETS[0]), "-f", "json")
    assert json.loads(invoke(*args).stdout)["occurrences"] == 1
    assert json.loads(invoke(*args, "--count-replays").stdout)["occurrences"] == 2


def test_the_table_says_what_each_column_counts():
    done = invoke(*ARGS, "--no-snippets", "--color", "never", tty=True, width=100)
    lines = [line.rstrip() for line in done.stdout.splitlines()]
    assert lines[:14] == [
        "Pattern hits",
        "┏━━━━━━━━━━━━━━━━━━┳━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━┓",
        "┃ set / pattern    ┃ hits ┃ distinct ┃ turns with hits ┃ convs with hits ┃ per 1k turns searched ┃",
        "┡━━━━━━━━━━━━━━━━━━╇━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━┩",
        "│ mantra           │    7 │        5 │               3 │               1 │               1250.00 │",
        "│   full           │    1 │          │               1 │               1 │                250.00 │",
        "│   opening        │    3 │          │               2 │               1 │                750.00 │",
        "│   closing        │    3 │          │               3 │               1 │                750.00 │",
        "│ care             │    7 │        5 │               2 │               1 │               1250.00 │",
        "│   animal-welfare │    2 │          │               2 │               1 │                500.00 │",
        "│   welfare        │    5 │          │               2 │               1 │               1250.00 │",
        "└──────────────────┴──────┴──────────┴─────────────────┴─────────────────┴───────────────────────┘",
        "hits: each pattern counted on its own, so a phrase and its parts are hits of each; distinct: a",
        "set's overlapping hits merged into one; rates per 1,000 of the 4 turns searched",
    ]
    assert lines[14:19] == [
        "By speaker",
        "┏━━━━━━━━━━┳━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━┓",
        "┃ speaker  ┃ hits ┃ distinct ┃ turns searched ┃ per 1k turns searched ┃",
        "┡━━━━━━━━━━╇━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━┩",
        "│ Claude 2 │    8 │        6 │              2 │               4000.00 │",
    ]
    assert lines[21:23] == ["hits and distinct as above; turns searched: the turns of each speaker",
                            "that passed the filters, with hits or not"]
    footer = " ".join(lines[next(i for i, line in enumerate(lines) if line.startswith("1 file")):])
    assert footer.startswith("1 file scanned, 0 skipped, 1 conversation, 4 spoken / 0 system / "
                                "0 context turns, 14 pattern hits (14 with replays), 10 distinct, ")


def test_plain_text_lists_sets_apart_with_the_note():
    lines = invoke(*ARGS, "--no-snippets").stdout.splitlines()
    assert lines[6:10] == [
        "",
        "set     distinct  turns with hits  convs with hits  per 1k turns searched",
        "mantra         5                3                1                1250.00",
        "care           5                2                1                1250.00",
    ]
    assert lines[10].startswith("(hits: each pattern counted on its own")
