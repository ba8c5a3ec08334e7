"""Counting: file results in input order -> hit records with replay flags -> one summary.

A Tally is fed FileResults in input order. It decides which hits are replays
(see `replays`), keeps every count the reports
need, and can be rebuilt from the compact state of shard runs (see
`state_of` / `result_from_state`) to give exactly the summary of one full run.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from backrooms_scan.dimensions import DIMENSIONS
from backrooms_scan.patternsets import PatternSet
from backrooms_scan.records import Hit, HitList, HitRecords, Notice, Role, Turn
from backrooms_scan.relation import Relation
from backrooms_scan.replays import Replays
from backrooms_scan.scan import FileResult, TurnHits

SCHEMA_VERSION = 1
# Position of each dimension in scan.TurnKey, for those counted per selected turn.
_TURN_KEY_INDEX = {"model": 0, "speaker": 1, "scenario": 2, "month": 3}


def problem_kind(message: str) -> str:
    """What a skip reason or notice is, without its particulars: the text before any detail
    (after `:`, `;` or `(`), with numbers and positions dropped. Applied twice, the same."""
    head = re.split(r"[:;(]", message, maxsplit=1)[0]
    head = re.sub(r"\b(at )?(byte|line|offset|column) \d+\b|(?<![\w-])\d[\d,.]*\b", " ", head)
    return " ".join(head.split()) or message.strip()


@dataclass
class HitRecord:
    hit: Hit
    replay: bool
    relation: Relation


def _hit_record(hit: Hit, replay: bool, relations: dict[str, Relation]) -> HitRecord:
    return HitRecord(hit, replay, relations[hit.set])


@dataclass
class FileCounts:
    """What one file, or one part of a file, adds to the scan's totals (as ripgrep's
    `Stats` does): the tally sums them, the per-file reports show them, and a merge
    rebuilds them from shard results through the same `Tally.add`."""

    conversations: int = 0
    turns: Counter = field(default_factory=Counter)  # by role
    hits: int = 0  # counted ones: replays only with --count-replays
    hits_including_replays: int = 0
    turns_with_hits: int = 0  # turns with counted hits

    def add(self, other: FileCounts) -> None:
        self.conversations += other.conversations
        self.turns.update(other.turns)
        self.hits += other.hits
        self.hits_including_replays += other.hits_including_replays
        self.turns_with_hits += other.turns_with_hits


class Added(NamedTuple):
    """What `Tally.add` made of one file's result: its hit records, each marked replay or
    not, and its counts."""

    records: Sequence[HitRecord]
    counts: FileCounts


@dataclass
class PatternCount:
    hits: int = 0
    hits_including_replays: int = 0
    turns: int = 0
    conversations: int = 0


@dataclass
class SetCount:
    occurrences: int = 0  # the set's hits with overlapping ones merged into one
    turns: int = 0
    conversations: int = 0


def distinct_occurrences(hits: Iterable[Hit]) -> Counter:
    """Per set, its hits in one turn with overlapping `[start, end)` spans merged into one:
    a recited mantra is one occurrence, not one for the mantra and one for each part."""
    # A HitList is sorted by start already; among hits of one start the order of ends
    # does not change the count.
    spans = hits.spans() if isinstance(hits, HitList) else sorted(
        (hit.start, hit.set, hit.end) for hit in hits)
    ordered = ((name, start, end) for name, start, end in spans) if isinstance(
        hits, HitList) else ((name, start, end) for start, name, end in spans)
    counts: Counter = Counter()
    reach: dict[str, int] = {}
    for name, start, end in ordered:
        held = reach.get(name)
        if held is None or start >= held:
            counts[name] += 1
            reach[name] = end
        elif end > held:
            reach[name] = end
    return counts


def dimension_value(dimension: str, turn: Turn, relation: Relation | None = None) -> str:
    if dimension == "relation":
        return relation.value if relation is not None else ""
    if dimension == "conversation":
        return turn.conversation
    if dimension == "file":
        return turn.source
    if dimension == "month":
        return (turn.timestamp or "")[:7]
    return getattr(turn, dimension) or ""


class Tally:
    """Counts for one scan. Breakdowns are kept only for the dimensions in `by` (plus model,
    speaker and month, which charts and the HTML report use), so memory does not grow with the number of files."""

    def __init__(self, sets: Sequence[PatternSet], *, count_replays: bool = False,
                 by: Iterable[str] = ()):
        self.count_replays = count_replays
        self.by = tuple(by)
        self.tracked = tuple(d for d in DIMENSIONS if d in self.by or d in ("model", "speaker", "month"))
        self.pattern_keys = [(s.name, p.id) for s in sets for p in s.patterns]
        self.patterns = {key: PatternCount() for key in self.pattern_keys}
        self.sets = {s.name: SetCount() for s in sets}
        self.files_scanned = 0
        self.skipped: list[tuple[str, str]] = []
        self.errors: list[tuple[str, str]] = []
        self.files_repaired = 0
        self.formats: Counter = Counter()
        self.notices: Counter = Counter()
        self.totals = FileCounts()
        self.selected: Counter = Counter()
        self.selected_by_file: Counter = Counter()
        self.selected_by_conversation: Counter = Counter()
        self.by_value: dict[str, Counter] = defaultdict(Counter)
        self.by_pattern: dict[tuple[str, str], Counter] = defaultdict(Counter)
        self.by_occurrences: dict[str, Counter] = defaultdict(Counter)
        self._replays = Replays()
        # Conversations by (set, model, kind): see `relation_rows`.
        self.relation_conversations: Counter = Counter()

    def add(self, result: FileResult) -> Added:
        """Count one file's result; return its hits, each marked replay or not, and what
        it added to the counts."""
        if result.error is not None:
            self.errors.append((result.path, result.error))
            return Added([], FileCounts())
        if result.skipped is not None:
            self.skipped.append((result.path, result.skipped))
            return Added([], FileCounts())
        self.notices.update(problem_kind(notice.message) for notice in result.notices)
        if result.final:
            self.files_scanned += 1
            self.files_repaired += result.repaired
            self.formats[result.format] += 1
        self.selected.update(result.selected)
        if "file" in self.by and result.selected:
            self.selected_by_file[result.path] += sum(result.selected.values())
        if "conversation" in self.by:
            self.selected_by_conversation.update(result.selected_by_conversation)
        # A conversation lives in one file, so distinct conversations can be counted per file.
        conversations: dict[tuple[str, str], set[str]] = defaultdict(set)
        # Per set, model and conversation, the relations of its counted hits.
        held: dict[tuple[str, str, str], set[Relation]] = defaultdict(set)
        parts = [self._add_turn(turn_hits, conversations, held)
                 for turn_hits in result.hit_turns]
        for key, ids in conversations.items():
            if key[1] is None:
                self.sets[key[0]].conversations += len(ids)
            else:
                self.patterns[key].conversations += len(ids)
        self._count_relations(held)
        counted = [hits for hits, (replay, _) in parts if self.count_replays or not replay]
        counts = FileCounts(result.conversations, Counter(result.turns),
                            hits=sum(map(len, counted)),
                            hits_including_replays=sum(len(hits) for hits, _ in parts),
                            turns_with_hits=len(counted))
        self.totals.add(counts)
        return Added(HitRecords(parts, _hit_record), counts)

    def _count_relations(self, held: dict[tuple[str, str, str], set[Relation]]) -> None:
        """Per set and model, the conversations it originated the set in, only echoed it in,
        and was prompted with it in (counted hits only; a conversation lies in one part)."""
        for (set_name, model, _), relations in held.items():
            if Relation.ORIGIN in relations:
                self.relation_conversations[(set_name, model, "originated")] += 1
            elif Relation.ECHO in relations:
                self.relation_conversations[(set_name, model, "echoed_only")] += 1
            if Relation.PROMPTED in relations:
                self.relation_conversations[(set_name, model, "prompted")] += 1

    def _add_turn(self, turn_hits: TurnHits, conversations: dict, held: dict
                  ) -> tuple[HitList, tuple]:
        """Count one turn's hits, per (set, pattern) at once: they share the turn, so
        every breakdown value but the relation (which is per set) is the same for all."""
        hits = HitList.of(turn_hits.turn, turn_hits.hits)
        turn = turn_hits.turn
        replay = self._replays.met_again(turn_hits.digest)
        counted = self.count_replays or not replay
        for key, n in sorted(hits.pattern_counts().items()):
            count = self.patterns[key]
            count.hits_including_replays += n
            if not counted:
                continue
            count.hits += n
            count.turns += 1
            conversations[key].add(turn.conversation)
            relation = turn_hits.relations[key[0]]
            held[(key[0], turn.model or "", turn.conversation)].add(relation)
            for dimension in self.tracked:
                value = dimension_value(dimension, turn, relation)
                self.by_value[dimension][value] += n
                self.by_pattern[(dimension, value)][key] += n
        if counted:
            self._add_occurrences(turn_hits, hits, conversations)
        return hits, (replay, turn_hits.relations)

    def _add_occurrences(self, turn_hits: TurnHits, hits: HitList, conversations: dict) -> None:
        occurrences = distinct_occurrences(hits)
        for name, n in occurrences.items():
            count = self.sets[name]
            count.occurrences += n
            count.turns += 1
            conversations[(name, None)].add(turn_hits.turn.conversation)
            for dimension in self.tracked:
                value = dimension_value(dimension, turn_hits.turn, turn_hits.relations[name])
                self.by_occurrences[dimension][value] += n

    @property
    def occurrences(self) -> int:
        return sum(c.occurrences for c in self.sets.values())

    @property
    def hits(self) -> int:
        return sum(c.hits for c in self.patterns.values())

    @property
    def hits_including_replays(self) -> int:
        return sum(c.hits_including_replays for c in self.patterns.values())

    @property
    def turns_searched(self) -> int:
        return sum(self.selected.values())

    def selected_turns(self, dimension: str) -> Counter | None:
        """Turns searched per value of `dimension`; None for a property of hits (relation)."""
        if dimension == "file":
            return self.selected_by_file
        if dimension == "conversation":
            return self.selected_by_conversation
        index = _TURN_KEY_INDEX.get(dimension)
        if index is None:
            return None
        turns: Counter = Counter()
        for key, n in self.selected.items():
            turns[key[index]] += n
        return turns

    def breakdown(self, dimension: str) -> list[dict]:
        """Rows of one breakdown: every value of the turns searched, with zero hits where it
        has none; months in date order (unknown last), other values most hits first."""
        hits_of, turns_of = self.by_value[dimension], self.selected_turns(dimension)
        values = set(hits_of) | set(turns_of or ())
        if dimension == "month":
            order = sorted(values, key=lambda value: (value == "", value))
        else:
            order = sorted(values, key=lambda value: (-hits_of[value], value))
        return [self._breakdown_row(dimension, value, hits_of[value],
                                    None if turns_of is None else turns_of[value])
                for value in order]

    def _breakdown_row(self, dimension: str, value: str, hits: int, turns: int | None) -> dict:
        patterns = self.by_pattern.get((dimension, value), {})
        return {
            "value": value,
            "hits": hits,
            "occurrences": self.by_occurrences[dimension].get(value, 0),
            "turns": turns,
            "rate_per_1000_turns": rate(hits, turns),
            "patterns": {f"{s}/{p}": n for (s, p), n in sorted(patterns.items())},
        }

    def summary(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "files_scanned": self.files_scanned,
            "files_skipped": len(self.skipped),
            "files_repaired": self.files_repaired,
            "errors": len(self.errors),
            "formats": dict(sorted(self.formats.items())),
            "conversations": self.totals.conversations,
            "turns": {role.value: self.totals.turns.get(role.value, 0) for role in Role},
            "turns_matched": self.turns_searched,  # the documented field: turns searched
            "hits": self.hits,
            "hits_including_replays": self.hits_including_replays,
            "occurrences": self.occurrences,
            "sets": [self._set_row(name) for name in self.sets],
            "patterns": [self._pattern_row(key) for key in self.pattern_keys],
            "by": {dimension: self.breakdown(dimension) for dimension in self.by},
            "relations": self.relation_rows(),
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "notices": dict(sorted(self.notices.items())),
        }

    def relation_rows(self) -> list[dict]:
        """Per set and model: conversations it `originated` the set in, conversations where
        it said the set only as an echo of another speaker (`echoed_only`), and
        conversations where a prompt already held it (`prompted`)."""
        set_order = list(dict.fromkeys(name for name, _ in self.pattern_keys))
        pairs = sorted({(s, m) for s, m, _ in self.relation_conversations},
                       key=lambda pair: (set_order.index(pair[0]), pair[1]))
        return [{"set": s, "model": m,
                 **{kind: self.relation_conversations[(s, m, kind)]
                    for kind in ("originated", "echoed_only", "prompted")}}
                for s, m in pairs]

    def _set_row(self, name: str) -> dict:
        count = self.sets[name]
        return {
            "set": name,
            "hits": sum(self.patterns[key].hits for key in self.pattern_keys if key[0] == name),
            "occurrences": count.occurrences,
            "turns": count.turns,
            "conversations": count.conversations,
            "rate_per_1000_turns": rate(count.occurrences, self.turns_searched),
        }

    def _pattern_row(self, key: tuple[str, str]) -> dict:
        count = self.patterns[key]
        return {
            "set": key[0],
            "pattern": key[1],
            "hits": count.hits,
            "hits_including_replays": count.hits_including_replays,
            "turns": count.turns,
            "conversations": count.conversations,
            "rate_per_1000_turns": rate(count.hits, self.turns_searched),
        }


def rate(hits: int, turns: int | None) -> float | None:
    if not turns:
        return None
    return round(hits * 1000 / turns, 3)


# --- compact state for shards ------------------------------------------------------------

_TURN_FIELDS = ("conversation", "index", "speaker", "source", "line", "column", "model",
                "scenario", "timestamp")


def state_of(result: FileResult, unit: int) -> dict:
    """What `merge` needs of one file's result, as JSON-ready data (turn texts left out)."""
    return {
        "unit": unit,
        "path": result.path,
        "format": result.format,
        "skipped": result.skipped,
        "error": result.error,
        "conversations": result.conversations,
        "turns": dict(result.turns),
        "selected": [[*key, n] for key, n in result.selected.items()],
        "selected_by_conversation": dict(result.selected_by_conversation),
        "repaired": result.repaired,
        "notices": [problem_kind(notice.message) for notice in result.notices],
        "hit_turns": [_turn_hits_state(th) for th in result.hit_turns],
        "final": result.final,
    }


def _turn_hits_state(turn_hits: TurnHits) -> dict:
    turn = turn_hits.turn
    return {
        "digest": turn_hits.digest.hex(),
        "role": turn.role.value,
        **{name: getattr(turn, name) for name in _TURN_FIELDS},
        "hits": [[h.set, h.pattern, h.start, h.end] for h in turn_hits.hits],
        "relations": {name: relation.value for name, relation in turn_hits.relations.items()},
    }


def result_from_state(state: dict) -> FileResult:
    """The inverse of `state_of`, with empty turn texts."""
    return FileResult(
        path=state["path"],
        format=state["format"],
        skipped=state["skipped"],
        error=state["error"],
        conversations=state["conversations"],
        turns=Counter(state["turns"]),
        selected=Counter({tuple(row[:-1]): row[-1] for row in state["selected"]}),
        selected_by_conversation=Counter(state.get("selected_by_conversation", {})),
        repaired=state["repaired"],
        notices=[Notice(state["path"], kind) for kind in state.get("notices", [])],
        hit_turns=[_turn_hits_from_state(th) for th in state["hit_turns"]],
        final=state["final"],
    )


def _turn_hits_from_state(state: dict) -> TurnHits:
    turn = Turn(role=Role(state["role"]), text="", verbatim=False,
                **{name: state[name] for name in _TURN_FIELDS})
    hits = [Hit(set_name, pattern, turn, *span) for set_name, pattern, *span in state["hits"]]
    relations = {name: Relation(value) for name, value in state["relations"].items()}
    return TurnHits(turn, bytes.fromhex(state["digest"]), hits, relations)
