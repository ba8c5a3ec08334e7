"""The scan pipeline: input units -> documents -> conversations -> hits -> FileResults.

Each file gives one FileResult, or several parts when its hit turns would hold
too much text. Work is split into *units* (a regular file, an archive, or stdin)
so that processes can share it; results come back in input order whatever
`jobs` is, which keeps output and replay detection identical to one process.
"""

from __future__ import annotations

import io
import itertools
import multiprocessing
import multiprocessing.pool
import os
import stat
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import BinaryIO

from backrooms_scan import formats, interrupt, walk
from backrooms_scan.decode import (
    HEAD_SIZE,
    Document,
    classify_head,
    may_hold_mojibake,
    sniff_encoding,
)
from backrooms_scan.formats import chatjson
from backrooms_scan.json_layout import JsonLayout
from backrooms_scan.limits import Limits, default_limits
from backrooms_scan.matcher import Matcher, TurnMatch
from backrooms_scan.model_names import canonical_model
from backrooms_scan.patternsets import PatternSet
from backrooms_scan.records import Conversation, Hit, Notice, SkipFile, Turn
from backrooms_scan.relation import Occurrence, Relation, decide_relations
from backrooms_scan.replays import digest_of_folded
from backrooms_scan.select import Selection

# A file's hits are passed on in parts once their turns hold this much text, so a
# huge JSON array or JSONL file never keeps every hit turn of the file in memory.
PART_TEXT_LIMIT = 4 * 1024 * 1024
# ... or once they hold this many conversations, whose selected turns are counted each.
PART_CONVERSATIONS = 10_000
# Files this large are scanned by the main process, which passes their parts on
# as they come instead of receiving them all at once from a worker.
LARGE_UNIT_BYTES = 64 * 1024 * 1024
# Units go to worker processes in batches of about this much input, or this many
# units, and this many batches are handed out ahead of the one being reported.
BATCH_BYTES = 1024 * 1024
BATCH_UNITS = 64
BATCHES_IN_FLIGHT = 8
# Files up to this size are read whole first, so the matcher's prefilter can look at
# their bytes before anything is decoded; larger ones are streamed as before.
SCREEN_BYTES_LIMIT = 16 * 1024 * 1024
# Formats whose turn texts are slices of the decoded text or JSON strings in it, so a
# key that no turn can hold does not occur in the file's UTF-8 bytes either (see
# `Scanner._needs_no_matching`); the HTML formats, which drop markup, are not.
RAW_TEXT_FORMATS = frozenset({"backrooms", "forklog", "json", "chatlines", "text"})

# Selected turns are counted by this key so every breakdown can compute rates.
TurnKey = tuple[str, str, str, str]  # model, speaker, scenario, month


@dataclass(frozen=True)
class ScanOptions:
    selection: Selection = field(default_factory=Selection)
    input_format: str | None = None
    fix_text: bool = True
    word: bool = False
    exact: bool = False
    engine: str = "auto"
    json_layout: JsonLayout | None = None
    prefilter: bool = True  # False: every turn of every file is matched (the reference path)
    limits: Limits = field(default_factory=default_limits)  # what reading one input may take


@dataclass
class TurnHits:
    """A turn that has hits, with the digest of its folded text for replay detection and
    the relation of each set it holds to the set's other occurrences in the conversation."""

    turn: Turn
    digest: bytes
    hits: list[Hit]
    relations: dict[str, Relation]


@dataclass
class FileResult:
    """What scanning one input file produced; `skipped` or `error` say why it was not read."""

    path: str
    format: str | None = None
    skipped: str | None = None
    error: str | None = None
    notices: list[Notice] = field(default_factory=list)
    conversations: int = 0
    turns: Counter = field(default_factory=Counter)
    selected: Counter = field(default_factory=Counter)
    selected_by_conversation: Counter = field(default_factory=Counter)
    values_seen: set = field(default_factory=set)  # (field, value) of filtered fields
    repaired: bool = False
    hit_turns: list[TurnHits] = field(default_factory=list)
    final: bool = True  # false for all but the last part of a file read in parts


def turn_key(turn: Turn) -> TurnKey:
    return (turn.model or "", turn.speaker or "", turn.scenario or "", (turn.timestamp or "")[:7])


class Scanner:
    """Scans documents with one matcher; lives once per worker process."""

    def __init__(self, sets: Sequence[PatternSet], options: ScanOptions):
        self.options = options
        self.matcher = Matcher(sets, word=options.word, exact=options.exact, engine=options.engine,
                               prefilter=options.prefilter)
        self.forced = formats.by_name(options.input_format) if options.input_format else None
        self.declared_json = None
        if options.json_layout is not None:
            self.declared_json = replace(formats.by_name(chatjson.NAME),
                                         load=partial(chatjson.load, layout=options.json_layout))

    def scan_unit(self, unit: walk.Found, stdin: BinaryIO | None = None) -> list[FileResult]:
        return list(self.iter_unit(unit, stdin))

    def iter_unit(self, unit: walk.Found, stdin: BinaryIO | None = None) -> Iterator[FileResult]:
        """Results of one unit the walk found: a file, an archive's members, or stdin."""
        for item in walk.inputs_of(unit, stdin=stdin, limits=self.options.limits):
            if isinstance(item, walk.PathError):
                yield FileResult(item.path, error=item.message)
            elif isinstance(item, walk.Skipped):
                yield FileResult(item.path, skipped=item.reason)
            else:
                # The unit itself (not an archive member) is what the user named.
                yield from self.iter_input(item, explicit=unit.requested and item.path == unit.path)

    def iter_input(self, item: walk.Input, explicit: bool = False) -> Iterator[FileResult]:
        """One file's result, in parts when its hit turns would hold too much text.
        `explicit` (the user named this file, or it is stdin) lets plain text be read."""
        part, doc, read_any = FileResult(item.path), None, False
        try:
            doc, data = self._open(item)
            fmt = self._format_of(doc, explicit)
            part.format = fmt.name
            match = data is None or not self._needs_no_matching(doc, fmt, data)
            outline = None if match or fmt.outline is None else fmt.outline(doc, data)
            del data
            held = 0
            for conversation in [outline] if outline else fmt.load(doc):
                read_any = True
                held += self._scan_conversation(conversation, part, match)
                if held > PART_TEXT_LIMIT or len(part.selected_by_conversation) > PART_CONVERSATIONS:
                    part.final = False
                    yield part
                    part, held = FileResult(item.path, format=fmt.name), 0
        except Exception as exc:  # noqa: BLE001 - a bad file must never stop the scan
            reason = skip_reason(exc) if isinstance(exc, SkipFile) else describe_failure(exc)
            if read_any:
                doc.notices.add(f"reading stopped early: {reason}; what was read is counted")
            else:
                part.skipped = reason
        if doc is not None:
            for message in item.notices:  # what the walk met in the stream: trailing bytes
                doc.notices.add(message)
            part.notices, part.repaired = doc.notices.items, doc.repaired
        yield part

    def _open(self, item: walk.Input) -> tuple[Document, bytes | None]:
        """The file as a Document, and its whole content when its size is known and small
        enough to screen it in bytes (may raise walk.InputError, as opening does).

        Content of unknown size (compressed, stdin) is streamed, as is a large file. A
        file that breaks while it is read gives a Document that breaks at the same byte,
        so the conversations before it are still read.
        """
        if item.size is None or item.size > min(SCREEN_BYTES_LIMIT, item.limits.max_whole_file):
            return Document.from_input(item, fix_text=self.options.fix_text), None
        stream = item.open()
        chunks: list[bytes] = []
        try:
            while chunk := stream.read(SCREEN_BYTES_LIMIT + 1):
                chunks.append(chunk)
        except walk.InputError as error:
            data = b"".join(chunks)
            if len(data) < HEAD_SIZE:
                raise
            return self._document(item, data, _BreakingReplay(data, error)), None
        stream.close()
        data = b"".join(chunks)
        return self._document(item, data, io.BytesIO(data)), data

    def _document(self, item: walk.Input, data: bytes, stream: BinaryIO) -> Document:
        return Document(item.path, item.name, data[:HEAD_SIZE], stream,
                        fix_text=self.options.fix_text, max_record=item.limits.max_record)

    def _needs_no_matching(self, doc: Document, fmt: formats.Format, data: bytes) -> bool:
        """Whether the file's bytes show that none of its turns can hold a hit.

        That holds when the turns' texts are the file's UTF-8 text, or JSON strings in
        it (RAW_TEXT_FORMATS), and decoding changes no character a key may hold: the
        file is UTF-8 (no NUL, so no wide encoding either), has no terminal escapes
        (removing one can join two words), and no mojibake to repair; the prefilter
        then finds no key in the bytes.
        """
        return (
            fmt.name in RAW_TEXT_FORMATS
            and sniff_encoding(doc.head)[0] == "utf-8"
            and b"\x00" not in data
            and b"\x1b" not in data
            and not (self.options.fix_text and may_hold_mojibake(data, "utf-8"))
            and not self.matcher.may_hit(data)
        )

    def _format_of(self, doc: Document, explicit: bool) -> formats.Format:
        fmt = self.forced or formats.detect(doc, plain_text_fallback=explicit)
        reason = None if fmt is not None and fmt.binary else classify_head(doc.head)
        if reason:
            raise SkipFile(reason)
        if fmt is None:
            raise SkipFile("not a recognised transcript format")
        if self.declared_json is not None and fmt.name == chatjson.NAME:
            return self.declared_json
        return fmt

    def _scan_conversation(self, conversation: Conversation, result: FileResult,
                           match: bool = True) -> int:
        """Count one conversation, and match it unless `match` is false; the text held by
        its hit turns."""
        result.conversations += 1
        turns = with_canonical_models(conversation.turns)
        result.turns.update(turn.role.value for turn in turns)
        selected = self.options.selection.select(turns)
        result.selected.update(map(turn_key, selected))
        result.values_seen |= self.options.selection.values_seen(conversation.turns)
        if selected:
            result.selected_by_conversation[conversation.id] += len(selected)
        if not match:
            return 0
        found = self.matcher.match_turns(selected)
        relations = self._relations(turns, selected, found) if found else {}
        hit_turns = [TurnHits(match.turn, digest_of_folded(match.folded), match.hits,
                              {name: relations[(match.turn.index, name)]
                               for name in match.hits.set_names()})
                     for match in found]
        result.hit_turns.extend(hit_turns)
        return sum(len(turn_hits.turn.text) for turn_hits in hit_turns)

    def _relations(self, turns: Sequence[Turn], selected: Sequence[Turn],
                   found: Sequence[TurnMatch]) -> dict[tuple[int, str], Relation]:
        """Relations of the sets found, which also need the turns the filters left out
        (prompts, under the default --role spoken): they are searched, not counted."""
        chosen = {id(turn) for turn in selected}
        others = self.matcher.match_turns([turn for turn in turns if id(turn) not in chosen])
        return decide_relations(
            Occurrence(match.turn.index, match.turn.speaker, match.turn.role,
                       frozenset(match.hits.set_names()))
            for match in [*found, *others])


def with_canonical_models(turns: tuple[Turn, ...]) -> tuple[Turn, ...]:
    """The turns with each model named by its canonical name (see `model_names`): the one
    place where names are unified, so filters, records and breakdowns agree."""
    if all(canonical_model(model) == model for model in {turn.model for turn in turns if turn.model}):
        return turns
    return tuple(turn._replace(model=canonical_model(turn.model)) if turn.model else turn
                 for turn in turns)


class _BreakingReplay(io.RawIOBase):
    """Replays the bytes a stream gave before it broke, then raises its error. Unbuffered,
    so a read that reaches the break still returns the bytes before it."""

    def __init__(self, data: bytes, error: Exception):
        self._data = memoryview(data)
        self._error = error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if not self._data:
            raise self._error
        count = min(len(buffer), len(self._data))
        buffer[:count] = self._data[:count]
        self._data = self._data[count:]
        return count


def skip_reason(skip: SkipFile) -> str:
    """The loader's reason, with its line unless the reason already names it."""
    if skip.line is None or f"line {skip.line} " in f"{skip.reason} ":
        return skip.reason
    return f"{skip.reason} (line {skip.line})"


def describe_failure(exc: Exception) -> str:
    """One line saying why a file could not be read, for the skip report."""
    known = getattr(exc, "reason", None)
    if isinstance(known, str):
        return known
    if isinstance(exc, OSError):
        return f"unreadable: {exc.strerror or exc}"
    return f"could not be read: {type(exc).__name__}: {exc}"


# --- running units, in one process or several -------------------------------------------

_worker: Scanner | None = None


def _start_worker(sets: Sequence[PatternSet], options: ScanOptions) -> None:
    global _worker
    interrupt.as_worker()
    _worker = Scanner(sets, options)


def _scan_in_worker(batch: list[tuple[int, walk.Found]]) -> list[tuple[int, list[FileResult]]]:
    assert _worker is not None
    return [(index, _worker.scan_unit(unit)) for index, unit in batch]


def in_shard(index: int, shard: tuple[int, int] | None) -> bool:
    """Whether the unit at `index` belongs to shard (i, n), counting shards from 1."""
    return shard is None or index % shard[1] == shard[0] - 1


Unit = tuple[int, "walk.Found | walk.PathError | walk.Skipped"]


def scan_units(paths: Sequence[str], shard: tuple[int, int] | None = None) -> list[Unit]:
    """The units a scan reads, each with its index in walk order; what `run_scan` goes through."""
    return [(i, u) for i, u in enumerate(walk.iter_files(paths)) if in_shard(i, shard)]


@dataclass(frozen=True)
class UnitSize:
    """A unit's share of the work: its bytes on disk, and whether it is one file.

    Archives, stdin and pipes are not: they stream files whose number is known only at
    their end. Unreadable and skipped units are one file of no bytes."""

    size: int
    one_file: bool


def unit_size(unit: walk.Found | walk.PathError | walk.Skipped) -> UnitSize:
    """What stat and the name tell of a unit, without opening it."""
    if not isinstance(unit, walk.Found):
        return UnitSize(0, True)
    if unit.info is None:  # stdin
        return UnitSize(0, False)
    name = walk.strip_compression_suffix(os.path.basename(unit.path))
    archive = walk.archive_kind(name, b"") is not None
    return UnitSize(unit.info.st_size, stat.S_ISREG(unit.info.st_mode) and not archive)


def run_scan(
    paths: Sequence[str],
    sets: Sequence[PatternSet],
    options: ScanOptions,
    *,
    jobs: int = 1,
    shard: tuple[int, int] | None = None,
    stdin: BinaryIO | None = None,
    units: list[Unit] | None = None,
) -> Iterator[tuple[int, FileResult]]:
    """Every file's result in input order, with the index of the unit it came from;
    `units` are those `scan_units(paths, shard)` gives, if the caller has them already."""
    units = scan_units(paths, shard) if units is None else units
    scanner = Scanner(sets, options)
    pool = _pool(jobs, sets, options) if jobs > 1 and len(units) > 1 else None
    try:
        sizes = {index: size for index, unit in units
                 if (size := worker_size(pool, unit)) is not None}
        batches = _batches([(i, u) for i, u in units if i in sizes], sizes)
        from_workers = _dispatch(pool, batches)
        done: dict[int, list[FileResult]] = {}
        for index, unit in units:
            if isinstance(unit, walk.PathError):
                yield index, FileResult(unit.path, error=unit.message)
            elif isinstance(unit, walk.Skipped):
                yield index, FileResult(unit.path, skipped=unit.reason)
            elif index in sizes:
                while index not in done:
                    done.update(next(from_workers))
                for result in done.pop(index):
                    yield index, result
            else:
                for result in scanner.iter_unit(unit, stdin=stdin):
                    yield index, result
    finally:
        if pool is not None:
            pool.terminate()


def _pool(jobs: int, sets: Sequence[PatternSet], options: ScanOptions):
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with interrupt.blocked():  # workers start with signals held until they ignore SIGINT
        return _Pool(jobs, initializer=_start_worker, initargs=(list(sets), options),
                     context=context)


class _Pool(multiprocessing.pool.Pool):
    """A process pool whose worker handler wakes only when a worker ends, the jobs run out
    or the pool closes, as a thread pool's does. The standard one also wakes whenever a
    result waits to be read, and spins until its result thread has read it: a third of the
    main process's CPU in a scan (0.18 s of 0.6 s on the realistic benchmark dump), taken
    from the workers when they have a core each."""

    def _get_sentinels(self) -> list:
        notifier = getattr(self, "_change_notifier", None)
        return [notifier._reader] if notifier is not None else super()._get_sentinels()


def worker_size(pool, unit: walk.Found | walk.PathError | walk.Skipped) -> int | None:
    """The size of a unit a worker scans; None for the main process's units: stdin, pipes,
    very large files, and all of them when there is no pool."""
    if pool is None or not isinstance(unit, walk.Found) or unit.info is None:
        return None
    if not stat.S_ISREG(unit.info.st_mode):
        return None
    return unit.info.st_size if unit.info.st_size <= LARGE_UNIT_BYTES else None


def _batches(tasks: list[tuple[int, walk.Found]], sizes: dict[int, int]
             ) -> Iterator[list[tuple[int, walk.Found]]]:
    """Consecutive units (index, unit) grouped so that each batch sent to a worker is
    worth its cost."""
    batch: list[tuple[int, walk.Found]] = []
    held = 0
    for task in tasks:
        batch.append(task)
        held += sizes[task[0]]
        if held >= BATCH_BYTES or len(batch) >= BATCH_UNITS:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch


def _dispatch(pool, batches: Iterator[list]) -> Iterator[list[tuple[int, list[FileResult]]]]:
    """Worker results batch by batch in order, with a bounded number of batches in flight,
    so results do not pile up while the main process is busy with a large file."""
    if pool is None:
        return
    in_flight = deque(pool.apply_async(_scan_in_worker, (batch,))
                      for batch in itertools.islice(batches, BATCHES_IN_FLIGHT))
    while in_flight:
        results = in_flight.popleft().get()
        for batch in itertools.islice(batches, 1):
            in_flight.append(pool.apply_async(_scan_in_worker, (batch,)))
        yield results
