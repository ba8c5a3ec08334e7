"""Origin and echo: each hit of a set is prompted, origin, repeat or echo in its conversation.

The fixtures (tests/fixtures/relation) are checked by hand below, hit by hit:
- seeded: the SYSTEM prompt holds the vow and a CONTEXT message the mantra, so the
  seeker's vow and mantra are `prompted`; the oracle (sonnet) originates animal welfare,
  the seeker (opus) echoes it, the oracle repeats it twice in one turn.
- echo: beta (sonnet) originates the mantra, alpha (opus) echoes it twice.
- repeats: alpha originates animal welfare (twice in one turn) and repeats it twice;
  beta originates the vow and repeats it.
- late_report: an analysis report (a system turn) after the conversation mentions
  animal welfare; the speakers' hits stay origin and echo.
A brute-force reading written for the test decides the same relations independently.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from click.testing import CliRunner

from backrooms_scan.cli import main
from backrooms_scan.records import Role
from backrooms_scan.relation import Occurrence, Relation, decide_relations

FIXTURES = Path(__file__).parent / "fixtures" / "relation"
TRANSCRIPTS = FIXTURES / "transcripts"
SETS = FIXTURES / "sets"
SEEDED = "conversation_1710000001_scenario_seeded.txt"
ECHO = "conversation_1710000002_scenario_echo.txt"
REPEATS = "conversation_1710000003_scenario_repeats.txt"
LATE = "late_report.json"
PHRASES = {"vow": ("liberate all beings", "beings are numberless"),
           "mantra": ("gate gate paragate", "bodhi svaha"),
           "welfare": ("animal welfare",)}

# (file, turn, speaker, set, pattern, relation) of every spoken hit, in output order.
SPOKEN_HITS = [
    (SEEDED, 4, "seeker", "vow", "liberate-all-beings", "prompted"),
    (SEEDED, 5, "oracle", "welfare", "animal-welfare", "origin"),
    (SEEDED, 6, "seeker", "vow", "liberate-all-beings", "prompted"),
    (SEEDED, 6, "seeker", "welfare", "animal-welfare", "echo"),
    (SEEDED, 6, "seeker", "mantra", "gate-gate-paragate", "prompted"),
    (SEEDED, 7, "oracle", "welfare", "animal-welfare", "repeat"),
    (SEEDED, 7, "oracle", "welfare", "animal-welfare", "repeat"),
    (ECHO, 3, "beta", "mantra", "gate-gate-paragate", "origin"),
    (ECHO, 3, "beta", "mantra", "bodhi-svaha", "origin"),
    (ECHO, 4, "alpha", "mantra", "gate-gate-paragate", "echo"),
    (ECHO, 6, "alpha", "mantra", "gate-gate-paragate", "echo"),
    (ECHO, 6, "alpha", "mantra", "bodhi-svaha", "echo"),
    (REPEATS, 1, "alpha", "welfare", "animal-welfare", "origin"),
    (REPEATS, 1, "alpha", "welfare", "animal-welfare", "origin"),
    (REPEATS, 3, "alpha", "welfare", "animal-welfare", "repeat"),
    (REPEATS, 4, "beta", "vow", "numberless", "origin"),
    (REPEATS, 4, "beta", "vow", "liberate-all-beings", "origin"),
    (REPEATS, 5, "alpha", "welfare", "animal-welfare", "repeat"),
    (REPEATS, 6, "beta", "vow", "liberate-all-beings", "repeat"),
    (LATE, 1, "Claude_A", "welfare", "animal-welfare", "origin"),
    (LATE, 2, "Claude_B", "welfare", "animal-welfare", "echo"),
]
PROMPT_HITS = [
    (SEEDED, 1, "seeker", "vow", "liberate-all-beings", "prompted"),
    (SEEDED, 2, "seeker", "mantra", "gate-gate-paragate", "prompted"),
    (LATE, 3, "analysis_report", "welfare", "animal-welfare", "prompted"),
    (LATE, 3, "analysis_report", "vow", "liberate-all-beings", "prompted"),
]


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def matches(*args: str, paths=(str(TRANSCRIPTS),)) -> list[dict]:
    result = run("scan", *paths, "-p", str(SETS), "-f", "jsonl", *args)
    return [e["data"] for e in map(json.loads, result.stdout.splitlines()) if e["type"] == "match"]


def summary(*args: str) -> dict:
    result = run("scan", str(TRANSCRIPTS), "-p", str(SETS), "-f", "json", *args)
    document = json.loads(result.stdout)
    document.pop("elapsed_seconds")
    return document


def described(hits: list[dict]) -> list[tuple]:
    return [(Path(h["path"]).name, h["turn"], h["speaker"], h["set"], h["pattern"], h["relation"])
            for h in hits]


def test_every_spoken_hit_has_its_hand_checked_relation():
    assert described(matches()) == SPOKEN_HITS


def test_prompts_searched_with_role_all_are_prompted_and_change_no_spoken_relation():
    found = described(matches("--role", "all"))
    assert sorted(found) == sorted(SPOKEN_HITS + PROMPT_HITS)


def test_filters_do_not_move_the_origin():
    """alpha's hits are echoes of beta's even when only alpha's turns are searched."""
    alpha = [hit for hit in SPOKEN_HITS if hit[2] == "alpha"]
    assert described(matches("--speaker", "alpha")) == alpha


def test_relations_do_not_depend_on_jobs():
    assert matches("--jobs", "2") == matches("--jobs", "1")


def test_merged_shards_give_the_relations_of_one_full_run(tmp_path):
    by = ["--by", "relation", "--by", "model"]
    shard_files = []
    for index in (1, 2):
        out = tmp_path / f"shard{index}.json"
        run("scan", str(TRANSCRIPTS), "-p", str(SETS), "--shard", f"{index}/2", "-f", "json",
            "-o", str(out))
        shard_files.append(str(out))
    merged = json.loads(run("merge", *shard_files, *by).stdout)
    full = summary(*by)
    assert merged["relations"] == full["relations"] and merged["by"] == full["by"]
    assert full["relations"]


def test_by_relation_counts_hits_per_relation():
    rows = {row["value"]: row["hits"] for row in summary("--by", "relation")["by"]["relation"]}
    expected: dict[str, int] = {}
    for hit in SPOKEN_HITS:
        expected[hit[5]] = expected.get(hit[5], 0) + 1
    assert rows == expected == {"prompted": 3, "origin": 8, "echo": 5, "repeat": 5}


def test_summary_counts_conversations_per_set_and_model():
    rows = {(r["set"], r["model"]): (r["originated"], r["echoed_only"], r["prompted"])
            for r in summary()["relations"]}
    assert rows == {
        ("mantra", "claude-3-opus-20240229"): (0, 1, 1),  # echoed in echo, prompted in seeded
        ("mantra", "claude-3-sonnet-20240229"): (1, 0, 0),
        ("vow", "claude-3-opus-20240229"): (0, 0, 1),
        ("vow", "claude-3-sonnet-20240229"): (1, 0, 0),
        ("welfare", "claude-3-5-sonnet-20241022"): (1, 0, 0),  # both speakers, one model
        ("welfare", "claude-3-opus-20240229"): (1, 1, 0),  # originated in repeats, echoed in seeded
        ("welfare", "claude-3-sonnet-20240229"): (1, 0, 0),
    }


def test_plain_report_has_the_origin_and_echo_section():
    out = run("scan", str(TRANSCRIPTS / ECHO), "-p", str(SETS), "-f", "plain").stdout
    assert ("origin and echo (conversations)\n"
            "  set     model                     originated  only echoed  prompted\n"
            "  mantra  claude-3-opus-20240229             0            1         0\n"
            "  mantra  claude-3-sonnet-20240229           1            0         0\n") in out


def test_csv_rows_carry_the_relation():
    out = run("scan", str(TRANSCRIPTS / ECHO), "-p", str(SETS), "-f", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["relation"] for row in rows] == ["origin", "origin", "echo", "echo", "echo"]


# --- the pure rule ----------------------------------------------------------------------

def test_a_prompt_after_the_origin_does_not_make_later_hits_prompted():
    relations = decide_relations([
        Occurrence(1, "a", Role.SPOKEN, frozenset({"s"})),
        Occurrence(2, "user", Role.CONTEXT, frozenset({"s"})),
        Occurrence(3, "b", Role.SPOKEN, frozenset({"s"})),
        Occurrence(4, "a", Role.SPOKEN, frozenset({"s"})),
    ])
    assert relations == {(1, "s"): Relation.ORIGIN, (2, "s"): Relation.PROMPTED,
                         (3, "s"): Relation.ECHO, (4, "s"): Relation.REPEAT}


def test_relations_are_decided_in_turn_order_whatever_the_order_given():
    occurrences = [Occurrence(3, "a", Role.SPOKEN, frozenset({"s", "t"})),
                   Occurrence(1, "b", Role.SPOKEN, frozenset({"s"})),
                   Occurrence(2, "sys", Role.SYSTEM, frozenset({"t"}))]
    assert decide_relations(occurrences) == {
        (1, "s"): Relation.ORIGIN, (2, "t"): Relation.PROMPTED,
        (3, "s"): Relation.ECHO, (3, "t"): Relation.PROMPTED}


# --- an independent reading -------------------------------------------------------------

def folded(text: str) -> str:
    text = text.lower().replace("ā", "a")
    return " " + re.sub(r"[^a-z]+", " ", text) + " "


def brute_force_turns(path: Path) -> list[tuple[int, str, str, str]]:
    """(index, speaker, role, text) of every turn, read with regexes and json."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        document = json.loads(text)
        turns = [(i, m["speaker"], "spoken", m["message"])
                 for i, m in enumerate(document["conversation_history"], 1)]
        return turns + [(len(turns) + 1, "analysis_report", "system", document["analysis_report"])]
    turns = []
    for tag, body in re.findall(r"^<([^>\n]+)>\n(.*?)(?=^<[^>\n]+>\n|\Z)", text, re.DOTALL | re.MULTILINE):
        name, _, kind = tag.partition("#")
        if kind == "CONTEXT":
            for message in json.loads(body):
                turns.append((len(turns) + 1, name.split("-")[0], "context", message["content"]))
        else:
            role = "system" if kind == "SYSTEM" else "spoken"
            turns.append((len(turns) + 1, name.split("-")[0], role, body))
    return turns


def brute_force_relations(path: Path) -> dict[tuple[int, str], str]:
    """For each set: prompted if a prompt held it before anyone said it; else the first
    speaker to say it originates, they repeat, the others echo."""
    relations = {}
    for set_name, phrases in PHRASES.items():
        first_speaker, seeded = None, False
        for index, speaker, role, text in brute_force_turns(path):
            if not any(f" {phrase} " in folded(text) for phrase in phrases):
                continue
            if role != "spoken":
                seeded = seeded or first_speaker is None
                relations[(index, set_name)] = "prompted"
            elif seeded:
                relations[(index, set_name)] = "prompted"
            elif first_speaker is None:
                first_speaker = speaker
                relations[(index, set_name)] = "origin"
            else:
                relations[(index, set_name)] = "repeat" if speaker == first_speaker else "echo"
    return relations


def test_relations_agree_with_a_brute_force_reading():
    found = matches("--role", "all")
    for path in sorted(TRANSCRIPTS.iterdir()):
        expected = brute_force_relations(path)
        mine = {(h["turn"], h["set"]): h["relation"] for h in found
                if Path(h["path"]).name == path.name}
        assert mine == expected, path.name
