"""One turn per line: `[HH:MM:SS] Name$ text` and `Name: text`, continuation lines, ANSI."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from backrooms_scan import formats
from backrooms_scan.decode import Document
from backrooms_scan.formats import chatlines, forklog
from backrooms_scan.records import Role, SkipFile

FIXTURES = Path(__file__).parent / "fixtures" / "chatlines"
SPOKEN, SYSTEM = Role.SPOKEN, Role.SYSTEM


def fixture_doc(name: str) -> Document:
    return Document.from_bytes(f"logs/{name}", (FIXTURES / name).read_bytes())


def only_conversation(doc: Document):
    (conversation,) = chatlines.load(doc)
    return conversation


def turn_rows(conversation) -> list[tuple]:
    return [
        (t.speaker, t.role, t.model, t.line, t.column, t.text, t.timestamp)
        for t in conversation.turns
    ]


# --- sniffing ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["terminal_20240501.log", "chat.txt", "ansi_session.txt"])
def test_chat_logs_are_sniffed_with_low_confidence(name: str):
    doc = fixture_doc(name)
    assert chatlines.sniff(doc.name, doc.head_text()) == 0.4


def test_sniff_sees_through_ansi_colour_in_the_raw_head():
    raw_head = (FIXTURES / "ansi_session.txt").read_bytes().decode("utf-8")
    assert "\x1b[36m" in raw_head
    assert chatlines.sniff("ansi_session.txt", raw_head) == 0.4


@pytest.mark.parametrize(
    "name", ["prose_with_notes.txt", "config.yaml"], ids=["prose-with-notes", "yaml-config"]
)
def test_files_that_only_look_like_chat_here_and_there_are_not_sniffed(name: str):
    doc = fixture_doc(name)
    assert chatlines.sniff(doc.name, doc.head_text()) == 0.0


@pytest.mark.parametrize(
    "head",
    [
        (
            "actors: claude-explorer, claude-simulator\nmodels: opus, opus\ntemp: 1, 1\n"
            "<claude-explorer>\nls\n"
        ),
        '{"messages": [{"role": "user", "content": "hi"}]}\n{"messages": []}\n{"a": 1}\n',
        "<html>\n<body>\n<p>Alice: hi</p>\n</body>\n</html>\n",
        "Alice: hi\nBob: hello\n",
        "Alice: hi\nAlice: again\nAlice: still me\n",
    ],
    ids=["format-a", "jsonl", "html", "two-lines", "one-speaker"],
)
def test_other_formats_and_thin_evidence_are_not_sniffed(head: str):
    assert chatlines.sniff("x.txt", head) == 0.0


@pytest.mark.parametrize(
    "head",
    [
        "\n### Claude 1 ###\nExplorer: hi\nSimulator: hello\nExplorer: ok\n",
        "\n### Round 1/inf\nAlice: a\nBob: b\nAlice: c\n",
    ],
    ids=["fork-log", "round-marker"],
)
def test_fork_logs_holding_chat_lines_are_read_as_fork_logs(head: str):
    assert formats.detect(Document.from_bytes("x.txt", head.encode())).name == "forklog"


def test_key_value_records_are_not_sniffed():
    head = (
        "Format: https://example.org/copyright-format/1.0/\n\n"
        "Files: *\nCopyright: 2020 Ana\nLicense: MIT\n\n"
        "Files: doc/*\nCopyright: 2021 Ben\n 2022 Cleo\nLicense: MIT\n"
    )
    assert chatlines.sniff("copyright", head) == 0.0


def test_a_header_of_one_off_fields_is_not_sniffed():
    head = ("Name: gate\nVersion: 1\nSummary: s\nAuthor: a\nLicense: MIT\n"
            "Classifier: A\nRequires-Dist: x\nClassifier: B\nRequires-Dist: y\n\nbody\n")
    assert chatlines.sniff("METADATA", head) == 0.0


def test_many_speakers_each_speaking_once_in_the_first_paragraph_still_make_a_chat():
    head = "".join(f"AI-{n}: hello {n}\n" for n in range(1, 7)) * 2
    assert chatlines.sniff("x.txt", head) == 0.4


def test_one_line_turns_in_rounds_separated_by_blank_lines_are_sniffed():
    head = "Alice: hi\nBob: hello\n\nAlice: how are you\nBob: fine\n\nAlice: good\n"
    assert chatlines.sniff("x.txt", head) == 0.4


def test_old_fork_logs_are_sniffed_higher_by_the_fork_log_format():
    head = "Claude 1: ls\nClaude 2: total 2\nClaude 1: cat vow.txt\n"
    assert max(f.sniff("x.txt", head) for f in forklog.FORMATS) > chatlines.sniff("x.txt", head) > 0


# --- loading ----------------------------------------------------------------------------


def test_stamped_lines_start_turns_and_unstamped_lines_continue_them():
    conversation = only_conversation(fixture_doc("terminal_20240501.log"))
    assert turn_rows(conversation) == [
        ("Explorer", SPOKEN, None, 1, 22, "ls -la", "2024-05-01T21:04:55"),
        (
            "Simulator",
            SPOKEN,
            None,
            2,
            23,
            "total 2\ndrwxr-xr-x  2 root root 4096 .\nNote: the vow file is here",
            "2024-05-01T21:04:57",
        ),
        ("Explorer", SPOKEN, None, 5, 22, "cat bodhisattva_vow.txt", "2024-05-01T21:05:03"),
        (
            "Simulator",
            SPOKEN,
            None,
            6,
            23,
            "beings are numberless, I vow to free them",
            "2024-05-01T21:05:09",
        ),
    ]
    assert conversation.timestamp == "2024-05-01T21:04:55"


def test_name_colon_turns_span_continuation_lines_and_one_off_labels():
    conversation = only_conversation(fixture_doc("chat.txt"))
    assert turn_rows(conversation) == [
        ("System", SYSTEM, None, 1, 9, "You are in a chat room with Bob.", None),
        ("Alice", SPOKEN, None, 2, 8, "hello there", None),
        ("Bob", SPOKEN, None, 3, 6, "hi Alice\nhow are you\n  indented continuation", None),
        ("Alice", SPOKEN, None, 6, 8, "fine\n\nNote: this line is part of what Alice said", None),
        ("Bob", SPOKEN, None, 9, 6, "gate gate paragate", None),
    ]


def test_turns_are_verbatim_slices_with_ids_and_indexes():
    doc = fixture_doc("chat.txt")
    conversation = only_conversation(doc)
    text = doc.read_text()
    lines = text.split("\n")
    assert (conversation.id, conversation.format) == (doc.path, "chatlines")
    for index, turn in enumerate(conversation.turns, 1):
        assert (turn.conversation, turn.source, turn.index, turn.verbatim) == (
            doc.path,
            doc.path,
            index,
            True,
        )
        assert turn.text in text
        assert lines[turn.line - 1][turn.column - 1 :].startswith(turn.text.split("\n")[0])


def test_runner_error_lines_are_system_turns_between_the_spoken_ones():
    conversation = only_conversation(fixture_doc("runner_errors.txt"))
    lines = (FIXTURES / "runner_errors.txt").read_text().split("\n")
    assert turn_rows(conversation) == [
        ("Explorer", SPOKEN, None, 1, 11, "shall we begin the chant?", None),
        ("Oracle", SPOKEN, None, 2, 9, "gate gate paragate", None),
        ("Error", SYSTEM, None, 3, 8, "model not found: oracle-v2", None),
        ("Explorer", SPOKEN, None, 4, 11, "are you still there?", None),
        ("Error", SYSTEM, None, 5, 8, "model not found: oracle-v2", None),
        ("Oracle", SPOKEN, None, 6, 9,
         "parasamgate, I am here.\nthe line continues with gate gate paragate", None),
        ("Explorer", SPOKEN, None, 8, 11, "then say it once more", None),
        ("Oracle", SPOKEN, None, 9, 9, "gate gate paragate parasamgate bodhi svaha", None),
        ("Error", SYSTEM, None, 10, 8,
         "rate limit exceeded (retry in 20s); last prompt was gate gate paragate", None),
    ]
    error_lines = [line for line in lines if line.startswith("Error: ")]
    assert Counter(t.role for t in conversation.turns)[SYSTEM] == len(error_lines) == 3


def test_a_single_runner_error_is_not_read_as_text_of_the_turn_before():
    doc = Document.from_bytes("log.txt", b"A: one\nB: two\nError: timeout\nA: three\nB: four\n")
    assert [(t.speaker, t.role, t.text) for t in only_conversation(doc).turns] == [
        ("A", SPOKEN, "one"), ("B", SPOKEN, "two"), ("Error", SYSTEM, "timeout"),
        ("A", SPOKEN, "three"), ("B", SPOKEN, "four"),
    ]


def test_runner_errors_are_not_evidence_of_a_conversation():
    assert chatlines.sniff("x.txt", "A: one\nError: x\nA: two\nError: y\nA: three\n") == 0.0


def test_ansi_coloured_transcript_is_read_without_the_escape_codes():
    conversation = only_conversation(fixture_doc("ansi_session.txt"))
    assert turn_rows(conversation) == [
        ("Alice", SPOKEN, None, 1, 8, "did you read the vow?", None),
        ("Bob", SPOKEN, None, 2, 6, "beings are numberless\nand so on", None),
        ("Alice", SPOKEN, None, 4, 8, "I vow to free them", None),
        ("Bob", SPOKEN, None, 5, 6, "gone beyond", None),
    ]


def test_terminal_escapes_are_removed_colour_and_cursor_sequences_only():
    from backrooms_scan.decode import strip_terminal_escapes

    assert strip_terminal_escapes("\x1b[1;36mAlice:\x1b[0m hi\x1b[?25l [x]") == "Alice: hi [x]"


def test_time_of_day_without_a_known_date_gives_no_timestamp():
    doc = Document.from_bytes("session.log", b"[09:00:00] A$ one\n[09:00:05] B$ two\n")
    assert [t.timestamp for t in only_conversation(doc).turns] == [None, None]


def test_a_date_in_the_stamp_wins_and_times_past_midnight_move_to_the_next_day():
    doc = Document.from_bytes(
        "session-2024-12-31.log",
        b"[23:59:50] A$ one\n[00:00:05] B$ two\n[2025-03-01 9:15] A$ three\n[00:00:09] B$ four\n",
    )
    assert [t.timestamp for t in only_conversation(doc).turns] == [
        "2024-12-31T23:59:50",
        "2025-01-01T00:00:05",
        "2025-03-01T09:15:00",
        "2025-01-01T00:00:09",
    ]


def test_text_before_the_first_chat_line_is_reported_not_counted():
    doc = Document.from_bytes("log.txt", b"session start\nAlice: hi\nBob: yo\nAlice: ok\n")
    conversation = only_conversation(doc)
    assert [t.speaker for t in conversation.turns] == ["Alice", "Bob", "Alice"]
    assert [n.message for n in doc.notices.items] == [
        "text before the first chat line is not part of any turn"
    ]


def test_a_file_without_chat_lines_is_skipped():
    with pytest.raises(SkipFile):
        list(chatlines.load(Document.from_bytes("x.txt", b"no speakers\nhere at all\n")))


@pytest.mark.parametrize(
    ("name", "expected"),
    [("chat_20240501.txt", "2024-05-01"), ("2024-05-01 chat.txt", "2024-05-01"),
     ("chat_20241399.txt", None), ("conversation_1712345678.txt", None)],
)  # fmt: skip
def test_the_date_comes_from_the_file_name(name: str, expected: str | None):
    found = chatlines.date_from_name(name)
    assert (found.isoformat() if found else None) == expected


# --- generated corpus -------------------------------------------------------------------

SPEAKER_POOL = ["Alice", "Bob Smith", "claude-explorer", "GPT-5", "Opus 3", "the simulator"]
CONTINUATION_LINES = [
    "  gate gate paragate",
    "beings are numberless, I vow to free them",
    "- a list item",
    "$ ls -la",
    "http://example.org/vow",
    "",
]


def generated_chat(rng: random.Random) -> dict:
    """A random chat log and the turns it was written from."""
    speakers = rng.sample(SPEAKER_POOL, rng.randint(2, 4))
    stamped = rng.random() < 0.5
    sequence = ["System"] if rng.random() < 0.4 else []
    sequence += speakers * 2 + [rng.choice(speakers) for _ in range(rng.randint(0, 10))]
    lines, turns = [], []
    for number, speaker in enumerate(sequence):
        first = f"said {rng.randint(0, 999)} things: like this"
        extra = [rng.choice(CONTINUATION_LINES) for _ in range(rng.choice([0, 0, 0, 1, 3]))]
        body = "\n".join([first, *extra]).rstrip()
        stamp = f"[10:{number // 60:02d}:{number % 60:02d}] " if stamped else ""
        separator = "$" if stamped else ":"
        lines.append(f"{stamp}{speaker}{separator} {body}")
        turns.append((speaker, Role.SYSTEM if speaker == "System" else Role.SPOKEN, body))
    content = "\n".join(lines) + "\n"
    non_blank = sum(1 for line in content.splitlines() if line.strip())
    mostly_turn_lines = len(sequence) >= 0.6 * non_blank
    return {
        "content": content,
        "turns": turns,
        "stamped": stamped,
        "sniff": 0.4 * mostly_turn_lines,
    }


@pytest.mark.parametrize("seed", range(30))
def test_generated_chats_give_back_every_turn(seed: int):
    chat = generated_chat(random.Random(seed))
    doc = Document.from_bytes("gen/chat_20240501.txt", chat["content"].encode())
    (conversation,) = chatlines.load(doc)
    assert Counter(t.role for t in conversation.turns) == Counter(r for _, r, _ in chat["turns"])
    assert [(t.speaker, t.role, t.text) for t in conversation.turns] == chat["turns"]
    assert all((t.timestamp is not None) == chat["stamped"] for t in conversation.turns)
    assert chatlines.sniff(doc.name, doc.head_text()) == chat["sniff"]
