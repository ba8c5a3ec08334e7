"""Time each stage of a scan on one dump, in one process: where the seconds go.

    python benchmarks/stages.py DUMP [--engine NAME]

Stages are cumulative: `read` walks and reads every file; `prefilter` adds asking the
matcher's byte-level prefilter (`Matcher.may_hit`) whether each file's bytes can hold a
hit; `load` is reading, decoding, format sniffing and splitting into turns; `squeeze` adds
folding the spoken turns of each conversation with spaces dropped (what the matcher
screens turns the prefilter cannot judge with); `match` is the full scan (prefilter, screen,
fold and automaton on the turns that pass, hit mapping), as `scan --jobs 1` does it without
reporting. Only public interfaces are used, so the figures are what a caller would get.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backrooms_scan import formats, walk
from backrooms_scan.decode import Document, classify_head
from backrooms_scan.matcher import Matcher
from backrooms_scan.model import Role, SkipFile
from backrooms_scan.normalize import squeeze_joined
from backrooms_scan.patterns import shipped_sets
from backrooms_scan.scan import Scanner, ScanOptions


def inputs(dump: str):
    for unit in walk.iter_files([dump]):
        if isinstance(unit, str):
            yield from (i for i in walk.iter_inputs([unit]) if isinstance(i, walk.Input))


def stage_read(dump: str) -> tuple[int, int]:
    files = size = 0
    for item in inputs(dump):
        with item.open() as stream:
            size += len(stream.read())
        files += 1
    return files, size


def spoken_turns(dump: str):
    for item in inputs(dump):
        doc = Document.from_input(item)
        if classify_head(doc.head):
            continue
        fmt = formats.detect(doc)
        if fmt is None:
            continue
        try:
            for conversation in fmt.load(doc):
                yield [t for t in conversation.turns if t.role is Role.SPOKEN]
        except SkipFile:
            continue


def stage_load(dump: str) -> int:
    return sum(len(turns) for turns in spoken_turns(dump))


def stage_squeeze(dump: str) -> int:
    return sum(len(squeeze_joined([turn.text for turn in turns])) for turns in spoken_turns(dump))


def stage_prefilter(dump: str, engine: str) -> int:
    """Files whose bytes the prefilter cannot rule out."""
    matcher = Matcher(shipped_sets(), engine=engine)
    candidates = 0
    for item in inputs(dump):
        with item.open() as stream:
            candidates += matcher.may_hit(stream.read())
    return candidates


def stage_match(dump: str, engine: str) -> int:
    scanner = Scanner(shipped_sets(), ScanOptions(engine=engine))
    hits = 0
    for unit in walk.iter_files([dump]):
        if isinstance(unit, str):
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
    args = parser.parse_args()
    files, size = stage_read(args.dump)  # warms the page cache too
    print(f"{files} files, {size / 1e6:.1f} MB")
    timed("read", size, stage_read, args.dump)
    timed("prefilter", size, stage_prefilter, args.dump, args.engine)
    timed("load", size, stage_load, args.dump)
    timed("squeeze", size, stage_squeeze, args.dump)
    timed("match", size, stage_match, args.dump, args.engine)


if __name__ == "__main__":
    main()
