"""The tally counts hits, turns and conversations per pattern and sets replays apart."""

import json
import re
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from click.testing import CliRunner

from backrooms_scan.cli import main
from backrooms_scan.normalize import fold
from backrooms_scan.records import Hit, Role, Turn
from backrooms_scan.relation import Relation
from backrooms_scan.replays import digest_of_folded
from backrooms_scan.scan import FileResult, TurnHits
from backrooms_scan.tally import Tally, result_from_state, state_of

SETS = [SimpleNamespace(name="vow", patterns=[SimpleNamespace(id="liberate"),
                                              SimpleNamespace(id="numberless")]),
        SimpleNamespace(name="mantra", patterns=[SimpleNamespace(id="gate")])]


def turn(conversation, index, text, model="opus", speaker="explorer", ts="2024-03-05T10:00:00Z"):
    return Turn(conversation, index, speaker, Role.SPOKEN, text, conversation, index,
                model=model, timestamp=ts)


def hits_in(t, *pairs, relation=Relation.ORIGIN):
    return TurnHits(t, digest_of_folded(fold(t.text)), [Hit(s, p, t, 0, 1) for s, p in pairs],
                    {s: relation for s, _ in pairs})


def result(path, *hit_turns, spoken=4):
    return FileResult(path, format="backrooms", conversations=1, turns=Counter(spoken=spoken),
                      selected=Counter({("opus", "explorer", "", "2024-03"): spoken}),
                      hit_turns=list(hit_turns))


def test_counts_hits_turns_and_conversations_per_pattern():
    tally = Tally(SETS)
    a = turn("a.txt", 1, "I vow to liberate all beings. I vow to liberate all beings.")
    b = turn("b.txt", 2, "gate gate")
    tally.add(result("a.txt", hits_in(a, ("vow", "liberate"), ("vow", "liberate"))))
    tally.add(result("b.txt", hits_in(b, ("mantra", "gate"))))
    rows = {(r["set"], r["pattern"]): r for r in tally.summary()["patterns"]}
    assert rows[("vow", "liberate")] | {} == {
        "set": "vow", "pattern": "liberate", "hits": 2, "hits_including_replays": 2,
        "turns": 1, "conversations": 1, "rate_per_1000_turns": 250.0}
    assert rows[("vow", "numberless")]["hits"] == 0
    assert rows[("mantra", "gate")]["conversations"] == 1
    assert tally.hits == 3


def test_a_turn_repeating_counted_text_is_a_replay_and_not_counted_again():
    tally = Tally(SETS)
    first = turn("a.txt", 1, "Gate gate!")
    again = turn("b.txt", 5, "gate, GATE")  # same text once folded
    tally.add(result("a.txt", hits_in(first, ("mantra", "gate"))))
    records, _ = tally.add(result("b.txt", hits_in(again, ("mantra", "gate"))))
    assert [r.replay for r in records] == [True]
    assert tally.hits == 1
    assert tally.hits_including_replays == 2


def test_count_replays_counts_every_occurrence_but_still_marks_them():
    tally = Tally(SETS, count_replays=True)
    tally.add(result("a.txt", hits_in(turn("a.txt", 1, "gate gate"), ("mantra", "gate"))))
    records, _ = tally.add(result("b.txt", hits_in(turn("b.txt", 1, "gate gate"), ("mantra", "gate"))))
    assert records[0].replay
    assert tally.hits == 2


def test_skipped_and_unreadable_files_are_accounted_separately():
    tally = Tally(SETS)
    tally.add(FileResult("meta.json", skipped="not a transcript"))
    tally.add(FileResult("missing.txt", error="no such file or directory"))
    tally.add(result("a.txt"))
    summary = tally.summary()
    assert (summary["files_scanned"], summary["files_skipped"], summary["errors"]) == (1, 1, 1)
    assert summary["skipped"] == [{"path": "meta.json", "reason": "not a transcript"}]


def test_breakdown_by_model_has_hits_turns_and_rate():
    tally = Tally(SETS, by=["model"])
    tally.add(result("a.txt", hits_in(turn("a.txt", 1, "gate"), ("mantra", "gate"))))
    assert tally.summary()["by"]["model"] == [
        {"value": "opus", "hits": 1, "occurrences": 1, "turns": 4, "rate_per_1000_turns": 250.0,
         "patterns": {"mantra/gate": 1}}]


def test_state_round_trip_gives_the_same_summary():
    results = [result("a.txt", hits_in(turn("a.txt", 1, "gate"), ("mantra", "gate"))),
               FileResult("meta.json", skipped="not a transcript"),
               result("b.txt", hits_in(turn("b.txt", 1, "gate"), ("mantra", "gate")),
                      hits_in(turn("b.txt", 2, "liberate"), ("vow", "liberate")))]
    by = ["model", "speaker", "month", "file", "conversation"]
    direct, rebuilt = Tally(SETS, by=by), Tally(SETS, by=by)
    for unit, r in enumerate(results):
        direct.add(r)
        rebuilt.add(result_from_state(state_of(r, unit)))
    assert rebuilt.summary() == direct.summary()


def test_a_conversation_with_several_hit_turns_counts_once():
    tally = Tally(SETS)
    tally.add(result("a.txt", hits_in(turn("a.txt", 1, "gate one"), ("mantra", "gate")),
                     hits_in(turn("a.txt", 2, "gate two"), ("mantra", "gate"))))
    tally.add(result("b.txt", hits_in(turn("b.txt", 1, "gate three"), ("mantra", "gate"))))
    row = next(r for r in tally.summary()["patterns"] if r["pattern"] == "gate")
    assert (row["hits"], row["turns"], row["conversations"]) == (3, 3, 2)


def test_breakdowns_are_kept_only_for_requested_dimensions():
    tally = Tally(SETS, by=["speaker"])
    tally.add(result("a.txt", hits_in(turn("a.txt", 1, "gate"), ("mantra", "gate"))))
    assert list(tally.summary()["by"]) == ["speaker"]


def test_breakdowns_list_every_value_searched_with_zero_hits_where_it_has_none():
    tally = Tally(SETS, by=["model", "speaker", "file", "conversation"])
    hit = turn("a.txt", 1, "gate")
    tally.add(FileResult("a.txt", format="backrooms", conversations=1, turns=Counter(spoken=5),
                         selected=Counter({("opus", "explorer", "", "2024-03"): 2,
                                           ("sonnet", "simulator", "", "2024-03"): 3}),
                         selected_by_conversation=Counter({"a.txt": 5}),
                         hit_turns=[hits_in(hit, ("mantra", "gate"))]))
    tally.add(FileResult("b.txt", format="backrooms", conversations=1, turns=Counter(spoken=1),
                         selected=Counter({("haiku", "simulator", "", ""): 1}),
                         selected_by_conversation=Counter({"b.txt": 1})))
    by = tally.summary()["by"]
    assert [(r["value"], r["hits"], r["turns"], r["rate_per_1000_turns"]) for r in by["model"]] == [
        ("opus", 1, 2, 500.0), ("haiku", 0, 1, 0.0), ("sonnet", 0, 3, 0.0)]
    assert [(r["value"], r["hits"], r["turns"]) for r in by["speaker"]] == [
        ("explorer", 1, 2), ("simulator", 0, 4)]
    assert [(r["value"], r["hits"], r["turns"]) for r in by["file"]] == [
        ("a.txt", 1, 5), ("b.txt", 0, 1)]
    assert [(r["value"], r["hits"], r["turns"]) for r in by["conversation"]] == [
        ("a.txt", 1, 5), ("b.txt", 0, 1)]
    assert by["model"][1]["patterns"] == {}


def test_months_sort_by_date_with_unknown_last_whatever_their_hits():
    tally = Tally(SETS, by=["month"])
    months = {"2024-11": 1, "2023-02": 3, "": 2, "2024-03": 0}
    for n, (month, hits) in enumerate(months.items()):
        turns = [turn(f"{n}.txt", i, f"gate {month} {i}", ts=f"{month}-01T00:00:00Z" if month else None)
                 for i in range(hits)]
        tally.add(FileResult(f"{n}.txt", format="backrooms", conversations=1,
                             selected=Counter({("opus", "explorer", "", month): 4}),
                             hit_turns=[hits_in(t, ("mantra", "gate")) for t in turns]))
    rows = tally.summary()["by"]["month"]
    assert [(r["value"], r["hits"], r["turns"]) for r in rows] == [
        ("2023-02", 3, 4), ("2024-03", 0, 4), ("2024-11", 1, 4), ("", 2, 4)]


# --- through the command line: against a reading of the fixtures ---------------------

CHAT_FIXTURES = Path(__file__).parent / "fixtures" / "chatlines"


def speaker_lines(path: Path) -> list[tuple[str, str]]:
    """(speaker, text) per turn: a `Name: ` line opens a turn, other lines continue it."""
    turns: list[tuple[str, str]] = []
    for line in path.read_text().splitlines():
        opened = re.match(r"(\w+): (.*)", line)
        if opened and (opened[1] != "Note"):
            turns.append((opened[1], opened[2]))
        elif turns:
            turns[-1] = (turns[-1][0], turns[-1][1] + "\n" + line)
    return turns


def test_breakdown_by_speaker_has_every_speaker_with_turns_and_hits_as_read():
    paths = [CHAT_FIXTURES / "chat.txt", CHAT_FIXTURES / "runner_errors.txt"]
    result = CliRunner().invoke(main, ["scan", *map(str, paths), "--set", "heart-sutra-mantra",
                                       "--role", "all", "--count-replays", "--by", "speaker", "--by", "file",
                                       "-f", "json"], catch_exceptions=False)
    rows = {r["value"]: r for r in json.loads(result.stdout)["by"]["speaker"]}
    turns, hits = Counter(), Counter()
    for path in paths:
        for speaker, text in speaker_lines(path):
            turns[speaker] += 1
            hits[speaker] += len(re.findall(r"gate gate paragate", text, re.IGNORECASE))
    gate = "heart-sutra-mantra/gate-gate-paragate"
    assert {value: (r["turns"], r["patterns"].get(gate, 0)) for value, r in rows.items()} == {
        speaker: (turns[speaker], hits[speaker]) for speaker in turns}
    assert {"Alice", "System"} <= {value for value, r in rows.items() if r["hits"] == 0}
    files = json.loads(result.stdout)["by"]["file"]
    assert sorted((r["value"], r["turns"]) for r in files) == sorted(
        (str(path), len(speaker_lines(path))) for path in paths)


def test_each_file_gives_its_own_counts_and_the_summary_is_their_sum():
    tally = Tally(SETS)
    first = tally.add(result("a.txt", hits_in(turn("a.txt", 1, "gate gate"), ("mantra", "gate"))))
    again = tally.add(result("b.txt", hits_in(turn("b.txt", 1, "gate gate"), ("mantra", "gate"))))
    assert [(c.hits, c.hits_including_replays, c.turns_with_hits)
            for c in (first.counts, again.counts)] == [(1, 1, 1), (0, 1, 0)]
    summary = tally.summary()
    assert summary["hits"] == first.counts.hits + again.counts.hits
    assert summary["conversations"] == first.counts.conversations + again.counts.conversations
