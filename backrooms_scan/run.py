"""The scan and merge commands' bodies: wire the core to reporters, stderr and exit codes."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

from backrooms_scan.model import Role
from backrooms_scan.patterns import PatternSet
from backrooms_scan.report import OUTPUT_FORMATS, ReportOptions, make_reporter
from backrooms_scan.report.base import Reporter
from backrooms_scan.report.progress import LazyProgress
from backrooms_scan.scan import FileResult, ScanOptions, run_scan
from backrooms_scan.select import Selection
from backrooms_scan.status import ExitStatus
from backrooms_scan.tally import Tally, result_from_state, state_of
from backrooms_scan.thresholds import Threshold, ThresholdError, first_tripped, parse_threshold

PROG = "backrooms-scan"


class RequestError(ValueError):
    """A bad option value; the message is the one line shown to the user."""


@dataclass
class ScanRequest:
    paths: list[str]
    sets: list[PatternSet]
    scan: ScanOptions
    report: ReportOptions
    output_format: str
    thresholds: list[Threshold] = field(default_factory=list)
    count_replays: bool = False
    jobs: int = 1
    shard: tuple[int, int] | None = None
    quiet: bool = False
    output: str | None = None
    progress: bool = False

    @classmethod
    def from_cli(cls, paths, sets, options: Mapping, *, environ: Mapping[str, str],
                 stdout_is_tty: bool, stderr_is_tty: bool) -> ScanRequest:
        try:
            return cls._from_cli(paths, sets, options, environ, stdout_is_tty, stderr_is_tty)
        except (RequestError, ThresholdError) as error:
            print(f"{PROG}: {error}", file=sys.stderr)
            sys.exit(ExitStatus.ERROR)

    @classmethod
    def _from_cli(cls, paths, sets, o, environ, stdout_is_tty, stderr_is_tty) -> ScanRequest:
        color = stdout_is_tty and not o["output"] and "NO_COLOR" not in environ
        output_format = o["output_format"] or ("table" if color else "plain")
        if output_format not in OUTPUT_FORMATS:
            raise RequestError(f"unknown --format {output_format!r}; choose from "
                               + ", ".join(OUTPUT_FORMATS))
        return cls(
            paths=paths,
            sets=sets,
            scan=ScanOptions(
                selection=selection_from(o),
                input_format=checked_format(o["input_format"]),
                fix_text=not o["no_fix_text"],
                word=o["word"],
                exact=o["exact"],
                engine=checked_engine(o["engine"]),
            ),
            report=ReportOptions(
                context=o["context"],
                max_snippets=o["max_snippets"],
                snippets=not o["no_snippets"],
                count_only=o["count_only"],
                include_hits=o["include_hits"],
                by=tuple(dict.fromkeys(o["by"])) or ("model", "speaker"),
                chart=o["chart"],
                color=color,
            ),
            output_format=output_format,
            thresholds=[parse_threshold(t) for t in o["fail_if"]],
            count_replays=o["count_replays"],
            jobs=o["jobs"] or os.cpu_count() or 1,
            shard=parse_shard(o["shard"]),
            quiet=o["quiet"],
            output=o["output"],
            progress=stderr_is_tty and not environ.get("CI") and not o["quiet"],
        )


def selection_from(o: Mapping) -> Selection:
    roles = frozenset(Role) if o["role"] == "all" else frozenset({Role(o["role"])})
    return Selection(roles=roles, models=tuple(o["models"]), speakers=tuple(o["speakers"]),
                     scenarios=tuple(o["scenarios"]), since=checked_date(o["since"], "--since"),
                     until=checked_date(o["until"], "--until"))


def checked_date(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
        raise RequestError(f"{option} {value!r}: expected YYYY, YYYY-MM or YYYY-MM-DD")
    return value


def checked_format(name: str | None) -> str | None:
    from backrooms_scan.formats import format_names

    if name is not None and name not in format_names():
        raise RequestError(f"unknown --input-format {name!r}; choose from "
                           + ", ".join(format_names()))
    return name


def checked_engine(name: str) -> str:
    from backrooms_scan.matcher import available_engines

    if name != "auto" and name not in available_engines():
        raise RequestError(f"engine {name!r} is not available; installed: "
                           + ", ".join(available_engines()))
    return name


def parse_shard(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise RequestError(f"--shard {text!r}: expected I/N, e.g. 2/8") from None
    if not 1 <= index <= count:
        raise RequestError(f"--shard {text!r}: I must be between 1 and N")
    return index, count


# --- the scan itself ---------------------------------------------------------------------

def execute(request: ScanRequest) -> int:
    """Run one scan end to end and return the exit status."""
    started = time.perf_counter()
    tally = Tally(request.sets, count_replays=request.count_replays, by=request.report.by)
    states: list[dict] = []  # filled as the scan goes; written out by the json reporter
    options = shard_report_options(request, states) if request.shard else request.report
    partial = False
    try:
        with report_stream(request.output) as out:
            reporter = Reporter(out, options) if request.quiet else make_reporter(
                request.output_format, out, options)
            with LazyProgress(enabled=request.progress) as progress:
                try:
                    for unit, result in run_scan(request.paths, request.sets, request.scan,
                                                 jobs=request.jobs, shard=request.shard,
                                                 stdin=sys.stdin.buffer):
                        records = tally.add(result)
                        tell_problems(result, quiet=request.quiet)
                        reporter.file_done(result, records)
                        if request.shard:
                            states.append(state_of(result, unit))
                        progress.advance(result.path)
                except KeyboardInterrupt:
                    partial = True
            if partial and request.output is not None:
                raise KeyboardInterrupt  # FILE gets whole reports only: drop the temp file
            summary = tally.summary()
            footer = {"elapsed_seconds": round(time.perf_counter() - started, 3),
                      "partial": partial}
            reporter.finish(tally, summary, footer)
    except BrokenPipeError:
        return quiet_after_broken_pipe()
    except KeyboardInterrupt:
        unwritten = f"nothing written to {request.output}" if request.output else "output cut short"
        print(f"{PROG}: interrupted; {unwritten}", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    if partial:
        print(f"{PROG}: interrupted; the counts above are partial", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    return exit_status(tally, summary, request.thresholds)


def shard_report_options(request: ScanRequest, states: list[dict]) -> ReportOptions:
    from dataclasses import replace

    extra = {
        "shard": {"index": request.shard[0], "count": request.shard[1]},
        "patterns_used": [[s.name, [p.id for p in s.patterns]] for s in request.sets],
        "count_replays": request.count_replays,
        "state": states,
    }
    return replace(request.report, extra=extra)


def exit_status(tally: Tally, summary: dict, thresholds: list[Threshold]) -> int:
    if tally.errors:
        return ExitStatus.ERROR
    try:
        tripped = first_tripped(thresholds, summary)
    except ThresholdError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return ExitStatus.ERROR
    if tripped:
        print(f"{PROG}: {tripped}", file=sys.stderr)
        return ExitStatus.THRESHOLD
    return ExitStatus.FOUND if tally.hits_including_replays else ExitStatus.NOT_FOUND


def tell_problems(result: FileResult, *, quiet: bool) -> None:
    """One line on stderr per unreadable path, skipped file and notice."""
    if result.error is not None:
        print(f"{PROG}: {result.path}: {result.error}", file=sys.stderr)
        return
    if quiet:
        return
    if result.skipped is not None:
        print(f"{PROG}: skipped {result.path}: {result.skipped}", file=sys.stderr)
    for notice in result.notices:
        print(f"{PROG}: {notice}", file=sys.stderr)


def quiet_after_broken_pipe() -> int:
    """The reader went away (`| head`): stop quietly, as grep does."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return ExitStatus.FOUND


# File names that are not UTF-8 reach reports as lone surrogates: write them as `\udcXX`,
# as stderr does, rather than fail. In JSON that is a valid escape of the same string.
UNENCODABLE = "backslashreplace"


def tolerant_stdout() -> TextIO:
    """sys.stdout, set to escape what its encoding cannot write instead of failing."""
    if getattr(sys.stdout, "errors", None) == "strict" and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors=UNENCODABLE)
    return sys.stdout


@contextmanager
def report_stream(path: str | None) -> Iterator[TextIO]:
    """stdout, or a file written atomically: a temp file renamed into place on success."""
    if path is None:
        yield tolerant_stdout()
        sys.stdout.flush()
        return
    directory = os.path.dirname(os.path.abspath(path))
    handle, temp_path = tempfile.mkstemp(prefix=".backrooms-scan-", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", errors=UNENCODABLE, newline="") as out:
            yield out
        os.replace(temp_path, path)
    finally:
        if os.path.exists(temp_path):
            os.unlink(temp_path)


# --- merging shard results ---------------------------------------------------------------

def merge_results(paths: list[str], output_format: str, by: list[str], fail_if: list[str]) -> int:
    try:
        thresholds = [parse_threshold(t) for t in fail_if]
        shards = [read_shard(path) for path in paths]
        check_shards_complete(shards)
    except (RequestError, ThresholdError) as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return ExitStatus.ERROR
    tally = merged_tally(shards, by or ("model", "speaker"))
    summary = tally.summary()
    options = ReportOptions(by=tuple(by) or ("model", "speaker"), snippets=False,
                            color=sys.stdout.isatty() and "NO_COLOR" not in os.environ)
    footer = {"elapsed_seconds": 0.0, "partial": False}
    make_reporter(output_format, tolerant_stdout(), options).finish(tally, summary, footer)
    return exit_status(tally, summary, thresholds)


def read_shard(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as error:
        raise RequestError(f"{path}: cannot read shard result: {error}") from None
    if not isinstance(document, dict) or "state" not in document or "shard" not in document:
        raise RequestError(f"{path}: not a shard result (run scan with --shard I/N --format json)")
    return document


def check_shards_complete(shards: list[dict]) -> None:
    counts = {s["shard"]["count"] for s in shards}
    if len(counts) != 1:
        raise RequestError("shard results come from different --shard N values")
    count = counts.pop()
    indexes = sorted(s["shard"]["index"] for s in shards)
    if indexes != list(range(1, count + 1)):
        raise RequestError(f"need shards 1..{count} once each, got {indexes}")
    if len({json.dumps(s["patterns_used"]) for s in shards}) != 1:
        raise RequestError("shard results were made with different pattern sets")


def merged_tally(shards: list[dict], by: Sequence[str]) -> Tally:
    from backrooms_scan.patterns import Pattern

    sets = [PatternSet(name, None, (), tuple(Pattern(pid, ()) for pid in ids), None)
            for name, ids in shards[0]["patterns_used"]]
    tally = Tally(sets, count_replays=shards[0]["count_replays"], by=by)
    states = sorted((state for shard in shards for state in shard["state"]),
                    key=lambda state: state["unit"])
    for state in states:
        tally.add(result_from_state(state))
    return tally
