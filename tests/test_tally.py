"""The tally counts hits, turns and conversations per pattern and sets replays apart."""

from collections import Counter
from types import SimpleNamespace

from backrooms_scan.model import Hit, Role, Turn
from backrooms_scan.normalize import fold
from backrooms_scan.relation import Relation
from backrooms_scan.scan import FileResult, TurnHits, digest_of_folded
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
    records = tally.add(result("b.txt", hits_in(again, ("mantra", "gate"))))
    assert [r.replay for r in records] == [True]
    assert tally.hits == 1
    assert tally.hits_including_replays == 2


def test_count_replays_counts_every_occurrence_but_still_marks_them():
    tally = Tally(SETS, count_replays=True)
    tally.add(result("a.txt", hits_in(turn("a.txt", 1, "gate gate"), ("mantra", "gate"))))
    records = tally.add(result("b.txt", hits_in(turn("b.txt", 1, "gate gate"), ("mantra", "gate"))))
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
        {"value": "opus", "hits": 1, "turns": 4, "rate_per_1000_turns": 250.0,
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
    assert "conversation" not in tally.by_value and "file" not in tally.by_value
