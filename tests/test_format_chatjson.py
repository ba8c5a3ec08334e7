"""Chat JSON / JSONL transcripts (format C): ShareGPT, OpenAI messages, archive exports."""

from __future__ import annotations

import functools
import io
import json
import random
import re
import sys
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest

from backrooms_scan.decode import HEAD_SIZE, Document
from backrooms_scan.formats import chatjson
from backrooms_scan.records import Conversation, Role, SkipFile

FIXTURES = Path(__file__).parent / "fixtures" / "chatjson"
SPOKEN, SYSTEM = Role.SPOKEN, Role.SYSTEM


class TrickleStream:
    """A byte stream that hands out at most `most` bytes per read, as pipes and sockets may."""

    def __init__(self, data: bytes, most: int = 100):
        self._data = io.BytesIO(data)
        self.most = most
        self.bytes_given = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._data.read(self.most if size is None or size < 0 else min(size, self.most))
        self.bytes_given += len(chunk)
        return chunk


def fixture_document(name: str) -> Document:
    return Document.from_bytes(f"chatjson/{name}", (FIXTURES / name).read_bytes())


def stream_document(path: str, data: bytes, stream) -> Document:
    return Document(path, path.rsplit("/", 1)[-1], data[:HEAD_SIZE], stream)


def load_fixture(name: str) -> tuple[list[Conversation], Document]:
    doc = fixture_document(name)
    return list(chatjson.load(doc)), doc


def rows(conversation: Conversation) -> list[tuple]:
    """(speaker, role, model, text, line, column) of each turn."""
    return [(t.speaker, t.role, t.model, t.text, t.line, t.column) for t in conversation.turns]


def column_in(name: str, line: int, text: str) -> int:
    """Where `text` starts in line `line` of a fixture, written as a JSON string as is."""
    raw_line = (FIXTURES / name).read_text(encoding="utf-8").splitlines()[line - 1]
    return raw_line.index(f'"{text}"') + 2


def notices(doc: Document) -> list[tuple[str, int | None]]:
    return [(notice.message, notice.line) for notice in doc.notices.items]


def skip_reason(doc: Document) -> SkipFile:
    with pytest.raises(SkipFile) as raised:
        list(chatjson.load(doc))
    return raised.value


# --- the three styles -----------------------------------------------------------------


def test_sharegpt_object_is_one_conversation_named_by_its_path():
    [conversation], doc = load_fixture("sharegpt.json")
    opus = "claude-3-opus-20240229"
    assert conversation.id == "chatjson/sharegpt.json"
    assert conversation.format == "json"
    assert rows(conversation) == [
        ("system", SYSTEM, opus, "You are the simulator.", 1, 1),
        ("human", SPOKEN, opus, "cat bodhisattva_vow.txt", 1, 1),
        ("gpt", SPOKEN, opus, "Beings are numberless; I vow to free them.", 1, 1),
    ]
    assert [t.index for t in conversation.turns] == [1, 2, 3]
    assert {t.conversation for t in conversation.turns} == {"chatjson/sharegpt.json"}
    assert {t.source for t in conversation.turns} == {"chatjson/sharegpt.json"}
    assert not any(t.verbatim for t in conversation.turns)
    assert notices(doc) == []


def test_sharegpt_array_numbers_items_by_position_counting_skipped_ones():
    conversations, doc = load_fixture("sharegpt_array.json")
    assert [c.id for c in conversations] == [
        "chatjson/sharegpt_array.json#1",
        "chatjson/sharegpt_array.json#3",
    ]
    assert rows(conversations[0]) == [
        ("human", SPOKEN, None, "ls", 1, 1),
        ("gpt", SPOKEN, None, "gate gate paragate", 1, 1),
    ]
    assert rows(conversations[1]) == [
        ("system", SYSTEM, "gpt-4o", "be brief", 1, 1),
        ("claude", SPOKEN, "gpt-4o", "parasamgate bodhi svaha", 1, 1),
    ]
    assert notices(doc) == [("item 2: not a transcript, skipped", None)]


def test_openai_jsonl_speaker_is_name_or_role_and_model_is_message_or_top_level():
    conversations, doc = load_fixture("openai.jsonl")
    opus = "claude-3-opus-20240229"
    assert [c.id for c in conversations] == ["chatjson/openai.jsonl#1", "chatjson/openai.jsonl#2"]
    at = functools.partial(column_in, "openai.jsonl")
    assert rows(conversations[0]) == [
        ("system", SYSTEM, opus, "Assistant is in a CLI mood today.", 1,
         at(1, "Assistant is in a CLI mood today.")),
        ("user", SPOKEN, opus, "./dreamsim.exe", 1, at(1, "./dreamsim.exe")),
        ("assistant", SPOKEN, opus, "The shelves are made of breath.", 1,
         at(1, "The shelves are made of breath.")),
    ]
    assert rows(conversations[1]) == [
        ("explorer", SPOKEN, None, "hello", 2, at(2, "hello")),
        ("simulator", SPOKEN, "gpt-5", "hi", 2, at(2, "hi")),
    ]
    assert all(turn.verbatim for c in conversations for turn in c.turns)
    assert notices(doc) == []


def test_archive_system_prompts_come_first_then_rounds_are_flattened_in_order():
    [conversation], _ = load_fixture("archive.json")
    opus, sonnet = "claude-3-opus-20240229", "claude-3-5-sonnet-20240620"
    assert conversation.id == "chatjson/archive.json"
    assert conversation.scenario == "vanilla backrooms"
    assert conversation.timestamp == "2024-03-05T10:00:00Z"
    assert rows(conversation) == [
        ("explorer", SYSTEM, opus, "You explore.", 1, 1),
        ("simulator", SYSTEM, sonnet, "You simulate.", 1, 1),
        ("explorer", SPOKEN, opus, "cd ..", 1, 1),
        ("simulator", SPOKEN, sonnet, "total 42", 1, 1),
    ]
    assert {t.scenario for t in conversation.turns} == {"vanilla backrooms"}


def test_archive_message_timestamp_falls_back_to_the_conversation_start():
    [conversation], _ = load_fixture("archive.json")
    assert [t.timestamp for t in conversation.turns] == [
        "2024-03-05T10:00:00Z",
        "2024-03-05T10:00:00Z",
        "2024-03-05T10:00:01Z",
        "2024-03-05T10:00:00Z",
    ]


def test_archive_scenario_may_be_a_plain_string():
    [conversation], _ = load_fixture("archive_scenario_string.json")
    assert conversation.scenario == "dreamsim"
    at = functools.partial(column_in, "archive_scenario_string.json", 1)
    assert rows(conversation) == [
        ("alice", SPOKEN, "opus", "one", 1, at("one")),
        ("alice", SPOKEN, "opus", "two", 1, at("two")),
    ]


# --- content shapes -------------------------------------------------------------------


def test_content_parts_keep_text_parts_and_drop_images():
    [conversation], _ = load_fixture("content_parts.jsonl")
    assert rows(conversation) == [
        ("user", SPOKEN, None, "what is in this picture?\nanswer in one word", 1, 1),
        ("assistant", SPOKEN, None, "", 1, 1),
    ]


def test_null_content_is_an_empty_turn_that_keeps_its_place():
    [conversation], _ = load_fixture("null_content.jsonl")
    assert [(t.index, t.speaker, t.text) for t in conversation.turns] == [
        (1, "user", ""),
        (2, "assistant", "after the silence"),
    ]


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("plain", "plain"),
        (None, ""),
        ([{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {}}], "a"),
        ([{"text": "untyped part"}], "untyped part"),
        (["bare", "strings"], "bare\nstrings"),
        (42, ""),
        ({"type": "text", "text": "one part"}, "one part"),
    ],
)
def test_content_text_of_each_content_shape(content, text):
    assert chatjson.content_text(content) == text


def test_sharegpt_conversations_written_with_role_and_content_are_read_too():
    conversation = chatjson.conversation_from_object(
        {"conversations": [{"role": "system", "content": "p"}, {"role": "user", "content": "q"}]},
        "x", "x",
    )
    assert conversation is not None
    assert [(t.speaker, t.role, t.text) for t in conversation.turns] == [
        ("system", SYSTEM, "p"),
        ("user", SPOKEN, "q"),
    ]


@pytest.mark.parametrize(
    "value",
    [{}, [], {"messages": []}, {"messages": "text"}, {"messages": [[]]}, {"conversations": [1, 2]}],
)
def test_objects_without_messages_are_not_conversations(value):
    assert not chatjson.is_conversation(value)
    assert chatjson.conversation_from_object(value, "x", "x") is None


def test_developer_messages_are_prompt_text_not_spoken():
    conversation = chatjson.conversation_from_object(
        {"messages": [{"role": "developer", "content": "rules"}, {"role": "user", "content": "hi"}]},
        "x", "x",
    )
    assert conversation is not None
    assert [t.role for t in conversation.turns] == [SYSTEM, SPOKEN]


# --- encodings and layouts ------------------------------------------------------------


def test_utf8_bom_is_skipped():
    [conversation], _ = load_fixture("bom.json")
    assert rows(conversation) == [("user", SPOKEN, None, "café — gate", 1, 1)]


def test_utf16_with_bom_is_decoded():
    [conversation], _ = load_fixture("utf16.json")
    assert conversation.id == "chatjson/utf16.json"
    assert rows(conversation) == [("user", SPOKEN, None, "café — gate", 1, 1)]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("bom", ["\ufeff", ""], ids=["bom", "no-bom"])
def test_a_scan_reads_utf16_json_with_or_without_a_bom_as_it_reads_utf8(tmp_path, encoding, bom):
    from mock_environment import invoke

    text = json.dumps({"messages": [
        {"role": "user", "content": "café — say the mantra"},
        {"role": "assistant", "content": "gate gate paragate parasamgate bodhi svaha"},
    ]}, ensure_ascii=False, indent=1)

    def events(name: str, data: bytes) -> list[dict]:
        path = tmp_path / name / "export.json"
        path.parent.mkdir()
        path.write_bytes(data)
        done = invoke("scan", str(path), "--set", "heart-sutra-mantra", "-f", "jsonl",
                      "--jobs", "1")
        assert (done.status, done.stderr) == (0, "")
        found = [json.loads(line) for line in done.stdout.replace(str(path), "P").splitlines()]
        found[-1]["data"].pop("elapsed_seconds")
        return found

    wide, utf8 = events("wide", (bom + text).encode(encoding)), events("utf8", text.encode())
    assert wide == utf8
    end = next(e["data"] for e in utf8 if e["type"] == "end")
    assert (end["format"], end["turns"], end["hits"]) == (chatjson.NAME, {"spoken": 2}, 4)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_decoded_as_the_file_text_is(encoding):
    text = json.dumps({"messages": [{"role": "user", "content": "café — gate gate"}]},
                      ensure_ascii=False)
    doc = Document.from_bytes("export.json", text.encode(encoding))
    [conversation] = chatjson.load(doc)
    assert [(turn.speaker, turn.text) for turn in conversation.turns] == [
        ("user", "café — gate gate")]


def test_crlf_jsonl_lines_are_numbered_like_lf_ones():
    conversations, doc = load_fixture("crlf.jsonl")
    assert [(c.id, c.turns[0].text, c.turns[0].line) for c in conversations] == [
        ("chatjson/crlf.jsonl#1", "first", 1),
        ("chatjson/crlf.jsonl#2", "third", 2),
    ]
    assert notices(doc) == []


def test_concatenated_documents_each_start_where_their_object_opens():
    conversations, _ = load_fixture("concatenated.json")
    assert [(c.id, c.turns[0].text, c.turns[0].line, c.turns[0].column) for c in conversations] == [
        ("chatjson/concatenated.json#1", "first document", 1, 1),
        ("chatjson/concatenated.json#2", "second document", 4, 3),
    ]


def test_invalid_utf8_inside_a_streamed_array_is_replaced_not_fatal():
    data = b'[{"messages": [{"role": "user", "content": "bad \xff byte"}]}]'
    doc = Document.from_bytes("bytes.json", data)
    [conversation] = chatjson.load(doc)
    assert conversation.turns[0].text == "bad \ufffd byte"


# --- broken JSON ----------------------------------------------------------------------


def test_invalid_jsonl_line_is_skipped_with_a_notice_and_the_rest_still_loads():
    conversations, doc = load_fixture("bad_line.jsonl")
    assert [(c.id, c.turns[0].text, c.turns[0].line) for c in conversations] == [
        ("chatjson/bad_line.jsonl#1", "first", 1),
        ("chatjson/bad_line.jsonl#3", "third", 4),
    ]
    assert notices(doc) == [("invalid JSON (Expecting ',' delimiter at column 50)", 2)]


def test_jsonl_with_a_broken_first_line_is_still_read_as_jsonl():
    good = json.dumps({"messages": [{"role": "user", "content": "second"}]})
    doc = Document.from_bytes("broken_first.jsonl", f'{{"messages": [\n{good}\n'.encode())
    [conversation] = chatjson.load(doc)
    assert (conversation.id, conversation.turns[0].text, conversation.turns[0].line) == (
        "broken_first.jsonl#2", "second", 2,
    )
    assert notices(doc) == [("invalid JSON (Expecting value at column 15)", 1)]


def test_pretty_printed_object_whose_second_line_is_a_whole_message_is_one_document():
    data = b'{"messages": [\n{"role": "user", "content": "hi"}\n]}\n'
    doc = Document.from_bytes("pretty.json", data)
    [conversation] = chatjson.load(doc)
    assert (conversation.id, rows(conversation)) == (
        "pretty.json", [("user", SPOKEN, None, "hi", 1, 1)],
    )
    assert notices(doc) == []


def test_truncated_array_keeps_the_conversations_before_the_break():
    conversations, doc = load_fixture("truncated_array.json")
    assert [(c.id, c.turns[0].text) for c in conversations] == [
        ("chatjson/truncated_array.json#1", "kept"),
    ]
    message = (
        "invalid JSON: Unterminated string starting at line 3 column 49;"
        " the rest of the file was not read"
    )
    assert notices(doc) == [(message, 3)]


def test_truncated_object_is_skipped_naming_line_and_column():
    error = skip_reason(fixture_document("truncated_object.json"))
    assert error.reason == "invalid JSON: Expecting value at line 5 column 1"
    assert error.line == 5


def test_broken_single_line_document_is_skipped_naming_the_column():
    doc = Document.from_bytes("one.json", b'{"messages": [{"role": "user" "content": "x"}]}')
    error = skip_reason(doc)
    assert error.reason == "invalid JSON: Expecting ',' delimiter at line 1 column 31"


def test_truncated_array_with_nothing_complete_is_skipped():
    doc = Document.from_bytes("cut.json", b'[\n  {"messages": [{"role": "user", "content": "x"}')
    assert skip_reason(doc).reason == "invalid JSON: Expecting ',' delimiter at line 2 column 49"


# --- not transcripts ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "metadata.json",
        "metadata.jsonl",
        "config.json",
        "image_state.json",
        "numbers.json",
        "empty_object.json",
    ],
)
def test_files_without_a_conversation_are_skipped_as_not_a_transcript(name):
    doc = fixture_document(name)
    assert skip_reason(doc).reason == "not a transcript"
    assert notices(doc) == []


def test_plain_text_is_not_a_transcript_and_empty_file_says_so():
    assert skip_reason(Document.from_bytes("a.json", b"actors: a, b\n")).reason == "not a transcript"
    assert skip_reason(Document.from_bytes("a.json", b"  \n")).reason == "empty file"


def test_huge_array_of_non_transcripts_is_given_up_after_the_first_items():
    data = ("[" + ", ".join(json.dumps({"log_file": f"run{i}.txt"}) for i in range(200_000)) + "]")
    stream = TrickleStream(data.encode(), most=64 * 1024)
    doc = stream_document("meta.json", data.encode(), stream)
    assert skip_reason(doc).reason == "not a transcript"
    assert stream.bytes_given < 256 * 1024 < len(data)


def test_huge_jsonl_of_non_transcripts_is_given_up_after_the_first_lines():
    data = "".join(json.dumps({"round": i}) + "\n" for i in range(200_000)).encode()
    stream = TrickleStream(data, most=64 * 1024)
    assert skip_reason(stream_document("meta.jsonl", data, stream)).reason == "not a transcript"
    assert stream.bytes_given < 256 * 1024 < len(data)


def test_non_transcript_line_between_conversations_gets_a_notice():
    line = json.dumps({"messages": [{"role": "user", "content": "hi"}]})
    data = f'{line}\n{{"log_file": "x.txt"}}\n[1, 2]\n{line}\n'.encode()
    doc = Document.from_bytes("mixed.jsonl", data)
    assert [c.id for c in chatjson.load(doc)] == ["mixed.jsonl#1", "mixed.jsonl#4"]
    assert notices(doc) == [
        ("not a transcript, skipped", 2),
        ("not a transcript, skipped", 3),
    ]


def test_only_broken_lines_is_skipped_as_invalid_json():
    doc = Document.from_bytes("broken.jsonl", b'{"a": 1\n{"b": 2\n')
    error = skip_reason(doc)
    assert error.reason == "invalid JSON: Expecting ',' delimiter at line 2 column 1"


# --- streaming ------------------------------------------------------------------------


def test_top_level_array_streams_from_a_stream_that_returns_100_bytes_per_read():
    data = (FIXTURES / "sharegpt_array.json").read_bytes()
    whole = list(chatjson.load(Document.from_bytes("chatjson/sharegpt_array.json", data)))
    stream = TrickleStream(data, most=100)
    trickled = list(chatjson.load(stream_document("chatjson/sharegpt_array.json", data, stream)))
    assert trickled == whole
    assert [rows(c) for c in trickled] == [rows(c) for c in whole]
    assert len(trickled) == 2


def test_jsonl_and_utf16_load_from_a_stream_that_returns_7_bytes_per_read():
    for name in ("openai.jsonl", "utf16.json", "bom.json", "archive.json"):
        data = (FIXTURES / name).read_bytes()
        expected = list(chatjson.load(Document.from_bytes(name, data)))
        got = list(chatjson.load(stream_document(name, data, TrickleStream(data, most=7))))
        assert got == expected, name


def test_50000_conversation_array_loads_with_memory_well_under_the_file_size(tmp_path):
    path = tmp_path / "big.json"
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for n in range(50_000):
            conversation = {"id": f"c{n}", "conversations": [
                {"from": "human", "value": f"question {n} " + "om mani padme hum " * 8},
                {"from": "gpt", "value": f"answer {n} " + "gate gate paragate " * 8},
            ]}
            out.write(("," if n else "") + json.dumps(conversation) + "\n")
        out.write("]\n")
    size = path.stat().st_size
    with path.open("rb") as stream:
        doc = Document(str(path), "big.json", b"", stream)
        tracemalloc.start()
        try:
            count = turns = 0
            last_id = None
            for conversation in chatjson.load(doc):
                count += 1
                turns += len(conversation.turns)
                last_id = conversation.id
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert (count, turns, last_id) == (50_000, 100_000, f"{path}#50000")
    assert size > 15_000_000
    assert peak < size / 5


# --- sniffing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "head", "confidence"),
    [
        ("dump.json", '{"id": "a1", "conversations": []}', 0.9),
        ("dump.jsonl", '{"messages": []}\n{"messages": []}', 0.9),
        ("dump.JSON", "[\n  {", 0.9),
        ("dump.txt", '  \n[{"conversations": []}]', 0.8),
        ("export", "\ufeff{}", 0.8),
        ("numbers", "[1, 2]", 0.8),
        ("dump.json", "actors: claude-explorer, claude-simulator", 0.0),
        ("chat.txt", "[21:04:55] Explorer$ hello", 0.0),
        ("notes.json", "{Claude 1} said", 0.0),
        ("empty.json", "", 0.0),
    ],
)
def test_sniff_confidence(name, head, confidence):
    assert chatjson.sniff(name, head) == confidence


# --- a generated corpus ---------------------------------------------------------------


def _random_text(rng: random.Random) -> str:
    return " ".join(rng.choice(["gate", "om", "vow", "é", "\n", "\"q\"", "🌀"]) for _ in range(5))


def _random_content(rng: random.Random) -> object:
    kind = rng.choice(["str", "str", "parts", "null"])
    if kind == "str":
        return _random_text(rng)
    if kind == "parts":
        return [{"type": "text", "text": _random_text(rng)}, {"type": "image_url", "image_url": {}}]
    return None


def _sharegpt(rng: random.Random, expected: Counter) -> dict:
    messages = []
    for _ in range(rng.randint(1, 5)):
        speaker = rng.choice(["system", "human", "gpt", "claude"])
        messages.append({"from": speaker, "value": _random_content(rng)})
        expected[(SYSTEM if speaker == "system" else SPOKEN, speaker)] += 1
    return {"id": str(rng.random()), "conversations": messages}


def _openai(rng: random.Random, expected: Counter) -> dict:
    messages = []
    for _ in range(rng.randint(1, 5)):
        role = rng.choice(["system", "user", "assistant"])
        message = {"role": role, "content": _random_content(rng)}
        if role != "system" and rng.random() < 0.3:
            message["name"] = "named"
        messages.append(message)
        expected[(SYSTEM if role == "system" else SPOKEN, message.get("name", role))] += 1
    return {"messages": messages, "model": "m"}


def _archive(rng: random.Random, expected: Counter) -> dict:
    actors = rng.sample(["explorer", "simulator", "dreamer"], 2)
    for actor in actors:
        expected[(SYSTEM, actor)] += 1
    rounds = []
    for _ in range(rng.randint(0, 4)):
        round_ = [{"role": rng.choice(actors), "content": _random_content(rng)}
                  for _ in range(rng.randint(1, 2))]
        for message in round_:
            expected[(SPOKEN, message["role"])] += 1
        rounds.append(round_)
    if not rounds:  # an archive with no messages at all is not conversation-shaped
        rounds = [[{"role": actors[0], "content": "only"}]]
        expected[(SPOKEN, actors[0])] += 1
    return {
        "id": "x", "started_at": "2024-01-01T00:00:00Z",
        "scenario": {"name": "s", "system_prompts": {actor: _random_text(rng) for actor in actors}},
        "participants": dict.fromkeys(actors, "opus"),
        "messages": rounds,
    }


def generate_corpus(seed: int) -> tuple[list[tuple[str, bytes]], int, Counter]:
    """Files mixing the three styles in every layout, with the counts a loader must find."""
    rng = random.Random(seed)
    expected: Counter = Counter()
    files, conversations = [], 0
    noise = [{"log_file": "run.txt"}, [1, 2, 3], "text", {"messages": "not a list"}]
    for number in range(30):
        layout = rng.choice(["jsonl", "array", "pretty-array", "single"])
        count = 1 if layout == "single" else rng.randint(1, 6)
        objects = [rng.choice([_sharegpt, _openai, _archive])(rng, expected) for _ in range(count)]
        conversations += count
        if layout != "single":
            objects.insert(rng.randint(1, len(objects)), rng.choice(noise))
        if layout == "jsonl":
            lines = [json.dumps(obj, ensure_ascii=rng.random() < 0.5) for obj in objects]
            lines.insert(rng.randint(1, len(lines)), '{"broken": ')
            files.append((f"f{number}.jsonl", ("\n".join(lines) + "\n").encode()))
        elif layout == "single":
            files.append((f"f{number}.json", json.dumps(objects[0], indent=2).encode()))
        else:
            indent = 2 if layout == "pretty-array" else None
            files.append((f"f{number}.json", json.dumps(objects, indent=indent).encode()))
    return files, conversations, expected


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_generated_corpus_counts_match_what_the_generator_wrote(seed):
    files, conversation_count, expected = generate_corpus(seed)
    found: Counter = Counter()
    loaded = 0
    for name, data in files:
        stream = TrickleStream(data, most=random.Random(name).choice([13, 100, 1 << 16]))
        for conversation in chatjson.load(stream_document(name, data, stream)):
            loaded += 1
            found.update((turn.role, turn.speaker) for turn in conversation.turns)
    assert loaded == conversation_count
    assert found == expected
    assert sum(found.values()) > 100


@pytest.mark.parametrize("data", [
    (b'{"messages": [{"role": "assistant", "content": "gate gate \xff\xfe paragate"}]}\n'
     b'{"messages": [{"role": "assistant", "content": "fine"}]}\n'),
    b'[{"conversations": [{"from": "gpt", "value": "animal welfare \xc3"}]}]',
    b'\xef\xbb\xbf{"messages": [{"role": "assistant", "content": "ok \xe2\x80"}]}',
], ids=["jsonl", "array", "bom-document"])
def test_invalid_utf8_is_replaced_and_reported_at_its_byte(data):
    doc = Document.from_bytes("bad.json", data)
    conversations = list(chatjson.load(doc))
    with pytest.raises(UnicodeDecodeError) as whole_file_error:
        data.decode("utf-8")  # one strict pass over the whole file says where it breaks
    assert conversations and "\ufffd" in conversations[0].turns[0].text
    assert [n.message for n in doc.notices.items] == [
        f"invalid UTF-8 at byte {whole_file_error.value.start}; decoded with replacement"]


def test_jsonl_text_written_with_escapes_stays_at_its_record_start():
    data = (json.dumps({"messages": [{"role": "assistant", "content": 'say "gate"\nnow'},
                                     {"role": "user", "content": "plain"}]}) + "\n").encode()
    [conversation] = chatjson.load(Document.from_bytes("e.jsonl", data))
    escaped, plain = conversation.turns
    assert (escaped.line, escaped.column, escaped.verbatim) == (1, 1, False)
    assert (plain.column, plain.verbatim) == (data.decode().index('"plain"') + 2, True)


def test_after_a_lone_cr_jsonl_texts_are_not_placed_inside_lines():
    line = json.dumps({"messages": [{"role": "user", "content": "hello"}]})
    data = f"{line}\n[1,\r2]\n{line}\n".encode()
    conversations = list(chatjson.load(Document.from_bytes("cr.jsonl", data)))
    assert [c.turns[0].verbatim for c in conversations] == [True, False]


# --- experiment logs with their own keys (the generic reader) --------------------------

SONNET4, OPUS4 = "claude-sonnet-4-20250514", "claude-opus-4-20250514"
CONTEXT = Role.CONTEXT


def turn_rows(conversation: Conversation) -> list[tuple]:
    """(speaker, model, role, text, timestamp) of each turn."""
    return [(t.speaker, t.model, t.role, t.text, t.timestamp) for t in conversation.turns]


def test_exchanges_are_spoken_by_their_model_letter_with_replayed_input_as_context_once():
    [conversation], doc = load_fixture("letters_exchanges.json")
    log = json.loads((FIXTURES / "letters_exchanges.json").read_text(encoding="utf-8"))
    exchanges = log["exchanges"]
    seed_a = exchanges[0]["input_messages"][0]["content"]
    seed_b = exchanges[1]["input_messages"][0]["content"]
    started = "2025-12-25T16:35:48"
    assert (conversation.id, conversation.scenario, conversation.timestamp) == (
        "chatjson/letters_exchanges.json", "letters", started)
    assert turn_rows(conversation) == [
        ("A", SONNET4, CONTEXT, seed_a, started),
        ("A", SONNET4, SPOKEN, exchanges[0]["response"], started),
        ("B", OPUS4, CONTEXT, seed_b, started),
        ("B", OPUS4, SPOKEN, exchanges[1]["response"], started),
        # no model_id: model_a of the metadata; the response is a list of parts
        ("A", SONNET4, SPOKEN, exchanges[2]["response"][0]["text"], started),
        # stop_reason "error": the text is the runner's error message
        ("B", OPUS4, SYSTEM, exchanges[3]["response"], started),
    ]
    assert {t.scenario for t in conversation.turns} == {"letters"}
    assert notices(doc) == []


def test_conversation_history_speakers_keep_their_names_and_the_report_is_a_system_turn():
    [conversation], doc = load_fixture("conversation_history.json")
    log = json.loads((FIXTURES / "conversation_history.json").read_text(encoding="utf-8"))
    history = log["conversation_history"]
    sonnet = "claude-3-5-sonnet-20241022"
    assert conversation.timestamp == "2024-11-02T09:15:00"
    assert turn_rows(conversation) == [
        ("Claude_A", sonnet, SPOKEN, history[0]["message"], "2024-11-02T09:15:04"),
        ("Claude_B", sonnet, SPOKEN, history[1]["message"], "2024-11-02T09:15:11"),
        ("Claude_A", sonnet, SPOKEN, history[2]["message"], "2024-12-01T00:00:02"),
        ("analysis_report", None, SYSTEM, log["analysis_report"], "2024-11-02T09:15:00"),
    ]
    assert notices(doc) == []


def test_agent_outputs_are_spoken_by_their_agent():
    [conversation], doc = load_fixture("agents_messages.json")
    outputs = json.loads((FIXTURES / "agents_messages.json").read_text(encoding="utf-8"))
    assert turn_rows(conversation) == [
        (m["agent"], None, SPOKEN, m["output"], None) for m in outputs["messages"]]
    assert [t.index for t in conversation.turns] == [1, 2, 3, 4]
    assert notices(doc) == []


@pytest.mark.parametrize("text_key", ["content", "text", "message", "value", "response", "output"])
@pytest.mark.parametrize("speaker_key", ["from", "speaker", "agent", "name", "author"])
def test_any_text_field_and_speaker_field_make_a_message(text_key, speaker_key):
    value = {"turns": [{speaker_key: "alice", text_key: "one"}, {speaker_key: "bob", text_key: "two"}]}
    conversation = chatjson.conversation_from_object(value, "x", "x")
    assert conversation is not None
    assert [(t.speaker, t.role, t.text) for t in conversation.turns] == [
        ("alice", SPOKEN, "one"), ("bob", SPOKEN, "two")]


@pytest.mark.parametrize("key", ["dialogue", "chat_history", "utterances", "transcript", "log_turns"])
def test_message_lists_under_conversation_like_keys_are_read(key):
    assert chatjson.is_conversation({key: [{"speaker": "a", "text": "hi"}]})


@pytest.mark.parametrize("value", [
    {"runs": [{"name": "run1", "output": "logs/run1.txt"}]},       # run metadata
    {"env": [{"name": "PATH", "value": "/usr/bin"}]},               # config
    {"images": [{"prompt": "a lantern", "path": "img/1.png"}]},    # image state
    {"messages": [{"turn": 1, "tokens": 30}]},                      # no speaker, no text
    {"history": [{"speaker": "a"}]},                                # a speaker but no text
    {"messages_seen": 12, "turns": 4},
])
def test_lists_that_are_not_messages_stay_not_a_transcript(value):
    assert not chatjson.is_conversation(value)
    doc = Document.from_bytes("meta.json", json.dumps(value).encode())
    assert skip_reason(doc).reason == "not a transcript"


def test_a_model_field_naming_a_model_is_both_speaker_and_model():
    value = {"exchanges": [{"model": "gpt-4o", "response": "hi"}, {"model": "B", "response": "yo"}]}
    conversation = chatjson.conversation_from_object(value, "x", "x")
    assert [(t.speaker, t.model) for t in conversation.turns] == [("gpt-4o", "gpt-4o"), ("B", None)]


def test_models_come_from_participants_models_or_one_top_level_model():
    records = [{"speaker": "explorer", "text": "a"}, {"speaker": "simulator", "text": "b"}]
    for extra, expected in [
        ({"participants": {"explorer": "opus", "simulator": "sonnet"}}, ["opus", "sonnet"]),
        ({"metadata": {"models": {"explorer": "opus"}, "model": "haiku"}}, ["opus", "haiku"]),
        ({"model": "gpt-5"}, ["gpt-5", "gpt-5"]),
        ({"experiment_info": {"model_1": "opus"}}, [None, None]),
    ]:
        conversation = chatjson.conversation_from_object({"history": records, **extra}, "x", "x")
        assert [t.model for t in conversation.turns] == expected, extra


def test_runner_errors_in_records_are_system_turns_never_spoken():
    value = {"history": [
        {"speaker": "Claude_A", "text": "hello"},
        {"speaker": "Claude_B", "error": "Timeout after 300s"},
        {"speaker": "Claude_A", "text": "Error: rate limited", "finish_reason": "error"},
        {"speaker": "Claude_B", "text": "Error: no such file (said in a terminal role-play)"},
        {"round": 2},
    ]}
    conversation = chatjson.conversation_from_object(value, "x", "x")
    assert [(t.speaker, t.role, t.text) for t in conversation.turns] == [
        ("Claude_A", SPOKEN, "hello"),
        ("Claude_B", SYSTEM, "Timeout after 300s"),
        ("Claude_A", SYSTEM, "Error: rate limited"),
        ("Claude_B", SPOKEN, "Error: no such file (said in a terminal role-play)"),
    ]


def test_system_speakers_and_system_prompts_of_records_are_prompt_text():
    value = {"exchanges": [
        {"speaker": "system", "text": "be kind"},
        {"speaker": "A", "system_prompt": "You are A.", "response": "hi"},
        {"speaker": "A", "system_prompt": "You are A.", "response": "again"},
    ]}
    conversation = chatjson.conversation_from_object(value, "x", "x")
    assert [(t.speaker, t.role, t.text) for t in conversation.turns] == [
        ("system", SYSTEM, "be kind"), ("A", SYSTEM, "You are A."), ("A", SPOKEN, "hi"),
        ("A", SPOKEN, "again"),
    ]


def test_experiment_logs_in_jsonl_are_one_conversation_per_line():
    line = json.dumps({"messages": [{"agent": "explorer", "output": "gate"}], "model": "opus"})
    doc = Document.from_bytes("agents.jsonl", f"{line}\n{line}\n".encode())
    conversations = list(chatjson.load(doc))
    assert [(c.id, [(t.speaker, t.model, t.line, t.verbatim) for t in c.turns])
            for c in conversations] == [
        ("agents.jsonl#1", [("explorer", "opus", 1, True)]),
        ("agents.jsonl#2", [("explorer", "opus", 2, True)]),
    ]


# --- counts per speaker, model and role against a reading written for the test ----------

PHRASES = {"json-layouts/gate-gate": r"gate[\W_]+gate", "json-layouts/lantern": r"lantern"}


def parts_text(value) -> str:
    return value if isinstance(value, str) else "\n".join(part["text"] for part in value)


def brute_exchanges(log: dict) -> list[tuple[str, str, str, str]]:
    """(speaker, model, role, text): each response spoken unless it stopped with an error;
    each input message not seen before is the receiving model's context."""
    meta, said, seen = log["metadata"], [], set()
    for exchange in log["exchanges"]:
        speaker = exchange["model"]
        model = exchange.get("model_id") or meta[f"model_{speaker.lower()}"]
        for message in exchange["input_messages"]:
            text = parts_text(message["content"])
            if text not in seen:
                said.append((speaker, model, "context", text))
            seen.add(text)
        text = parts_text(exchange["response"])
        seen.add(text)
        said.append((speaker, model, "system" if exchange["stop_reason"] == "error" else "spoken",
                     text))
    return said


def brute_history(log: dict) -> list[tuple[str, str, str, str]]:
    model = log["experiment_info"]["model"]
    said = [(m["speaker"], model, "spoken", m["message"]) for m in log["conversation_history"]]
    return [*said, ("analysis_report", "", "system", log["analysis_report"])]


def brute_agents(log: dict) -> list[tuple[str, str, str, str]]:
    return [(m["agent"], "", "spoken", m["output"]) for m in log["messages"]]


def brute_turns_log(lines: list[dict]) -> list[tuple[str, str, str, str]]:
    model = lines[0]["experiment_info"]["model"]
    return [(line["speaker"], model, "system" if "error" in line else "spoken",
             line.get("message") or line["error"]) for line in lines if "speaker" in line]


@pytest.mark.parametrize(("name", "reading"), [
    ("letters_exchanges.json", brute_exchanges),
    ("conversation_history.json", brute_history),
    ("agents_messages.json", brute_agents),
    ("turns_log.jsonl", brute_turns_log),
])
@pytest.mark.parametrize("role", ["spoken", "system", "context"])
def test_hits_per_speaker_and_model_match_a_reading_of_the_json(name, reading, role):
    from click.testing import CliRunner

    from backrooms_scan.cli import main

    text = (FIXTURES / name).read_text(encoding="utf-8")
    said = reading([json.loads(line) for line in text.splitlines()] if name.endswith(".jsonl")
                   else json.loads(text))
    expected = {"speaker": Counter(), "model": Counter(), "pattern": Counter()}
    for speaker, model, turn_role, text in said:
        if turn_role != role:
            continue
        for pattern, regex in PHRASES.items():
            found = len(re.findall(f"(?i)(?={regex})", text))
            expected["speaker"][speaker] += found
            expected["model"][model] += found
            expected["pattern"][pattern] += found
    result = CliRunner().invoke(main, [
        "scan", str(FIXTURES / name), "-p", str(FIXTURES / "phrases.yaml"), "--role", role,
        "-f", "json", "--by", "speaker", "--by", "model"], catch_exceptions=False)
    summary = json.loads(result.stdout)
    roles = Counter(turn_role for *_, turn_role, _ in said)
    assert summary["turns"] == {kind: roles[kind] for kind in ("spoken", "system", "context")}
    for by in ("speaker", "model"):
        got = {row["value"]: row["hits"] for row in summary["by"][by] if row["hits"]}
        assert got == {value: n for value, n in expected[by].items() if n}, by
    got = {f"{row['set']}/{row['pattern']}": row["hits"] for row in summary["patterns"]}
    assert got == {pattern: expected["pattern"][pattern] for pattern in PHRASES}
    assert summary["hits"] == summary["hits_including_replays"] == sum(expected["pattern"].values())


# --- numbers Python will not read, and nesting too deep to parse ----------------------

MESSAGE = json.dumps({"messages": [{"role": "user", "content": "gate gate"}]})
needs_int_limit = pytest.mark.skipif(not hasattr(sys, "get_int_max_str_digits"),
                                     reason="this Python reads integers of any length")


def nested(depth: int, text: str = "deep") -> str:
    """A conversation whose `extra` field makes the whole object `depth` levels deep."""
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    return json.dumps({"messages": [{"role": "user", "content": text}]})[:-1] + f', "extra": {inner}}}'


@needs_int_limit
def test_jsonl_line_with_an_integer_too_long_to_read_loses_only_that_line():
    digits = sys.get_int_max_str_digits() + 1
    long_line = '{"seed": ' + "7" * digits + ', "messages": []}'
    doc = Document.from_bytes("long.jsonl", f"{MESSAGE}\n{long_line}\n{MESSAGE}\n".encode())
    assert [c.id for c in chatjson.load(doc)] == ["long.jsonl#1", "long.jsonl#3"]
    assert notices(doc) == [((f"a number of {digits} digits at column 10 is longer than Python"
                             f" reads ({digits - 1} digits); line skipped"), 2)]


@needs_int_limit
def test_document_with_an_integer_too_long_to_read_is_skipped_naming_where():
    digits = sys.get_int_max_str_digits() + 1
    doc = Document.from_bytes("long.json", ('{"messages": [],\n "n": ' + "7" * digits + "}").encode())
    error = skip_reason(doc)
    assert error.reason == (f"a number of {digits} digits at line 2 column 7 is longer than"
                            f" Python reads ({digits - 1} digits)")
    assert error.line == 2


@pytest.mark.parametrize("digits", [20, 5000])
def test_streamed_array_keeps_what_came_before_an_integer_beyond_64_bits(digits):
    data = f'[{MESSAGE},\n{{"n": {"9" * digits}}}, {MESSAGE}]'.encode()
    doc = stream_document("big.json", data, TrickleStream(data, most=16))
    assert [c.id for c in chatjson.load(doc)] == ["big.json#1"]
    [(message, _line)] = notices(doc)
    assert message.startswith("an integer beyond 64 bits near byte ")
    assert message.endswith(", which the streaming JSON reader cannot read;"
                            " the rest of the file was not read")


def test_forty_thousand_open_brackets_are_refused_without_taking_memory():
    data = b"[" * 40_000
    tracemalloc.start()
    try:
        error = skip_reason(stream_document("deep.json", data, TrickleStream(data, most=4096)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.reason == f"JSON nested deeper than {chatjson.MAX_NESTING} levels is not read"
    assert peak < 20_000_000


def test_deep_nesting_after_leading_white_space_is_refused_with_its_reason():
    data = b" " * 10 + b"[" * 40_000
    error = skip_reason(Document.from_bytes("deep.json", data))
    assert error.reason == f"JSON nested deeper than {chatjson.MAX_NESTING} levels is not read"


@pytest.mark.parametrize("layout", ["array", "jsonl", "document"])
def test_nesting_is_read_up_to_the_limit_and_refused_past_it(layout):
    limit = chatjson.MAX_NESTING
    if layout == "array":  # the array itself is one level
        at, past = f"[{nested(limit - 1)}]", f"[{nested(limit)}]"
    else:
        at, past = nested(limit), nested(limit + 1)
    refused = f"JSON nested deeper than {limit} levels is not read"
    if layout == "jsonl":
        doc = Document.from_bytes("n.jsonl", f"{at}\n{past}\n{MESSAGE}\n".encode())
        assert [c.id for c in chatjson.load(doc)] == ["n.jsonl#1", "n.jsonl#3"]
        assert notices(doc) == [(f"{refused}; line skipped", 2)]
        return
    [conversation] = chatjson.load(Document.from_bytes("n.json", at.encode()))
    assert conversation.turns[0].text == "deep"
    assert skip_reason(Document.from_bytes("n.json", past.encode())).reason == refused


@pytest.mark.parametrize("most", [1, 7, 1 << 16])
def test_brackets_and_escaped_quotes_inside_strings_do_not_count_as_nesting(most):
    text = '\\"[[[ quoted \\\\' + "[" * 2000 + "{" * 2000
    data = f'[{nested(20, text)}, {nested(30, "]]]" * 900 + text)}]'.encode()
    doc = stream_document("s.json", data, TrickleStream(data, most=most))
    assert [c.turns[0].text for c in chatjson.load(doc)] == [text, "]]]" * 900 + text]
    assert notices(doc) == []
    line = nested(20, text)
    lines = list(chatjson.load(Document.from_bytes("s.jsonl", f"{line}\n{line}\n".encode())))
    assert [c.turns[0].text for c in lines] == [text] * 2
    [document] = chatjson.load(Document.from_bytes("s.json", line.encode()))
    assert document.turns[0].text == text


# --- files whose records are single messages -------------------------------------------


def test_jsonl_of_single_messages_is_one_conversation_with_its_header_as_metadata():
    [conversation], doc = load_fixture("turns_log.jsonl")
    lines = [json.loads(line) for line in
             (FIXTURES / "turns_log.jsonl").read_text(encoding="utf-8").splitlines()]
    sonnet, start = "claude-3-5-sonnet-20241022", "2024-11-02T09:15:00"
    assert (conversation.id, conversation.scenario, conversation.timestamp) == (
        "chatjson/turns_log.jsonl", "mirror", start)
    assert [(t.speaker, t.model, t.role, t.text, t.timestamp, t.line)
            for t in conversation.turns] == [
        ("Claude_A", sonnet, SPOKEN, lines[1]["message"], "2024-11-02T09:15:04", 2),
        ("Claude_B", sonnet, SPOKEN, lines[2]["message"], start, 3),
        ("Claude_A", sonnet, SYSTEM, lines[4]["error"], start, 5),
        ("Claude_B", sonnet, SPOKEN, lines[5]["message"], "2024-11-02T09:16:40", 6),
    ]
    assert all(t.verbatim for t in conversation.turns)
    assert notices(doc) == [("not a message, skipped", 4)]


def test_array_of_messages_is_one_conversation():
    data = json.dumps([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"},
                       {"role": "user", "content": "bye"}]).encode()
    doc = stream_document("bare.json", data, TrickleStream(data, most=9))
    [conversation] = chatjson.load(doc)
    assert conversation.id == "bare.json"
    assert [(t.index, t.speaker, t.text) for t in conversation.turns] == [
        (1, "user", "hi"), (2, "assistant", "yo"), (3, "user", "bye")]


@pytest.mark.parametrize("records", [
    [{"name": "PATH", "value": "/usr/bin"}, {"name": "HOME", "value": "/root"}],  # config
    [{"log_file": "a.txt", "round": 1}, {"log_file": "b.txt", "round": 2}],     # run metadata
    [{"path": "img/1.png", "prompt": "a lantern"}],                              # image state
])
def test_records_that_are_not_messages_stay_not_a_transcript(records):
    for data in (json.dumps(records), "\n".join(map(json.dumps, records))):
        assert skip_reason(Document.from_bytes("r.json", data.encode())).reason == (
            "not a transcript")


def test_a_message_stream_cut_short_keeps_the_messages_before_the_break():
    data = b'[{"speaker": "a", "text": "one"}, {"speaker": "b", "text": "tw'
    doc = Document.from_bytes("cut.json", data)
    [conversation] = chatjson.load(doc)
    assert [t.text for t in conversation.turns] == ["one"]
    [(message, _)] = notices(doc)
    assert message.endswith("; the rest of the file was not read")
