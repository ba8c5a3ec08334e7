"""Format A's accounting from the bytes: a file's outline gives every turn's speaker, role,
model, scenario and time exactly as the full reading does, or declines and leaves the file to
it; a scan whose files hold no key gives the same summary either way."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from backrooms_scan import commands
from backrooms_scan.cli import main
from backrooms_scan.decode import Document
from backrooms_scan.dimensions import DIMENSIONS
from backrooms_scan.formats import backrooms, detect
from backrooms_scan.records import Role

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
CORPUS = [*(TESTS / "fixtures").rglob("*"), *(ROOT / "backrooms_scan" / "sample").rglob("*")]
# A key no fixture holds: every file's bytes hold no key, so every format-A file is counted
# from its outline when it has one.
ABSENT = "name: absent\ndescription: none\nsources: [tests]\npatterns:\n" \
         "  - id: absent\n    phrases: [\"quixotic zebra lantern\"]\n"


def attribution(conversation) -> tuple:
    return (conversation.id, conversation.format, conversation.scenario, conversation.timestamp,
            [(t.index, t.speaker, t.role, t.model, t.scenario, t.timestamp, t.speaker_inferred,
              t.conversation, t.source) for t in conversation.turns])


def outline_and_reading(path: str, data: bytes, fix_text: bool = True):
    """(outline or None, the full reading's conversations, its notices)."""
    outline = backrooms.outline_text(Document.from_bytes(path, data, fix_text=fix_text), data)
    doc = Document.from_bytes(path, data, fix_text=fix_text)
    return outline, list(backrooms.load_text(doc)), doc.notices.items


def assert_outline_agrees(path: str, data: bytes, fix_text: bool = True):
    outline, reading, notices = outline_and_reading(path, data, fix_text)
    if outline is not None:
        assert notices == []
        assert [attribution(outline)] == [attribution(c) for c in reading]
    return outline, notices


def format_a_files() -> list[Path]:
    found = []
    for path in sorted(CORPUS):
        if path.is_file():
            fmt = detect(Document.from_bytes(str(path), path.read_bytes()))
            if fmt is not None and fmt.name == backrooms.TEXT_FORMAT:
                found.append(path)
    return found


def test_every_format_a_fixture_outlines_as_it_reads():
    outlined = [path.name for path in format_a_files()
                if assert_outline_agrees(str(path), path.read_bytes())[0] is not None]
    assert len(outlined) >= 8
    assert "conversation_1709632800_scenario_vanilla backrooms.txt" in outlined


def test_the_outline_counts_what_a_line_by_line_reading_finds():
    text = ("\ufeffactors: Ann, Bo\r\nmodels: m-1, m-2\r\n\r\n<Ann-m-1#SYSTEM>\r\nbe kind\r\n"
            "<Bo-m-2#SYSTEM>\r\n\u3000\r\n<Ann-m-1#CONTEXT>\r\n"
            '[{"role": "user", "content": "x\\n<Bo>\\ny"}, {"role": "user", "content": " "},'
            ' {"role": "user", "content": "<Ann>"},]\r\n'
            "<Ann>\r\nhello </b> there\r\n<OOC>\r\n<Bo>\r\n\r\n<Ann>\r\nbye\r\n")
    data = text.encode("utf-8")
    outline, _ = assert_outline_agrees("conversation_1712345678_scenario_by-hand.txt", data)
    # Read independently: a tag line heads a turn when its name is an actor; a SYSTEM block
    # counts when it holds more than white space; each CONTEXT message with text counts.
    lines = text.lstrip("\ufeff").split("\r\n")
    spoken = [line[1:-1] for line in lines if line in ("<Ann>", "<Bo>")]
    messages = json.loads(next(line for line in lines if line.startswith("[")).replace(",]", "]"))
    contexts = ["Ann" for m in messages if m["content"].strip()]
    systems = [("Ann", Role.SYSTEM, "m-1")]  # Bo's holds only an ideographic space
    expected = (systems + [(s, Role.CONTEXT, "m-1") for s in contexts]
                + [(s, Role.SPOKEN, {"Ann": "m-1", "Bo": "m-2"}[s]) for s in spoken])
    assert [(t.speaker, t.role, t.model) for t in outline.turns] == expected
    assert [t.text for t in outline.turns] == [""] * len(expected)
    assert {t.scenario for t in outline.turns} == {"by hand"}


def test_a_context_string_holding_a_line_break_and_a_tag_line_is_outlined_as_it_reads():
    # JSON strings may hold raw control characters here: the tag line is inside the value.
    text = ("actors: Ann, Bo\nmodels: m-1, m-2\n\n<Ann-m-1#CONTEXT>\n"
            '[{"role": "user", "content": "one\n<Bo>\ntwo"},\n {"role": "user", "content": "3"}]\n'
            "<Bo-m-2#CONTEXT>\n[]\n<Ann>\nhello\n<Bo>\nhi\n")
    outline, _ = assert_outline_agrees("conversation_1712345678_scenario_x.txt", text.encode())
    assert [(t.speaker, t.role) for t in outline.turns] == [
        ("Ann", Role.CONTEXT), ("Ann", Role.CONTEXT), ("Ann", Role.SPOKEN), ("Bo", Role.SPOKEN)]


@pytest.mark.parametrize("block", ["", " \t", "\u3000", "\x1c\x1f", "\x85", "\u2028", "\xa0x",
                                   "é", "\x1cx"])
def test_a_system_block_counts_unless_it_is_white_space_as_text_is(block):
    data = f"actors: a, b\n\n<a#SYSTEM>\n{block}\n<a>\nhi\n<b>\nok\n".encode()
    outline, _ = assert_outline_agrees("conversation_1712345678_scenario_x.txt", data)
    systems = [t for t in outline.turns if t.role is Role.SYSTEM]
    assert len(systems) == (0 if block.isspace() or not block else 1)


@pytest.mark.parametrize("content, why", [
    (b"<a>\nbad \xff byte\n<b>\nok\n", "notice"),
    (b"<a>\nnul \x00 here\n<b>\nok\n", "notice"),
    (b"<a>\n\x1b[1mbold\n<b>\nok\n", "decoding changes the text"),
    ("<a>\nsenti\u00c3\u00a9nce\n<b>\nok\n".encode(), "decoding changes the text"),
    (b"stray words\n<a>\nhi\n<b>\nok\n", "notice"),
    (b"<a#CONTEXT>\n[{\"content\": \"never closed\n<a>\nhi\n<b>\nok\n", "notice"),
    (b"<a#CONTEXT>\n[{\"role\": \"user\"}]\n<a>\nhi\n<b>\nok\n", "notice"),
    (b"<a#CONTEXT>\n[{\"content\": \"c\"}]\nleft over\n<x#SYSTEM>\ns\n<a>\nhi\n<b>\nok\n", "notice"),
    (b"<a> hi <b> ok <a> again", "no tag lines"),
])
def test_the_outline_declines_what_only_the_full_reading_can_tell(content, why):
    data = b"actors: a, b\n\n" + content
    outline, notices = assert_outline_agrees("conversation_1712345678_scenario_x.txt", data)
    assert outline is None
    assert bool(notices) == (why == "notice")


def test_mojibake_is_outlined_when_it_is_not_repaired():
    data = "actors: Ã‰lise, Bo\n\n<Ã‰lise>\nhi\n<Bo>\nok\n".encode()
    outline, _ = assert_outline_agrees("conversation_1712345678_scenario_x.txt", data, False)
    assert [t.speaker for t in outline.turns] == ["Ã‰lise", "Bo"]


# ---------------------------------------------------------------- random files

NAMES = ["a", "b", "Claude 1", "Claude 2", "c", "OOC", "system", "a-m#SYSTEM", "b#SYSTEM",
         "a-m#CONTEXT", "/a", "Élise", "a ", "END OF FILE"]
TEXT = ["hello", "gate", "é", "’", " — ", "揭諦", "\u3000", "\x1c", "\t", "", " ",
        "<a>", "x <b> y", "</c>", "\n", "\n\n", "[", "{", "}", '"', "\\"]
JSON_STRINGS = ["plain", "two\\nlines", "\\n<b>\\n", "]", "}", "\\\"", "\\u00e9", "é", " ",
                "\n<a>\n", "<a>", "\\\\"]


@st.composite
def context_blocks(draw) -> str:
    def message():
        if draw(st.integers(0, 6)) == 0:
            return '{"role": "user"}'
        content = "".join(draw(st.lists(st.sampled_from(JSON_STRINGS), max_size=3)))
        if draw(st.booleans()):
            return f'{{"role": "user", "content": "{content}"}}'
        return f'{{"content": [{{"type": "text", "text": "{content}"}}, "{content}"]}}'

    items = draw(st.lists(st.builds(message), max_size=3))
    value = "[" + ", ".join(items) + (", " if items and draw(st.booleans()) else "") + "]"
    if draw(st.integers(0, 8)) == 0:
        value = value[:-1]  # never balances
    after = draw(st.sampled_from(["", "\n", "\n  \n", "\nopening words\n"]))
    return value + after


@st.composite
def format_a_files_at_random(draw) -> str:
    header = draw(st.sampled_from(["", "actors: a, b\n", "actors: a, b\nmodels: m, n\n",
                                   "models: m, n, o\n", "actors: Élise, b\ntemp: 1\n",
                                   ("conversation_1712345678_scenario_x.txt • infinite backrooms"
                                    " scenario: x\nactors: a, b\n")]))
    parts = [header, draw(st.sampled_from(["", "", "", "\n", "stray\n"]))]
    for _ in range(draw(st.integers(0, 8))):
        name = draw(st.sampled_from(NAMES))
        parts.append(f"<{name}>{draw(st.sampled_from(['', ' ', '  ']))}\n")
        if name.endswith("#CONTEXT") and draw(st.booleans()):
            parts.append(draw(context_blocks()))
        else:
            parts.append("".join(draw(st.lists(st.sampled_from(TEXT), max_size=6))) + "\n")
    text = "".join(parts)
    if draw(st.integers(0, 4)) == 0:
        text += "Ã©lan\n"  # mojibake
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return draw(st.sampled_from(["", "\ufeff"])) + text.replace("\n", newline)


@settings(max_examples=400, deadline=None)
@given(format_a_files_at_random(), st.booleans())
def test_random_format_a_files_outline_as_they_read(text, fix_text):
    assert_outline_agrees("conversation_1712345678_scenario_random.txt", text.encode(), fix_text)


# ---------------------------------------------------------------- whole scans


def load_generator():
    spec = importlib.util.spec_from_file_location("bench_generate_dump",
                                                  ROOT / "benchmarks" / "generate_dump.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("outline")
    load_generator().generate(folder / "dump", size_mb=0.3, seed=5, hit_scale=0.05,
                              manifest_out=folder / "manifest.json")
    (folder / "absent.yaml").write_text(ABSENT, encoding="utf-8")
    return folder


def summary(monkeypatch, args: list[str], reference: bool) -> tuple[dict, str]:
    """The JSON report (without its timing) and the notices of one scan."""
    original = commands.ScanRequest.from_cli.__func__

    def from_cli(cls, *given, **options):
        request = original(cls, *given, **options)
        if reference:
            request.scan = dataclasses.replace(request.scan, prefilter=False)
        return request

    monkeypatch.setattr(commands.ScanRequest, "from_cli", classmethod(from_cli))
    result = CliRunner().invoke(main, ["scan", *args, "--format", "json"], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    report.pop("elapsed_seconds")
    return report, result.stderr


@pytest.mark.parametrize("role", ["spoken", "all"])
@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("patterns", ["absent", "shipped"])
def test_a_scan_counts_the_same_from_outlines(monkeypatch, dump, role, jobs, patterns):
    paths = [str(TESTS / "fixtures"), str(ROOT / "backrooms_scan" / "sample"), str(dump / "dump")]
    args = [*paths, "--role", role, "--jobs", jobs, *(f"--by={by}" for by in DIMENSIONS)]
    if patterns == "absent":
        args += ["-p", str(dump / "absent.yaml")]
    fast = summary(monkeypatch, args, reference=False)
    assert fast == summary(monkeypatch, args, reference=True)
    assert fast[0]["conversations"] > 50 and fast[0]["by"] and "not valid JSON" in fast[1]


def test_a_scan_of_files_without_keys_decodes_only_what_the_outline_declines(monkeypatch, dump):
    decoded = []
    original = Document.read_text
    monkeypatch.setattr(Document, "read_text", lambda doc: decoded.append(doc.path) or original(doc))
    files = format_a_files()
    CliRunner().invoke(main, ["scan", *map(str, files), "-p", str(dump / "absent.yaml"),
                              "--jobs", "1", "--format", "json"], catch_exceptions=False)
    outlined = {str(path) for path in files
                if backrooms.outline_text(Document.from_bytes(str(path), path.read_bytes()),
                                          path.read_bytes())}
    assert outlined and not outlined & set(decoded)


HOSTILE = {
    "unbalanced contexts": lambda n: "actors: a, b\n" + "<a#CONTEXT>\n[ [ \"\n" * n + "<a>\nhi\n",
    "tag pairs": lambda n: "actors: a, b\n" + "<a>\n</a> <b>\n" * n,
    "long names": lambda n: "actors: a, b\n<a>\n" + f"<{'é' * 300}>\n</{'é' * 300}>\n" * n,
}


@pytest.mark.parametrize("build", HOSTILE.values(), ids=HOSTILE)
def test_hostile_files_are_outlined_in_linear_time(build):
    def seconds(n: int) -> float:
        data = build(n).encode()
        start = time.perf_counter()
        assert_outline_agrees("x.txt", data)
        return time.perf_counter() - start

    small = min(seconds(2_000) for _ in range(2))
    large = min(seconds(8_000) for _ in range(2))
    assert large < 10 * small + 0.05, (small, large)
