"""Shard results as `merge` reads them: every field checked before anything is counted.

A `scan --shard I/N -f json` result carries, besides its summary, what merging
needs: `shard` (index, count), `patterns_used`, `count_replays`, `options` (the
scan options that change counts) and `state` (per file, see `tally.state_of`).
A damaged file, or shards made with different options, is one line naming the
file and the field or option, never a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence

from backrooms_scan.records import Role
from backrooms_scan.relation import Relation
from backrooms_scan.scan import ScanOptions


class ShardError(ValueError):
    """A shard result that cannot be merged; the message is the one line shown."""


# --- the options that change what a shard counts --------------------------------------

# Option in the record -> how the command line spells it, for messages.
OPTION_FLAGS = {
    "role": "--role", "model": "--model", "speaker": "--speaker", "scenario": "--scenario",
    "since": "--since", "until": "--until", "exact": "--exact", "word": "--word",
    "input_format": "--input-format", "fix_text": "--no-fix-text",
    "json_layout": "--json-layout", "count_replays": "--count-replays",
    "max_file_size": "--max-file-size", "max_record_size": "--max-record-size",
}


def options_record(scan: ScanOptions, count_replays: bool) -> dict:
    """The options of a scan that change its counts, as JSON-ready data."""
    selection = scan.selection
    return {
        "role": sorted(role.value for role in selection.roles),
        "model": list(selection.models),
        "speaker": list(selection.speakers),
        "scenario": list(selection.scenarios),
        "since": selection.since,
        "until": selection.until,
        "exact": scan.exact,
        "word": scan.word,
        "input_format": scan.input_format,
        "fix_text": scan.fix_text,
        "json_layout": None if scan.json_layout is None else repr(scan.json_layout),
        "count_replays": count_replays,
        "max_file_size": scan.limits.max_whole_file,
        "max_record_size": scan.limits.max_record,
    }


# --- field checks: each returns the problem with a value, or None ------------------------

Check = Callable[[object], "str | None"]


def _is(kind: type | tuple[type, ...], wanted: str) -> Check:
    def check(value: object) -> str | None:
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            return f"must be {wanted}"
        return None if isinstance(value, kind) else f"must be {wanted}"

    return check


def _counting(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return "must be a whole number, 0 or more"
    return None


def _positive(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return "must be a whole number, 1 or more"
    return None


_TEXT = _is(str, "a string")
_TEXT_OR_NULL = _is((str, type(None)), "a string or null")
_BOOLEAN = _is(bool, "true or false")
_INTEGER = _is(int, "an integer")


def _one_of(values: Sequence[str]) -> Check:
    def check(value: object) -> str | None:
        return None if value in values else f"must be one of {', '.join(values)}"

    return check


def _digest(value: object) -> str | None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{32}", value):
        return "must be 32 hexadecimal digits"
    return None


class _Fields:
    """Walks a document, giving the first problem as `field 'a.b[3].c' ...`."""

    def __init__(self) -> None:
        self.problem: str | None = None

    def fail(self, where: str, problem: str) -> bool:
        self.problem = self.problem or f"field '{where}' {problem}"
        return False

    def value(self, value: object, where: str, check: Check) -> bool:
        problem = check(value)
        return self.fail(where, problem) if problem else True

    def mapping(self, value: object, where: str, fields: Mapping[str, Check | Callable]) -> bool:
        if not isinstance(value, dict):
            return self.fail(where, "must be an object")
        for name, check in fields.items():
            inner = f"{where}.{name}" if where else name
            if name not in value:
                return self.fail(inner, "is missing")
            if not check(self, value[name], inner):
                return False
        return True

    def items(self, value: object, where: str, check: Callable) -> bool:
        if not isinstance(value, list):
            return self.fail(where, "must be a list")
        return all(check(self, item, f"{where}[{n}]") for n, item in enumerate(value))

    def pairs(self, value: object, where: str, key: Check, item: Check) -> bool:
        if not isinstance(value, dict):
            return self.fail(where, "must be an object")
        for name, inner in value.items():
            if not self.value(name, f"{where}.{name}", key):
                return False
            if not self.value(inner, f"{where}.{name}", item):
                return False
        return True


def _plain(check: Check) -> Callable:
    return lambda fields, value, where: fields.value(value, where, check)


def _list_of(check: Callable) -> Callable:
    return lambda fields, value, where: fields.items(value, where, check)


def _object(spec: Mapping[str, Callable]) -> Callable:
    return lambda fields, value, where: fields.mapping(value, where, spec)


def _row(*checks: Check) -> Callable:
    """A list of exactly these values, e.g. a [set, pattern] pair."""

    def check(fields: _Fields, value: object, where: str) -> bool:
        if not isinstance(value, list) or len(value) != len(checks):
            return fields.fail(where, f"must be a list of {len(checks)} values")
        return all(fields.value(item, f"{where}[{n}]", one)
                   for n, (item, one) in enumerate(zip(value, checks)))

    return check


def _counts_by(key: Check) -> Callable:
    return lambda fields, value, where: fields.pairs(value, where, key, _counting)


_HIT_TURN = _object({
    "digest": _plain(_digest),
    "role": _plain(_one_of([role.value for role in Role])),
    "conversation": _plain(_TEXT),
    "index": _plain(_INTEGER),
    "speaker": _plain(_TEXT_OR_NULL),
    "source": _plain(_TEXT),
    "line": _plain(_INTEGER),
    "column": _plain(_INTEGER),
    "model": _plain(_TEXT_OR_NULL),
    "scenario": _plain(_TEXT_OR_NULL),
    "timestamp": _plain(_TEXT_OR_NULL),
    "hits": _list_of(_row(_TEXT, _TEXT, _counting, _counting)),  # set, pattern, [start, end)
    "relations": lambda fields, value, where: fields.pairs(
        value, where, _TEXT, _one_of([relation.value for relation in Relation])),
})

# One file's state, as `tally.state_of` writes it.
STATE_FIELDS: dict[str, Callable] = {
    "unit": _plain(_counting),
    "path": _plain(_TEXT),
    "format": _plain(_TEXT_OR_NULL),
    "skipped": _plain(_TEXT_OR_NULL),
    "error": _plain(_TEXT_OR_NULL),
    "conversations": _plain(_counting),
    "turns": _counts_by(_one_of([role.value for role in Role])),
    "selected": _list_of(_row(_TEXT, _TEXT, _TEXT, _TEXT, _counting)),
    "selected_by_conversation": _counts_by(_TEXT),
    "repaired": _plain(_BOOLEAN),
    "notices": _list_of(_plain(_TEXT)),
    "hit_turns": _list_of(_HIT_TURN),
    "final": _plain(_BOOLEAN),
}

_OPTIONS = _object({
    "role": _list_of(_plain(_one_of([role.value for role in Role]))),
    **{name: _list_of(_plain(_TEXT)) for name in ("model", "speaker", "scenario")},
    **{name: _plain(_TEXT_OR_NULL) for name in ("since", "until", "input_format", "json_layout")},
    **{name: _plain(_BOOLEAN) for name in ("exact", "word", "fix_text", "count_replays")},
    "max_file_size": _plain(_positive),
    "max_record_size": _plain(_positive),
})

_DOCUMENT = {
    "shard": _object({"index": _plain(_positive), "count": _plain(_positive)}),
    "patterns_used": _list_of(_row(_TEXT, _is(list, "a list"))),
    "count_replays": _plain(_BOOLEAN),
    "options": _OPTIONS,
    "state": _list_of(_object(STATE_FIELDS)),
}


def _document_problem(document: object) -> str | None:
    fields = _Fields()
    if not fields.mapping(document, "", _DOCUMENT):
        return fields.problem
    for n, (name, ids) in enumerate(document["patterns_used"]):
        if not fields.items(ids, f"patterns_used[{n}][1]", _plain(_TEXT)):
            return fields.problem
    return _consistency_problem(document)


def _consistency_problem(document: dict) -> str | None:
    """What the field types cannot say: units in their shard, hits of known patterns."""
    index, count = document["shard"]["index"], document["shard"]["count"]
    if index > count:
        return "field 'shard.index' must not be above 'shard.count'"
    known = {(name, pattern) for name, ids in document["patterns_used"] for pattern in ids}
    for n, state in enumerate(document["state"]):
        if state["unit"] % count != index - 1:
            return f"field 'state[{n}].unit' ({state['unit']}) is not one of shard {index}/{count}"
        for t, turn in enumerate(state["hit_turns"]):
            for h, (set_name, pattern, *_) in enumerate(turn["hits"]):
                where = f"state[{n}].hit_turns[{t}].hits[{h}]"
                if (set_name, pattern) not in known:
                    return f"field '{where}' names {set_name}/{pattern}, not in 'patterns_used'"
                if set_name not in turn["relations"]:
                    return f"field '{where}' has set {set_name}, missing from its 'relations'"
    return None


def read_shard(path: str) -> dict:
    """A shard result, every field checked; ShardError names the file and the field."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError, RecursionError) as error:
        raise ShardError(f"{path}: cannot read shard result: {error}") from None
    if not isinstance(document, dict) or ("state" not in document and "shard" not in document):
        raise ShardError(f"{path}: not a shard result (run scan with --shard I/N --format json)")
    problem = _document_problem(document)
    if problem:
        raise ShardError(f"{path}: not a valid shard result: {problem}")
    return document


def check_shards_match(paths: Sequence[str], shards: Sequence[dict]) -> None:
    """Refuse shards that do not make one whole run: other N, missing or repeated
    shards, other pattern sets, other options."""
    counts = {s["shard"]["count"] for s in shards}
    if len(counts) != 1:
        raise ShardError("shard results come from different --shard N values")
    count = counts.pop()
    indexes = sorted(s["shard"]["index"] for s in shards)
    if indexes != list(range(1, count + 1)):
        raise ShardError(f"need shards 1..{count} once each, got {indexes}")
    if len({json.dumps(s["patterns_used"]) for s in shards}) != 1:
        raise ShardError("shard results were made with different pattern sets")
    first = shards[0]["options"]
    for path, shard in zip(paths[1:], shards[1:]):
        for name, value in shard["options"].items():
            if first.get(name) != value:
                raise ShardError(
                    f"shard results were made with different options: {OPTION_FLAGS.get(name, name)} is"
                    f" {_shown(name, first.get(name))} in {paths[0]},"
                    f" {_shown(name, value)} in {path}"
                )


def _shown(name: str, value: object) -> str:
    if name == "role" and value == sorted(role.value for role in Role):
        return "all"
    if isinstance(value, list):
        return ", ".join(map(str, value)) if value else "not given"
    if isinstance(value, bool):
        return "on" if value != (name == "fix_text") else "off"
    return "not given" if value is None else str(value)
