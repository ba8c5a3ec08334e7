"""The records the machine formats write, each defined once: the fields of a hit (JSONL
`match` events, CSV rows, `json --hits`) and the events of a file in the JSONL stream."""

from __future__ import annotations

from backrooms_scan.tally import FileCounts, HitRecord, problem_kind

HIT_FIELDS = ("path", "line", "column", "conversation", "turn", "speaker", "speaker_inferred",
              "model", "scenario", "role", "timestamp", "set", "pattern", "match", "before",
              "after", "replay", "relation")


class HitPositions:
    """The (line, column) of hits read in order: within a turn, line breaks are counted
    on from the previous hit, not from the turn's start, so a long line with many hits
    takes time linear in its length, not in its length times its hits."""

    def __init__(self) -> None:
        self._turn = None
        self._offset = self._breaks = 0
        self._line_start = -1

    def of(self, hit) -> tuple[int, int]:
        turn = hit.turn
        if not turn.verbatim:
            return turn.line, turn.column
        if turn is not self._turn or hit.start < self._offset:
            self._turn, self._offset, self._breaks, self._line_start = turn, 0, 0, -1
        text, offset = turn.text, hit.start
        breaks = text.count("\n", self._offset, offset)
        if breaks:
            self._breaks += breaks
            self._line_start = text.rfind("\n", self._offset, offset) + 1
        self._offset = offset
        if not self._breaks:
            return turn.line, turn.column + offset
        return turn.line + self._breaks, offset - self._line_start + 1


def hit_fields(record: HitRecord, context: int, positions: HitPositions | None = None) -> dict:
    """The documented fields of one hit, for the machine formats; `positions` locates hits
    read in order faster."""
    hit, turn = record.hit, record.hit.turn
    line, column = hit.position if positions is None else positions.of(hit)
    return {
        "path": turn.source,
        "line": line,
        "column": column,
        "conversation": turn.conversation,
        "turn": turn.index,
        "speaker": turn.speaker,
        "speaker_inferred": turn.speaker_inferred,
        "model": turn.model,
        "scenario": turn.scenario,
        "role": turn.role.value,
        "timestamp": turn.timestamp,
        "set": hit.set,
        "pattern": hit.pattern,
        "match": hit.text,
        "before": turn.text[max(0, hit.start - context) : hit.start],
        "after": turn.text[hit.end : hit.end + context],
        "replay": record.replay,
        "relation": record.relation.value,
    }


def begin_event(path: str, fmt: str | None) -> dict:
    return {"path": path, "format": fmt}


def end_event(path: str, fmt: str | None, counts: FileCounts, repaired: bool) -> dict:
    """A file's `end`: its counts, summed over its parts, as the tally counted them."""
    return {"path": path, "format": fmt, "conversations": counts.conversations,
            "turns": dict(counts.turns), "hits": counts.hits,
            "hits_including_replays": counts.hits_including_replays, "repaired": repaired}


def notice_event(notice) -> dict:
    return {"path": notice.path, "line": notice.line, "kind": problem_kind(notice.message),
            "message": notice.message}
