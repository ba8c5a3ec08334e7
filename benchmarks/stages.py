"""Time each stage of a scan on one dump, in one process: where the seconds go.

    python benchmarks/stages.py DUMP [--engine NAME]

Stages are cumulative, each doing what the scan does up to that point:

- `read`: walk the dump and read every file's bytes;
- `sniff`: and decide each file's format (`formats.detect` on its head);
- `prefilter`: and ask the byte-level prefilter (`Matcher.may_hit`) whether the file's
  bytes can hold a hit;
- `count`: and read the turns as counting needs them: a file the prefilter rules out
  from its outline when its format has one (format A: attribution from the bytes,
  texts never decoded), every other file in full (decoding, repair, splitting);
- `scan`: the whole scan of each file (`Scanner.scan_unit`: all of the above, then the
  turn screen, folding and automaton on the turns that pass, hit mapping, relations),
  as `scan --jobs 1` does it without reporting.

So each stage's time less the one before is what that step costs. Only public
interfaces are used, so the figures are what a caller would get.

`--by-kind` then times the same steps file by file and prints, for each kind of file
(format, whether the prefilter rules it out, whether it has hits), how many there are
and the microseconds one of them takes in each step: where a dump of many small files
spends its time, and the least that reading, sniffing and the prefilter cost a scan of
this dump before any turn is counted.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backrooms_scan import formats, walk
from backrooms_scan.decode import Document, classify_head, may_hold_mojibake
from backrooms_scan.matcher import Matcher
from backrooms_scan.patternsets import shipped_sets
from backrooms_scan.records import SkipFile
from backrooms_scan.scan import Scanner, ScanOptions


def files_of(dump: str) -> Iterator[tuple[str, bytes]]:
    for item in walk.iter_inputs([dump]):
        if isinstance(item, walk.Input):
            with item.open() as stream:
                yield item.path, stream.read()


def readable_format(doc: Document) -> formats.Format | None:
    """The document's format, as the scan decides it, unless its head gets it skipped."""
    fmt = formats.detect(doc)
    return fmt if fmt is not None and (fmt.binary or not classify_head(doc.head)) else None


def sniffed(dump: str) -> Iterator[tuple[Document, bytes, formats.Format]]:
    for path, data in files_of(dump):
        doc = Document.from_bytes(path, data)
        if (fmt := readable_format(doc)) is not None:
            yield doc, data, fmt


def ruled_out(data: bytes, matcher: Matcher) -> bool:
    """Whether the scan counts the file without matching it (UTF-8 bytes assumed)."""
    return not (may_hold_mojibake(data, "utf-8") or matcher.may_hit(data))


def counted(doc: Document, data: bytes, fmt: formats.Format, outlined: bool) -> list:
    """The conversations counting reads: the outline of a file `outlined` (ruled out by
    the prefilter) when its format has one that serves, else all of it."""
    outline = fmt.outline(doc, data) if outlined and fmt.outline else None
    return [outline] if outline else list(fmt.load(doc))


def stage_read(dump: str) -> tuple[int, int]:
    files = size = 0
    for _, data in files_of(dump):
        files += 1
        size += len(data)
    return files, size


def stage_sniff(dump: str) -> int:
    return sum(1 for _ in sniffed(dump))


def stage_prefilter(dump: str, matcher: Matcher) -> int:
    """Files whose bytes the prefilter cannot rule out."""
    return sum(matcher.may_hit(data) for _, data, _ in sniffed(dump))


def stage_count(dump: str, matcher: Matcher) -> int:
    """Turns read, from outlines where the scan reads them so."""
    turns = 0
    for doc, data, fmt in sniffed(dump):
        try:
            conversations = counted(doc, data, fmt, ruled_out(data, matcher))
        except SkipFile:
            continue
        turns += sum(len(conversation.turns) for conversation in conversations)
    return turns


def stage_scan(dump: str, engine: str) -> int:
    scanner = Scanner(shipped_sets(), ScanOptions(engine=engine))
    hits = 0
    for unit in walk.iter_files([dump]):
        if isinstance(unit, walk.Found):
            hits += sum(len(th.hits) for r in scanner.scan_unit(unit) for th in r.hit_turns)
    return hits


def timed(label: str, size: int, function, *args):
    started = time.perf_counter()
    result = function(*args)
    seconds = time.perf_counter() - started
    print(f"{label:9} {seconds:7.2f} s  {size / seconds / 1e6:7.1f} MB/s  ({result})", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dump")
    parser.add_argument("--engine", default="auto")
    parser.add_argument("--by-kind", action="store_true",
                        help="then time each step file by file, by kind of file")
    args = parser.parse_args()
    files, size = stage_read(args.dump)  # warms the page cache too
    print(f"{files} files, {size / 1e6:.1f} MB")
    matcher = Matcher(shipped_sets(), engine=args.engine)
    timed("read", size, stage_read, args.dump)
    timed("sniff", size, stage_sniff, args.dump)
    timed("prefilter", size, stage_prefilter, args.dump, matcher)
    timed("count", size, stage_count, args.dump, matcher)
    timed("scan", size, stage_scan, args.dump, args.engine)
    if args.by_kind:
        print_by_kind(args.dump, args.engine)


STEPS = ("read", "sniff", "prefilter", "count", "scan")


def time_by_kind(dump: str, engine: str) -> dict[tuple[str, str, str], list[float]]:
    """Seconds of each step (STEPS, then the file count) summed by kind of file. `scan`
    is the whole of `Scanner.iter_input` for the file, so it holds the others."""
    scanner = Scanner(shipped_sets(), ScanOptions(engine=engine))
    matcher = scanner.matcher
    totals: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0] * (len(STEPS) + 1))
    for item in walk.iter_inputs([dump]):
        if not isinstance(item, walk.Input):
            continue
        clock = [time.perf_counter()]
        with item.open() as stream:
            data = stream.read()
        clock.append(time.perf_counter())
        doc = Document.from_bytes(item.path, data)
        fmt = readable_format(doc)
        clock.append(time.perf_counter())
        outlined = fmt is not None and ruled_out(data, matcher)
        clock.append(time.perf_counter())
        try:
            if fmt is not None:
                counted(doc, data, fmt, outlined)
        except SkipFile:
            fmt = None
        clock.append(time.perf_counter())
        results = list(scanner.iter_input(item))
        clock.append(time.perf_counter())
        kind = (fmt.name if fmt else "skipped", "ruled out" if outlined else "read",
                "hits" if any(result.hit_turns for result in results) else "no hits")
        steps = [later - earlier for earlier, later in pairwise(clock)]
        totals[kind] = [total + step for total, step in zip(totals[kind], [*steps, 1])]
    return totals


def print_by_kind(dump: str, engine: str) -> None:
    totals = time_by_kind(dump, engine)
    print(f"\n{'kind of file':38} {'files':>6}  " + "  ".join(f"{s:>9}" for s in STEPS)
          + "   (microseconds a file; scan is the whole of one file)")
    for kind, (*steps, files) in sorted(totals.items(), key=lambda item: -item[1][STEPS.index("scan")]):
        print(f"{' / '.join(kind):38} {int(files):6}  "
              + "  ".join(f"{step / files * 1e6:9.0f}" for step in steps))
    before_counting = sum(sum(steps[:3]) for steps in totals.values())
    print(f"reading, sniffing and the prefilter alone: {before_counting:.2f} s in one process")


if __name__ == "__main__":
    main()
