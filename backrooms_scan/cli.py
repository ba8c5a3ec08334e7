"""Command line: parse options, call the core, pick a reporter. Heavy imports stay lazy."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from backrooms_scan import interrupt
from backrooms_scan.dimensions import DIMENSIONS
from backrooms_scan.environment import COLOR_CHOICES, PROG, Environment
from backrooms_scan.report import MERGE_FORMATS, OUTPUT_FORMATS
from backrooms_scan.status import ExitStatus, Failure

ROLES = ("spoken", "system", "context", "all")


def sample_dir() -> Path:
    return Path(__file__).parent / "sample"


SNIPPET_ORDERS = ("file", "left", "right", "pattern")


def snippet_limit(value: str) -> int | None:
    """--max-snippets: a count, or `all` (None: no limit)."""
    if value == "all":
        return None
    if not value.isdigit():
        raise click.BadParameter(f"{value!r} is not a count or 'all'")
    return int(value)


SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
# The first 64 KiB of a file are always read to sniff it, so a smaller cap could not hold.
MIN_FILE_SIZE = SIZE_UNITS["M"]


def file_size(value: str | None) -> int | None:
    """--max-file-size: bytes, or a number with K, M, G or T (binary: 16M is 16 MiB)."""
    if value is None:
        return None
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", value.upper())
    if not found:
        raise click.BadParameter(f"{value!r} is not a size such as 16M, 512K or 1G")
    size = int(float(found[1]) * SIZE_UNITS[found[2]])
    if size < MIN_FILE_SIZE:
        raise click.BadParameter(f"{value!r} is below the smallest allowed, 1M")
    return size


def sample_path() -> str:
    """The sample corpus as the shorter of its relative and absolute paths, as reports show it."""
    absolute = str(sample_dir())
    relative = os.path.relpath(absolute)
    return relative if len(relative) < len(absolute) else absolute


class Program(click.Group):
    """The command group; `main` returns (or exits with) the command's exit status."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra) -> int:
        env = extra.pop("obj", None) or Environment.from_process()
        status = run(self, list(sys.argv[1:] if args is None else args), env)
        if standalone_mode:
            sys.exit(status)
        return status


def run(program: click.Group, args: list[str], env: Environment) -> int:
    """Parse and run one command line; this is where every outcome becomes an exit status."""
    args = with_implicit_scan(program, args)
    try:
        with interrupt.armed():
            status = click.Group.main(program, args, prog_name=env.program_name,
                                      standalone_mode=False, obj=env)
            unflushed = env.flush_stdout()
            if unflushed:
                raise Failure(f"cannot write stdout: {unflushed}")
    except click.ClickException as error:
        error.show(file=env.stderr)
        return ExitStatus.ERROR
    except click.Abort as error:  # click's wrapping of a KeyboardInterrupt during a prompt
        env.error("interrupted")
        return interrupt.status_of(error.__cause__ or error.__context__ or KeyboardInterrupt())
    except Failure as error:
        env.error(str(error))
        return ExitStatus.ERROR
    except BrokenPipeError:
        env.silence_stdout()
        return ExitStatus.FOUND
    except KeyboardInterrupt as error:
        env.error("interrupted")
        return interrupt.status_of(error)
    except OSError as error:
        env.error(f"{error.strerror or error}")
        return ExitStatus.ERROR
    except Exception as error:
        interrupted = interrupt.found_in(error)
        if interrupted is None:
            raise
        env.error("interrupted")
        return interrupt.status_of(interrupted)
    return ExitStatus.FOUND if status is None else int(status)


def with_implicit_scan(program: click.Group, args: list[str]) -> list[str]:
    """`backrooms-scan DUMP ...` means `backrooms-scan scan DUMP ...` when DUMP is a path."""
    if args and args[0] not in program.commands and (args[0] == "-" or os.path.exists(args[0])):
        return ["scan", *args]
    return args


def current_env() -> Environment:
    return click.get_current_context().find_object(Environment)


def echo(line: str = "") -> None:
    current_env().stdout.write(line + "\n")


@click.group(cls=Program, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="backrooms-scan", prog_name=PROG)
def main() -> None:
    """Count what language models say to each other in transcript dumps.

    Exit status: 0 hits found, 1 none, 2 error, 3 a --fail-if threshold tripped.
    `backrooms-scan DUMP...` is short for `backrooms-scan scan DUMP...`.
    """


def pattern_options(command):
    """The options choosing pattern sets, shared by `scan` and `patterns list`."""
    command = click.option("-p", "--patterns", "pattern_paths", multiple=True, metavar="FILE_OR_DIR",
                           help="Add a YAML pattern set (a directory adds every *.yaml in it).")(command)
    return click.option("--set", "set_names", multiple=True, metavar="NAME",
                        help="Use this pattern set, shipped or loaded with -p (repeatable; default: all "
                             "shipped).")(command)


def summary_options(formats: Sequence[str], **format_option):
    """The options of what a summary looks like, shared by `scan` and `merge`: its format
    (one of `formats`), its breakdowns, and the thresholds that fail the run."""

    def decorate(command):
        command = click.option("--fail-if", "fail_if", multiple=True, metavar="EXPR",
                               help="Exit 3 when EXPR holds, e.g. 'hits>100' or "
                                    "'heart-sutra-mantra>0'.")(command)
        command = click.option("--by", multiple=True, type=click.Choice(DIMENSIONS),
                               help="Add a breakdown (repeatable).")(command)
        return click.option("-f", "--format", "output_format", type=click.Choice(formats),
                            **format_option)(command)

    return decorate


def load_sets(pattern_paths, set_names):
    """The pattern sets chosen; a bad pattern file reports every problem of every file."""
    from backrooms_scan.patternsets import PatternError, check_pattern_paths, load_pattern_sets

    try:
        return load_pattern_sets(list(pattern_paths), list(set_names))
    except PatternError as error:
        problems = check_pattern_paths(list(pattern_paths)) or [error]
    env = current_env()
    for problem in problems[:-1]:
        env.error(str(problem))
    raise Failure(str(problems[-1]))


def load_layout(path):
    """The --json-layout file read and validated; every problem is told, the last as the Failure."""
    if path is None:
        return None
    from backrooms_scan.json_layout import read_layout

    layout, problems = read_layout(path)
    for problem in problems[:-1]:
        current_env().error(str(problem))
    if problems:
        raise Failure(str(problems[-1]))
    return layout


@main.command()
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option("--sample", is_flag=True, help="Scan the sample corpus shipped with the tool.")
@pattern_options
@click.option("--input-format", metavar="NAME", help="Read every file as this format (see `formats`).")
@click.option("--json-layout", metavar="FILE",
              help="A YAML file naming where a JSON export keeps messages, text, speaker...")
@click.option("--exact", is_flag=True, help="Match raw text, case-sensitive, without folding.")
@click.option("-w", "--word", is_flag=True, help="Only whole-word matches.")
@click.option("--role", type=click.Choice(ROLES), default="spoken", show_default=True,
              help="Which turns to search: what models said, or prompt text too.")
@click.option("--model", "models", multiple=True, metavar="GLOB", help="Only turns of matching models.")
@click.option("--speaker", "speakers", multiple=True, metavar="GLOB", help="Only matching speakers.")
@click.option("--scenario", "scenarios", multiple=True, metavar="GLOB", help="Only matching scenarios.")
@click.option("--since", metavar="DATE", help="Only turns on or after DATE (YYYY-MM-DD).")
@click.option("--until", metavar="DATE", help="Only turns on or before DATE (YYYY-MM-DD).")
@click.option("--count-replays", is_flag=True, help="Count hits in replayed (repeated) turns too.")
@summary_options(OUTPUT_FORMATS, help="Output format (default: table on a terminal, else "
                                       "plain; json with --shard, which takes no other).")
@click.option("--json", "json_events", is_flag=True, help="The same as --format jsonl.")
@click.option("--totals", "count_only", is_flag=True, help="Print only per-pattern totals.")
@click.option("-c", "--count", "per_file", flag_value="turns",
              help="Per file with hits, the number of turns with hits (path:N).")
@click.option("--count-matches", "per_file", flag_value="hits",
              help="Per file with hits, the number of hits (path:N).")
@click.option("-l", "--files-with-matches", "per_file", flag_value="files",
              help="Only the paths of files with hits.")
@click.option("-q", "--quiet", is_flag=True,
              help="Print nothing on the terminal (a file given with -o is still written).")
@click.option("-v", "--verbose", is_flag=True,
              help="List every skipped file and notice (on a terminal they are counted by kind).")
@click.option("--hits", "include_hits", is_flag=True, help="With --format json: list every hit.")
@click.option("-C", "--context", default=60, show_default=True, metavar="N",
              type=click.IntRange(min=0),
              help="Characters of context around each snippet.")
@click.option("--max-columns", type=click.IntRange(min=0), metavar="N",
              help="With --format grep: a line longer than N characters is shown as N "
                   "characters around each hit, '[...]' marking where it was cut "
                   "(default 400; 0 prints whole lines).")
@click.option("--max-snippets", default="3", show_default=True, metavar="N|all",
              callback=lambda ctx, param, value: snippet_limit(value),
              help="Snippets shown per pattern (all: every one).")
@click.option("--sort", "snippet_order", type=click.Choice(SNIPPET_ORDERS), default="file",
              show_default=True,
              help="Snippets in input order, or by the words before or after the hit, or the hit.")
@click.option("--no-snippets", is_flag=True, help="Show no snippets.")
@click.option("--chart", is_flag=True, help="Draw hits per model and per month.")
@click.option("--color", type=click.Choice(COLOR_CHOICES), default="auto", show_default=True,
              help="Colour on stdout (auto: on a terminal, unless NO_COLOR; FORCE_COLOR forces).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Processes to use (default: number of cores).")
@click.option("--shard", metavar="I/N", help="Scan only the I-th of N deterministic parts.")
@click.option("--engine", default="auto", show_default=True, metavar="NAME",
              help="Matching engine: auto, pyahocorasick or ahocorasick_rs.")
@click.option("--no-fix-text", is_flag=True, help="Do not repair double-encoded UTF-8.")
@click.option("--max-file-size", metavar="SIZE", callback=lambda ctx, param, value: file_size(value),
              help="Skip a file of a text layout, which is read whole, when larger than "
                   "SIZE once decompressed (default 16M, at least 1M; e.g. 64M, 1G).")
@click.option("--max-record-size", metavar="SIZE",
              callback=lambda ctx, param, value: file_size(value),
              help="Skip a JSONL line, or a JSON document that is neither JSONL nor an array, "
                   "when larger than SIZE, with a notice (default 128M, at least 1M).")
@click.option("-o", "--output", metavar="FILE",
              help="Write the report to FILE (`-` is stdout).")
def scan(paths, sample, pattern_paths, set_names, **options) -> int:
    """Count pattern hits in transcript files, directories and archives (`-` reads stdin)."""
    paths = list(paths) + ([sample_path()] if sample else [])
    if not paths:
        raise click.UsageError("give at least one PATH, `-` for stdin, or --sample")
    from backrooms_scan.commands import ScanRequest, execute

    sets = load_sets(pattern_paths, set_names)
    options["json_layout"] = load_layout(options["json_layout"])
    env = current_env()
    return execute(ScanRequest.from_cli(paths, sets, options, env), env)


@main.command()
@click.argument("location", metavar="PATH[:LINE]")
@click.option("-C", "--context", default=0, show_default=True, metavar="N",
              type=click.IntRange(min=0), help="Turns shown each side of the turn at LINE.")
@pattern_options
@click.option("--pattern", "pattern_ids", multiple=True, metavar="ID",
              help="Highlight only this pattern (`id` or `set/id`; repeatable).")
@click.option("--input-format", metavar="NAME", help="Read the file as this format.")
@click.option("--color", type=click.Choice(COLOR_CHOICES), default="auto", show_default=True,
              help="Colour and wrapping (auto: on a terminal, unless NO_COLOR).")
def show(location, context, pattern_paths, set_names, pattern_ids, input_format, color) -> int:
    """Print a conversation, or the turn at LINE, with pattern hits highlighted."""
    from backrooms_scan.matcher import Matcher
    from backrooms_scan.report.transcript import TranscriptPrinter
    from backrooms_scan.show import (
        ShowError,
        chosen_patterns,
        conversations_to_show,
        parse_location,
        read_conversations,
    )

    env = current_env()
    path, line = parse_location(location)
    try:
        sets = chosen_patterns(load_sets(pattern_paths, set_names), pattern_ids)
        conversations = read_conversations(path, input_format=checked_input_format(input_format),
                                           stdin=env.stdin)
        shown = conversations_to_show(conversations, Matcher(sets), line, context)
    except ShowError as error:
        raise Failure(str(error)) from None
    on_terminal = env.color(color)
    printer = TranscriptPrinter(env.stdout, color=on_terminal,
                                width=env.terminal_width if on_terminal else None)
    for conversation in shown:
        printer.conversation(conversation, marked=line is not None)
    return ExitStatus.FOUND if any(t.hits for c in shown for t in c.turns) else ExitStatus.NOT_FOUND


def checked_input_format(name):
    from backrooms_scan.formats import format_names

    if name is not None and name not in format_names():
        raise click.BadParameter(f"unknown format {name!r}; choose from "
                                 + ", ".join(format_names()), param_hint="--input-format")
    return name


@main.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@summary_options(MERGE_FORMATS, default="json", show_default=True, help="Output format.")
def merge(results, output_format, by, fail_if) -> int:
    """Combine the JSON results of `scan --shard I/N --format json` runs into one summary."""
    from backrooms_scan.commands import merge_results

    return merge_results(list(results), output_format, list(by), list(fail_if), current_env())


@main.group()
def patterns() -> None:
    """Inspect and validate pattern sets."""


@patterns.command("list")
@pattern_options
def patterns_list(pattern_paths, set_names) -> None:
    """Show the pattern sets and their patterns."""
    for pattern_set in load_sets(pattern_paths, set_names):
        echo(f"{pattern_set.name}: {pattern_set.description or ''}".rstrip())
        for pattern in pattern_set.patterns:
            phrases = pattern.all_of or pattern.phrases
            joiner = " + " if pattern.all_of else " | "
            echo(f"  {pattern.id}: {joiner.join(phrases)}")


@patterns.command("check")
@click.argument("paths", nargs=-1, required=True, metavar="FILE_OR_DIR...")
def patterns_check(paths) -> int:
    """Validate pattern files (a directory: its *.yaml); print `file:line:col: message`
    on stdout for every problem, and exit 2 when there is any."""
    from backrooms_scan.patternsets import check_pattern_paths

    problems = check_pattern_paths(list(paths))
    for error in problems:
        echo(str(error))
    if problems:
        return ExitStatus.ERROR
    echo(f"{len(paths)} pattern path(s) OK")
    return ExitStatus.FOUND


@main.command("formats")
def list_formats() -> None:
    """List the transcript formats that can be read (names for --input-format)."""
    from backrooms_scan.formats import named_formats

    for fmt in named_formats():
        echo(f"{fmt.name:18} {fmt.description}")
