"""The scan and merge commands' bodies: wire the core to reporters, stderr and exit codes."""

from __future__ import annotations

import datetime
import os
import re
import time
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace

from backrooms_scan import interrupt, shards
from backrooms_scan.dimensions import DEFAULT_BY
from backrooms_scan.environment import Environment
from backrooms_scan.limits import Limits, default_limits
from backrooms_scan.patternsets import PatternSet
from backrooms_scan.records import Role
from backrooms_scan.report import MERGE_FORMATS, OUTPUT_FORMATS, ReportOptions, make_reporter
from backrooms_scan.report.base import Reporter
from backrooms_scan.report.destination import report_destination
from backrooms_scan.report.grep import MAX_COLUMNS
from backrooms_scan.report.problems import ProblemLog
from backrooms_scan.report.progress import ScanProgress, progress_console
from backrooms_scan.scan import ScanOptions, run_scan, scan_units, unit_size
from backrooms_scan.select import Selection
from backrooms_scan.status import ExitStatus, Failure
from backrooms_scan.tally import Tally, result_from_state, state_of
from backrooms_scan.thresholds import Threshold, ThresholdError, parse_threshold, tripped


class RequestError(Failure):
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
    verbose: bool = False
    output: str | None = None
    progress: bool = False

    @classmethod
    def from_cli(cls, paths, sets, o: Mapping, env: Environment) -> ScanRequest:
        """The request the options ask for; a bad value raises RequestError."""
        to_terminal = o["output"] in (None, "-") and env.stdout_isatty
        color = env.color(o.get("color", "auto")) and (o["output"] in (None, "-")
                                                        or o.get("color") == "always")
        shard = parse_shard(o["shard"])
        output_format = chosen_format(o, to_terminal, sharded=shard is not None)
        refuse_idle_options(o, output_format)
        try:
            thresholds = [parse_threshold(t) for t in o["fail_if"]]
        except ThresholdError as error:
            raise RequestError(str(error)) from None
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
                json_layout=o.get("json_layout"),
                limits=limits_from(o.get("max_file_size"), o.get("max_record_size")),
            ),
            report=ReportOptions(
                context=o["context"],
                max_snippets=o["max_snippets"],
                max_columns=MAX_COLUMNS if o.get("max_columns") is None else o["max_columns"],
                snippet_order=o.get("snippet_order", "file"),
                snippets=not o["no_snippets"],
                count_only=o["count_only"],
                include_hits=o["include_hits"],
                by=tuple(dict.fromkeys(o["by"])) or DEFAULT_BY,
                chart=o["chart"],
                color=color,
                width=env.terminal_width if to_terminal else None,
                per_file=o.get("per_file"),
                count_replays=o["count_replays"],
            ),
            output_format=output_format,
            thresholds=thresholds,
            count_replays=o["count_replays"],
            jobs=o["jobs"] or os.cpu_count() or 1,
            shard=shard,
            quiet=o["quiet"],
            verbose=o.get("verbose", False),
            output=o["output"],
            progress=env.stderr_isatty and not env.environ.get("CI") and not o["quiet"],
        )


def chosen_format(o: Mapping, to_terminal: bool, sharded: bool = False) -> str:
    """-f, or --json, or the default: a table on a terminal, plain text elsewhere; with
    --shard, json, the one format that carries what merge reads."""
    given = o["output_format"]
    if o.get("json_events"):
        if given not in (None, "jsonl"):
            raise RequestError(f"--json is -f jsonl; it cannot be combined with -f {given}")
        given = "jsonl"
    chosen = given or ("json" if sharded else "table" if to_terminal else "plain")
    if chosen not in OUTPUT_FORMATS:
        raise RequestError(f"unknown --format {chosen!r}; choose from " + ", ".join(OUTPUT_FORMATS))
    if sharded and chosen != SHARD_FORMAT:
        raise RequestError(shard_format_refusal(chosen, "--json" if o.get("json_events") else None))
    return chosen


SHARD_FORMAT = "json"


def shard_format_refusal(chosen: str, flag: str | None = None) -> str:
    """Why --shard takes no -f but json, and what to do instead."""
    asked = flag or f"-f {chosen}"
    instead = (f"give -f {chosen} to merge instead" if chosen in MERGE_FORMATS
               else "merge prints " + ", ".join(MERGE_FORMATS))
    return f"--shard writes what merge reads, as -f json (its default); {asked} cannot carry it: {instead}"


PER_FILE_FLAGS = {"turns": "-c/--count", "hits": "--count-matches",
                  "files": "-l/--files-with-matches"}


def refuse_idle_options(o: Mapping, output_format: str) -> None:
    """An option that would do nothing in this format is refused, with the reason."""
    per_file = PER_FILE_FLAGS.get(o.get("per_file"))
    if per_file and o["count_only"]:
        raise RequestError(f"{per_file} and --totals are alternatives; give one")
    if per_file and output_format in ("json", "jsonl", "html"):
        raise RequestError(f"{per_file} prints lines per file, not -f {output_format} (whose "
                           "summary and end events carry per-file counts: try --by file)")
    if o["include_hits"] and output_format != "json":
        raise RequestError(f"--hits adds hits to -f json only; -f {output_format} "
                           + ("lists every hit already" if output_format in ("jsonl", "csv", "grep")
                              else "shows snippets: try -f json --hits"))
    layout = per_file or ("--totals" if o["count_only"] else None)
    if o["chart"] and (output_format not in ("table", "plain") or layout):
        raise RequestError("--chart draws in -f table or plain, without "
                           "--totals, -c, --count-matches or -l")
    if o.get("max_columns") is not None and output_format != "grep":
        raise RequestError(f"--max-columns cuts the lines of -f grep; -f {output_format} "
                           "prints no source lines")
    if o["by"] and (output_format in ("csv", "grep") or layout):
        reason = layout or f"-f {output_format}"
        raise RequestError(f"--by has no effect with {reason}: breakdowns are in table, plain, "
                           "json, jsonl and html reports")


def limits_from(max_file_size: int | None, max_record_size: int | None = None) -> Limits:
    """The reading limits, with `--max-file-size` as the largest file read whole and
    `--max-record-size` as the largest JSON record read whole."""
    limits = default_limits()
    if max_file_size is not None:
        limits = replace(limits, max_whole_file=max_file_size)
    if max_record_size is not None:
        limits = replace(limits, max_record=max_record_size)
    return limits


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
    year, month, day = (int(part) for part in (value + "-01-01")[:10].split("-"))
    try:
        datetime.date(year, month, day)
    except ValueError as error:
        raise RequestError(f"{option} {value!r}: not a date ({error})") from None
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

HUMAN_FORMATS = ("table", "plain", "grep")


def execute(request: ScanRequest, env: Environment) -> int:
    """Run one scan end to end and return the exit status."""
    started = time.perf_counter()
    tally = Tally(request.sets, count_replays=request.count_replays, by=request.report.by)
    check_thresholds(request.thresholds, tally.summary())
    states: list[dict] = []  # filled as the scan goes; written out by the json reporter
    options = shard_report_options(request, states) if request.shard else request.report
    units = scan_units(request.paths, request.shard)
    progress = ScanProgress(progress_console(env) if request.progress else None,
                            {index: unit_size(unit) for index, unit in units})
    problems = ProblemLog(progress if request.progress else env.stderr, env.program_name,
                          quiet=request.quiet, grouped=env.stderr_isatty and not request.verbose)
    silent = request.quiet and request.output in (None, "-")
    interrupted: KeyboardInterrupt | None = None
    values_seen: set[tuple[str, str]] = set()
    try:
        with report_destination(None if silent else request.output, env.stdout) as out:
            reporter = Reporter(out, options) if silent else make_reporter(
                request.output_format, out, options)
            with progress:
                try:
                    with closing(run_scan(request.paths, request.sets, request.scan,
                                          jobs=request.jobs, shard=request.shard,
                                          stdin=env.stdin, units=units)) as results:
                        for unit, result in results:
                            if (swallowed := interrupt.signalled()) is not None:
                                raise swallowed
                            records, counts = tally.add(result)
                            problems.add(result)
                            values_seen |= result.values_seen
                            reporter.file_done(result, records, counts)
                            if request.shard:
                                states.append(state_of(result, unit))
                            progress.advance(unit, result)
                except KeyboardInterrupt as error:
                    interrupted = error
            interrupted = interrupted or interrupt.signalled()
            problems.finish()
            summary = tally.summary()
            if summary["files_scanned"] and interrupted is None:
                problems.filters_left_nothing(request.scan.selection, values_seen,
                                              summary["turns_matched"])
            footer = {"elapsed_seconds": round(time.perf_counter() - started, 3),
                      "partial": interrupted is not None}
            if summary["files_scanned"] or request.output_format not in HUMAN_FORMATS \
                    or interrupted is not None:
                reporter.finish(tally, summary, footer)
    except BrokenPipeError:
        env.silence_stdout()
        return status_by_hits(tally)
    except KeyboardInterrupt as error:
        unwritten = f"nothing written to {request.output}" if request.output else "output cut short"
        env.error(f"interrupted; {unwritten}")
        return interrupt.status_of(error)
    if interrupted is not None:
        where = "above" if request.output in (None, "-") else f"written to {request.output}"
        env.error(f"interrupted; the counts {where} are partial")
        return interrupt.status_of(interrupted)
    if not summary["files_scanned"] and not tally.errors and not request.shard:
        env.error(nothing_found(request.paths, summary["files_skipped"]))
    return exit_status(tally, summary, request.thresholds, env)


def nothing_found(paths: list[str], skipped: int) -> str:
    where = ", ".join(paths)
    return f"no transcripts found under {where}" + (f" ({skipped} skipped)" if skipped else "")


def shard_report_options(request: ScanRequest, states: list[dict]) -> ReportOptions:
    from dataclasses import replace

    extra = {
        "shard": {"index": request.shard[0], "count": request.shard[1]},
        "patterns_used": [[s.name, [p.id for p in s.patterns]] for s in request.sets],
        "count_replays": request.count_replays,
        "options": shards.options_record(request.scan, request.count_replays),
        "state": states,
    }
    return replace(request.report, extra=extra)


def check_thresholds(thresholds: list[Threshold], summary: dict) -> None:
    """Refuse a threshold naming no count or pattern before scanning, not after."""
    try:
        for threshold in thresholds:
            threshold.value(summary)
    except ThresholdError as error:
        raise Failure(str(error)) from None


def exit_status(tally: Tally, summary: dict, thresholds: list[Threshold], env: Environment) -> int:
    """With --fail-if the status tells the thresholds (0 passed, 3 tripped), else the hits."""
    if tally.errors:
        return ExitStatus.ERROR
    if not thresholds:
        return status_by_hits(tally)
    reasons = tripped(thresholds, summary)
    for reason in reasons:
        env.error(reason)
    return ExitStatus.THRESHOLD if reasons else ExitStatus.FOUND


def status_by_hits(tally: Tally) -> int:
    return ExitStatus.FOUND if tally.hits_including_replays else ExitStatus.NOT_FOUND


# --- merging shard results ---------------------------------------------------------------

def merge_results(paths: list[str], output_format: str, by: list[str], fail_if: list[str],
                  env: Environment) -> int:
    try:
        thresholds = [parse_threshold(t) for t in fail_if]
    except ThresholdError as error:
        raise RequestError(str(error)) from None
    results = [read_shard(path) for path in paths]
    check_shards_complete(paths, results)
    tally = merged_tally(results, by or DEFAULT_BY)
    summary = tally.summary()
    check_thresholds(thresholds, summary)
    options = ReportOptions(by=tuple(by) or DEFAULT_BY, snippets=False,
                            color=env.color(), width=env.terminal_width if env.stdout_isatty else None)
    footer = {"elapsed_seconds": 0.0, "partial": False}
    try:
        with report_destination(None, env.stdout) as out:
            make_reporter(output_format, out, options).finish(tally, summary, footer)
    except BrokenPipeError:
        env.silence_stdout()
        return status_by_hits(tally)
    return exit_status(tally, summary, thresholds, env)


def read_shard(path: str) -> dict:
    try:
        return shards.read_shard(path)
    except shards.ShardError as error:
        raise RequestError(str(error)) from None


def check_shards_complete(paths: list[str], results: list[dict]) -> None:
    try:
        shards.check_shards_match(paths, results)
    except shards.ShardError as error:
        raise RequestError(str(error)) from None


def merged_tally(shards: list[dict], by: Sequence[str]) -> Tally:
    from backrooms_scan.patternsets import Pattern

    sets = [PatternSet(name, None, (), tuple(Pattern(pid, ()) for pid in ids), None)
            for name, ids in shards[0]["patterns_used"]]
    tally = Tally(sets, count_replays=shards[0]["count_replays"], by=by)
    states = sorted((state for shard in shards for state in shard["state"]),
                    key=lambda state: state["unit"])
    for state in states:
        tally.add(result_from_state(state))
    return tally
