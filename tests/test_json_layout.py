"""User-declared JSON layouts: validation with positions, and reading an export by one."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from backrooms_scan.cli import main
from backrooms_scan.decode import Document
from backrooms_scan.formats import chatjson
from backrooms_scan.json_layout import JsonLayout, LayoutPath, read_layout
from backrooms_scan.records import Role, SkipFile

FIXTURES = Path(__file__).parent / "fixtures" / "chatjson"
LAYOUT = FIXTURES / "sessions.layout.yaml"
EXPORT = FIXTURES / "sessions.jsonl"
GPT4O, OPUS = "gpt-4o-2024-08-06", "claude-3-opus-20240229"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def layout() -> JsonLayout:
    found, errors = read_layout(LAYOUT)
    assert errors == []
    return found


def errors_of(name: str) -> list[str]:
    found, errors = read_layout(FIXTURES / name)
    assert found is None
    return [str(error) for error in errors]


# --- the layout file ------------------------------------------------------------------


def test_a_layout_file_names_each_path():
    assert layout() == JsonLayout(
        messages=LayoutPath(("events",), from_record=True),
        text=LayoutPath(("body", "parts")),
        speaker=LayoutPath(("who", "seat")),
        model=LayoutPath(("session", "cast"), from_record=True),
        timestamp=LayoutPath(("at",)),
        conversation=LayoutPath(("session", "id"), from_record=True),
        scenario=LayoutPath(("session", "topic"), from_record=True),
        system_speakers=("moderator",),
        path=str(LAYOUT),
    )


def test_every_problem_of_a_layout_file_is_reported_at_its_line_and_column():
    where = FIXTURES / "layout_many_errors.yaml"
    assert errors_of("layout_many_errors.yaml") == [
        f"{where}:1:1: missing 'text'",
        f"{where}:1:1: missing 'speaker'",
        f"{where}:2:1: unknown key 'txt' (did you mean 'text'?)",
        f"{where}:3:8: 'model' must be a path such as 'data.messages' or a list of keys",
        f"{where}:4:12: 'timestamp' must name at least one key, with no empty step",
        f"{where}:5:11: 'scenario': '$' may only start a path",
        f"{where}:6:18: 'system_speakers' must be a list of speaker names",
    ]


def test_aliases_and_non_mappings_are_refused():
    alias = FIXTURES / "layout_alias.yaml"
    assert errors_of("layout_alias.yaml") == [
        f"{alias}:1:11: aliases (&/*) are not allowed in layout files",
        f"{alias}:2:7: aliases (&/*) are not allowed in layout files",
    ]
    assert errors_of("layout_not_mapping.yaml") == [
        (f"{FIXTURES / 'layout_not_mapping.yaml'}:1:1: a layout file must be a mapping with"
        " 'messages', 'text' and 'speaker'")]


@pytest.mark.parametrize(("text", "message"), [
    ("messages: [a\n", ("2:1: invalid YAML: while parsing a flow sequence: expected ',' or ']',"
                       " but got '<stream end>'")),
    ("messages: !!python/name:os.system x\ntext: t\nspeaker: s\n",
     "1:11: tag '!!python/name:os.system' is not allowed in layout files"),
    ("", "1:1: a layout file must be a mapping with 'messages', 'text' and 'speaker'"),
    ("messages: m\ntext: t\nspeaker: s\nmessages: n\n", "4:1: duplicate key 'messages'"),
    ("messages: $\ntext: t\nspeaker: s\n", ("1:11: 'messages' must name at least one key,"
                                           " with no empty step")),
])
def test_broken_layout_text_is_one_positioned_error(tmp_path, text, message):
    path = tmp_path / "layout.yaml"
    path.write_text(text, encoding="utf-8")
    found, errors = read_layout(path)
    assert found is None
    assert [str(error) for error in errors] == [f"{path}:{message}"]


def test_paths_index_lists_and_spell_keys_with_dots_as_lists(tmp_path):
    path = tmp_path / "layout.yaml"
    path.write_text('messages: data.0.log\ntext: ["a.b"]\nspeaker: [who, 1]\n', encoding="utf-8")
    found, errors = read_layout(path)
    assert errors == []
    value = {"data": [{"log": [{"a.b": "hello", "who": ["x", "north"]}]}]}
    conversation = chatjson.conversation_from_object(value, "c", "c", layout=found)
    assert [(t.speaker, t.text) for t in conversation.turns] == [("north", "hello")]


# --- reading by a layout --------------------------------------------------------------


def test_an_export_is_read_turn_by_turn_as_its_layout_declares():
    doc = Document.from_bytes("sessions.jsonl", EXPORT.read_bytes())
    first, second = chatjson.load(doc, layout())
    assert (first.id, first.scenario, second.id, second.scenario) == (
        "sessions.jsonl#s-17", "tea ceremony", "sessions.jsonl#s-18", "night walk")
    rows = [(t.speaker, t.model, t.role, t.text, t.timestamp, t.line)
            for c in (first, second) for t in c.turns]
    assert rows == [
        ("moderator", None, Role.SYSTEM, "Speak of the lantern, then stop.",
         "2025-03-01T12:00:01Z", 1),
        ("north", GPT4O, Role.SPOKEN, "The lantern is lit; gate gate, we begin.",
         "2025-03-01T12:00:05Z", 1),
        ("south", OPUS, Role.SPOKEN, "A lantern for tea.", "2025-03-01T12:00:09Z", 1),
        ("south", OPUS, Role.SPOKEN, "Gate, gate: the gate at the end of the walk.", None, 2),
        ("north", GPT4O, Role.SPOKEN, "No lantern tonight.", "2025-03-02T21:00:30Z", 2),
    ]
    assert doc.notices.items == []


def test_without_the_layout_the_export_is_not_a_transcript():
    doc = Document.from_bytes("sessions.jsonl", EXPORT.read_bytes())
    with pytest.raises(SkipFile, match="^not a transcript$"):
        list(chatjson.load(doc))


def test_objects_the_layout_does_not_fit_are_read_by_the_built_in_readers():
    other = json.dumps({"messages": [{"role": "user", "content": "plain export"}]})
    data = EXPORT.read_bytes() + other.encode() + b"\n"
    conversations = list(chatjson.load(Document.from_bytes("mixed.jsonl", data), layout()))
    assert [c.id for c in conversations] == ["mixed.jsonl#s-17", "mixed.jsonl#s-18", "mixed.jsonl#3"]
    assert [(t.speaker, t.text) for t in conversations[2].turns] == [("user", "plain export")]


def test_a_file_without_the_declared_list_says_where_it_looked():
    doc = Document.from_bytes("meta.json", b'{"log_file": "run.txt"}')
    with pytest.raises(SkipFile) as raised:
        list(chatjson.load(doc, layout()))
    assert raised.value.reason == f"not a transcript (no message list at 'events', as {LAYOUT} declares)"


# --- end to end -----------------------------------------------------------------------


def brute_force_hits(role: str) -> dict[str, Counter]:
    """Per speaker, model and pattern: occurrences in the export, read with json for the test."""
    counts = {"speaker": Counter(), "model": Counter(), "pattern": Counter()}
    regexes = {"json-layouts/gate-gate": r"gate[\W_]+gate", "json-layouts/lantern": "lantern"}
    for line in EXPORT.read_text(encoding="utf-8").splitlines():
        session = json.loads(line)
        for event in session["events"]:
            seat = event["who"]["seat"]
            if ("system" if seat == "moderator" else "spoken") != role:
                continue
            text = "\n".join(p["text"] for p in event["body"]["parts"] if p["type"] == "text")
            for pattern, regex in regexes.items():
                found = len(re.findall(f"(?i)(?={regex})", text))
                counts["speaker"][seat] += found
                counts["model"][session["session"]["cast"].get(seat, "")] += found
                counts["pattern"][pattern] += found
    return counts


@pytest.mark.parametrize("role", ["spoken", "system"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_scan_with_json_layout_counts_per_speaker_and_model_as_the_export_says(role, jobs):
    result = run("scan", str(EXPORT), str(FIXTURES / "agents_messages.json"),
                 "--json-layout", str(LAYOUT), "-p", str(FIXTURES / "phrases.yaml"),
                 "--role", role, "-f", "json", "--by", "speaker", "--by", "model", "--jobs", jobs)
    summary = json.loads(result.stdout)
    expected = brute_force_hits(role)
    # the other file, read by the built-in reader, adds its own speakers
    agents = json.loads((FIXTURES / "agents_messages.json").read_text(encoding="utf-8"))
    if role == "spoken":
        for message in agents["messages"]:
            for pattern, regex in {"json-layouts/gate-gate": r"gate[\W_]+gate",
                                   "json-layouts/lantern": "lantern"}.items():
                found = len(re.findall(f"(?i)(?={regex})", message["output"]))
                expected["speaker"][message["agent"]] += found
                expected["model"][""] += found
                expected["pattern"][pattern] += found
    for by in ("speaker", "model"):
        got = {row["value"]: row["hits"] for row in summary["by"][by] if row["hits"]}
        assert got == {value: n for value, n in expected[by].items() if n}, by
    assert {f"{row['set']}/{row['pattern']}": row["hits"] for row in summary["patterns"]} == dict(
        expected["pattern"])
    seats = Counter(event["who"]["seat"] == "moderator"
                    for line in EXPORT.read_text(encoding="utf-8").splitlines()
                    for event in json.loads(line)["events"])
    assert summary["turns"] == {"spoken": seats[False] + len(agents["messages"]),
                                "system": seats[True], "context": 0}
    assert summary["files_scanned"] == 2


def test_a_bad_layout_file_stops_the_scan_with_every_problem_and_exit_2():
    result = run("scan", str(EXPORT), "--json-layout", str(FIXTURES / "layout_many_errors.yaml"))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 7
    assert lines[2] == (f"backrooms-scan: {FIXTURES / 'layout_many_errors.yaml'}:2:1:"
                        " unknown key 'txt' (did you mean 'text'?)")
    assert result.stdout == ""


def test_a_missing_layout_file_is_an_error():
    result = run("scan", str(EXPORT), "--json-layout", str(FIXTURES / "nowhere.yaml"))
    assert result.exit_code == 2
    assert "nowhere.yaml: No such file or directory" in result.stderr
