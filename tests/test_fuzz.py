"""Fuzzing: no input, however broken, makes a loader or the command line crash.

Inputs are random bytes, random text, soups of format tokens, and mutations of
the valid fixtures and the sample (byte flips, truncation, inserted syntax
characters, NULs, CRs and invalid UTF-8, two fixtures spliced together, a tail
repeated past the 64 KiB head). Every format's loader reads every input: it may
only give up with SkipFile, and its turns must point at their text (a verbatim
turn's text is found at its line and column). The command line may only exit
0, 1 or 2, never with a traceback, and accounts for the one file it was given.

The CI budget is small; set BACKROOMS_FUZZ_EXAMPLES=5000 for a long run.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from backrooms_scan import formats
from backrooms_scan.cli import main
from backrooms_scan.decode import Document, classify_head
from backrooms_scan.records import Conversation, SkipFile

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLE = ROOT / "backrooms_scan" / "sample"
MAX_SEED_SIZE = 64 * 1024
MAX_INPUT_SIZE = 256 * 1024  # past the 64 KiB head that sniffing sees

EXAMPLES = int(os.environ.get("BACKROOMS_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# What a loader or sniffer looks at: syntax characters, line ends, NULs, invalid UTF-8
# (a lone continuation byte, a truncated sequence, an encoded surrogate, an overlong form).
INSERTIONS = (b"<", b"#", b"{", b"}", b"[", b'"', b"\\", b"\x00", b"\r", b"\n", b"\r\n",
              b"\x80", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\xff\xfe",
              b"\x1b[", b"&lt;", b"### Claude 1 ###\n", b"<claude-explorer>\n", b"```")
NAMES = ("notes.txt", "dump.json", "dump.jsonl", "page.html",
         "conversation_1712345678_scenario_vanilla backrooms.txt",
         "opus_opus_dreamsim_20240501_123000.txt", "conversation_full.html")


def seed_groups() -> list[list[tuple[str, bytes]]]:
    """The small files of each fixture directory (pattern files aside) and of the sample."""
    directories = [d for d in sorted(FIXTURES.iterdir()) if d.is_dir() and d.name != "patterns"]
    groups = []
    for directory in [*directories, SAMPLE]:
        files = sorted(p for p in directory.rglob("*")
                       if p.is_file() and p.stat().st_size <= MAX_SEED_SIZE)
        if files:
            groups.append([(path.name, path.read_bytes()) for path in files])
    return groups


SEED_GROUPS = seed_groups()


# --- inputs ---------------------------------------------------------------------------------

def _at(data: bytes, fraction: float) -> int:
    return int(fraction * len(data))


def flip(data: bytes, where: float, bit: int) -> bytes:
    if not data:
        return data
    i = min(_at(data, where), len(data) - 1)
    return data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1 :]


def truncate(data: bytes, where: float) -> bytes:
    return data[: _at(data, where)]


def insert(data: bytes, where: float, token: bytes) -> bytes:
    i = _at(data, where)
    return data[:i] + token + data[i:]


def splice(data: bytes, where: float, other: bytes, other_from: float) -> bytes:
    return data[: _at(data, where)] + other[_at(other, other_from) :]


def repeat(data: bytes, where: float, times: int) -> bytes:
    """The tail from `where` written `times` times: grows files past the 64 KiB head."""
    i = _at(data, where)
    return data[:i] + data[i:] * times


fractions = st.floats(min_value=0.0, max_value=1.0)
# A directory first, then a file in it: every format gets its share of the seeds.
seeds = st.sampled_from(SEED_GROUPS).flatmap(st.sampled_from)
mutations = st.one_of(
    st.tuples(st.just(flip), fractions, st.integers(0, 7)),
    st.tuples(st.just(truncate), st.floats(min_value=0.1, max_value=1.0)),
    st.tuples(st.just(insert), fractions, st.sampled_from(INSERTIONS)),
    st.tuples(st.just(splice), fractions, seeds.map(lambda seed: seed[1]), fractions),
    st.tuples(st.just(repeat), fractions, st.integers(2, 32)),
)


@st.composite
def mutated_fixtures(draw) -> tuple[str, bytes]:
    name, data = draw(seeds)
    for mutation, *arguments in draw(st.lists(mutations, min_size=1, max_size=4)):
        data = mutation(data, *arguments)[:MAX_INPUT_SIZE]
    return name, data


# Pieces of every format's syntax, for random files that get past the sniffers.
WORDS = (b" ", b"hello", b"actors: a, b", b"models: m1, m2", b"<a#SYSTEM>", b"<a#CONTEXT>", b"<a>",
         b'{"role": "user", "content": ', b'"messages": [', b'"conversations": [', b"Claude 1: ",
         b"<pre class=\"dream\">", b'<div class="message assistant">', b"gate gate paragate",
         b"\xef\xbb\xbf", b"\xff\xfe", b"\xc3\xa2\xc2\x80\xc2\xa2")
token_soup = st.lists(st.sampled_from(INSERTIONS + WORDS), max_size=200).map(b"".join)
random_contents = st.one_of(
    st.binary(max_size=4096),
    st.text(max_size=2000).map(lambda text: text.encode("utf-8", "surrogatepass")),
    token_soup,
)
random_files = st.tuples(st.sampled_from(NAMES), random_contents)


# --- what must hold ---------------------------------------------------------------------------

def line_starts(text: str) -> list[int]:
    """The offset in `text` where each line starts; line n starts at index n - 1."""
    return [0] + [match.end() for match in re.finditer("\n", text)]


def assert_loaders_survive(name: str, data: bytes) -> None:
    """Sniffing and every format's loader: SkipFile or well-formed conversations."""
    doc = Document.from_bytes(name, data)
    classify_head(doc.head)
    detected = formats.detect(doc)
    event(f"detected as {detected.name if detected else None}")
    for fmt in formats.all_formats():
        doc = Document.from_bytes(name, data)
        try:
            conversations = list(fmt.load(doc))
        except SkipFile as skip:
            assert isinstance(skip.reason, str) and skip.reason
            continue
        if detected is not None and fmt.name == detected.name:
            event(f"{fmt.name} read {min(sum(len(c.turns) for c in conversations), 3)}+ turns")
        # `doc` may be read already; JSON strings are placed in the text as written (unrepaired)
        source = Document.from_bytes(name, data, fix_text=fmt.name != "json").read_text()
        starts = line_starts(source)
        for conversation in conversations:
            assert isinstance(conversation, Conversation)
            for turn in conversation.turns:
                assert isinstance(turn.text, str), (fmt.name, turn)
                assert turn.line >= 1 and turn.column >= 1, (fmt.name, turn)
                if turn.verbatim:
                    start = starts[turn.line - 1] + turn.column - 1
                    assert source[start : start + len(turn.text)] == turn.text, (fmt.name, turn)
        for notice in doc.notices.items:
            assert notice.line is None or notice.line >= 1, (fmt.name, notice)


def assert_cli_survives(name: str, data: bytes, output_format: str) -> None:
    """A scan of a directory holding only this file ends with 0, 1 or 2, no traceback."""
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / name).write_bytes(data)
        result = CliRunner().invoke(
            main, ["scan", directory, "-f", output_format, "--role", "all", "-j", "1"],
            catch_exceptions=True,
        )
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exc_info)
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.stdout + result.stderr
    if output_format == "json":
        summary = json.loads(result.stdout)
        assert summary["files_scanned"] + summary["files_skipped"] == 1
        # Skips with this reason come from the scanner's catch-all: a loader raised.
        assert not [s for s in summary["skipped"]
                    if s["reason"].startswith("could not be read:")], summary["skipped"]


# --- the properties ------------------------------------------------------------------------------

def test_fixtures_were_found_as_seeds():
    names = {name for group in SEED_GROUPS for name, _ in group}
    assert {"exports.jsonl", "sharegpt.json", "site_page.html", "old_colon_log.txt"} <= names


@FUZZ
@given(random_files)
def test_loaders_survive_random_bytes(file):
    assert_loaders_survive(*file)


@FUZZ
@given(mutated_fixtures())
# Found by a long run: a turn header ending the file once put its empty turn on a line past the end.
@example(("scraped.txt", b"actors: Claude 1,Claude 2\n\n<Claude 1>"))
# Found by a long run: a JSONL string and the file's text once replaced a truncated
# UTF-8 sequence differently (two U+FFFD against three).
@example(("exports.jsonl", (b'{"messages": [{"role": "user", "content": "Chant"}, '
                            b'{"role": "assistant", "content": [{"type": "text", "text": '
                            b'"\xe6\x8f\xad\xe8\xab\xa6 \xe6\xb3\xa2\xe7\xbe\xc5\xe5\x83\xa7"}]}]}\n')))
def test_loaders_survive_mutated_fixtures(file):
    assert_loaders_survive(*file)


@FUZZ
@given(random_files, st.sampled_from(["json", "jsonl", "plain", "csv", "grep"]))
def test_cli_survives_random_bytes(file, output_format):
    assert_cli_survives(*file, output_format)


@FUZZ
@given(mutated_fixtures(), st.sampled_from(["json", "jsonl", "plain", "csv", "grep"]))
def test_cli_survives_mutated_fixtures(file, output_format):
    assert_cli_survives(*file, output_format)
