"""Fork logs: `### NAME N ###` turns, round markers, `Name N:` logs, file-name metadata."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from backrooms_scan.decode import Document
from backrooms_scan.formats import forklog
from backrooms_scan.model import Role, SkipFile

FIXTURES = Path(__file__).parent / "fixtures" / "forklog"
SPOKEN = Role.SPOKEN


def fixture_doc(name: str) -> Document:
    return Document.from_bytes(f"logs/{name}", (FIXTURES / name).read_bytes())


def only_conversation(doc: Document):
    (conversation,) = forklog.load(doc)
    return conversation


def turn_rows(conversation) -> list[tuple]:
    return [(t.speaker, t.role, t.model, t.line, t.column, t.text) for t in conversation.turns]


# --- sniffing ---------------------------------------------------------------------------


def test_hash_headers_are_sniffed_with_high_confidence():
    doc = fixture_doc("gpt5_hermes_dreamsim3_20250915_070102.txt")
    assert forklog.sniff(doc.name, doc.head_text()) == 0.9


def test_a_log_of_only_a_round_marker_is_still_sniffed_as_a_fork_log():
    assert forklog.sniff("x.txt", "\n### Round 1/inf\n") == 0.9


def test_recurring_name_number_colon_lines_are_sniffed_with_medium_confidence():
    doc = fixture_doc("old_colon_log.txt")
    assert forklog.sniff(doc.name, doc.head_text()) == 0.6


def test_a_single_name_number_colon_line_is_not_enough():
    assert forklog.sniff("notes.txt", "Claude 1: hello\nand nothing else\n") == 0.0


@pytest.mark.parametrize(
    "head",
    [
        '{"models": ["gpt5", "hermes"], "log_file": "BackroomsLogs/a.txt"}\n',
        '[{"role": "user", "content": "### Claude 1 ###"}]',
        "<!DOCTYPE html><html><body><h3>### Claude 1 ###</h3></body></html>",
        "actors: claude-explorer, claude-simulator\nmodels: a, b\n\n### Claude 1 ###\n",
        "<claude-explorer-claude-3-opus-20240229#SYSTEM>\nAssistant is in a CLI mood\n",
        "just some prose\nwith no turn headers at all\n",
    ],
    ids=["json-metadata", "json-list", "html", "format-a-header", "format-a-system", "prose"],
)
def test_other_formats_are_not_sniffed(head: str):
    assert forklog.sniff("whatever.txt", head) == 0.0


def test_metadata_jsonl_beside_the_logs_is_not_sniffed_and_is_skipped_when_forced():
    doc = fixture_doc("dreamsim3_meta.jsonl")
    assert forklog.sniff(doc.name, doc.head_text()) == 0.0
    with pytest.raises(SkipFile):
        list(forklog.load(doc))


# --- loading ----------------------------------------------------------------------------


def test_hash_header_turns_keep_model_names_and_skip_round_markers():
    conversation = only_conversation(fixture_doc("gpt5_hermes_dreamsim3_20250915_070102.txt"))
    assert turn_rows(conversation) == [
        (
            "GPT-5 1",
            SPOKEN,
            "gpt5",
            3,
            1,
            'simulator@openai:~/$ ./dreamsim.exe "a library of vows"',
        ),
        (
            "Hermes 2",
            SPOKEN,
            "hermes",
            8,
            1,
            (
                "The shelves are made of breath.\n"
                'Each vow is a book: "beings are numberless, I vow to free them".'
            ),
        ),
        ("GPT-5 1", SPOKEN, "gpt5", 14, 1, "### Step 1 ###\ngate gate paragate"),
        (
            "Hermes 2",
            SPOKEN,
            "hermes",
            18,
            1,
            "^C^C\n\nHermes 2 has ended the conversation with ^C^C.",
        ),
    ]


def test_ctrl_c_narration_stays_in_the_last_turn_without_a_narrator_speaker():
    conversation = only_conversation(fixture_doc("gpt5_hermes_dreamsim3_20250915_070102.txt"))
    assert {t.speaker for t in conversation.turns} == {"GPT-5 1", "Hermes 2"}
    assert conversation.turns[-1].text.endswith("has ended the conversation with ^C^C.")


def test_turns_carry_conversation_id_indexes_and_verbatim_positions():
    doc = fixture_doc("gpt5_hermes_dreamsim3_20250915_070102.txt")
    conversation = only_conversation(doc)
    lines = doc.read_text().split("\n")
    assert conversation.id == doc.path and conversation.format == "forklog"
    for index, turn in enumerate(conversation.turns, 1):
        assert (turn.conversation, turn.source, turn.index) == (doc.path, doc.path, index)
        assert turn.verbatim
        assert lines[turn.line - 1][turn.column - 1 :].startswith(turn.text.split("\n")[0])


def test_file_name_gives_timestamp_scenario_and_models():
    conversation = only_conversation(fixture_doc("gpt5_hermes_dreamsim3_20250915_070102.txt"))
    assert conversation.timestamp == "2025-09-15T07:01:02Z"
    assert conversation.scenario == "dreamsim3"
    assert {(t.timestamp, t.scenario) for t in conversation.turns} == {
        ("2025-09-15T07:01:02Z", "dreamsim3")
    }


def test_round_marker_only_log_is_one_conversation_with_zero_turns():
    (conversation,) = forklog.load(fixture_doc("gpt5_k2_dreamsim3_20250916_000000.txt"))
    assert conversation.turns == ()
    assert (conversation.scenario, conversation.timestamp) == ("dreamsim3", "2025-09-16T00:00:00Z")


def test_colon_variant_text_starts_after_the_colon_and_contradicting_labels_are_text():
    conversation = only_conversation(fixture_doc("old_colon_log.txt"))
    assert turn_rows(conversation) == [
        ("Claude 1", SPOKEN, None, 1, 11, "ls -la"),
        (
            "Claude 2",
            SPOKEN,
            None,
            2,
            11,
            "total 2\n-rw-r--r-- 1 root root 1337 vow.txt\nStep 1: read the vow",
        ),
        ("Claude 1", SPOKEN, None, 5, 11, "cat vow.txt"),
        ("Claude 2", SPOKEN, None, 7, 1, "beings are numberless, I vow to free them"),
    ]


def test_a_log_without_metadata_in_its_name_has_no_timestamp_scenario_or_models():
    conversation = only_conversation(fixture_doc("old_colon_log.txt"))
    assert (conversation.timestamp, conversation.scenario) == (None, None)
    assert {t.model for t in conversation.turns} == {None}


def test_crlf_logs_give_the_same_turns_as_lf_logs():
    data = (FIXTURES / "gpt5_hermes_dreamsim3_20250915_070102.txt").read_bytes()
    crlf = Document.from_bytes("log.txt", data.replace(b"\n", b"\r\n"))
    lf = Document.from_bytes("log.txt", data)
    assert turn_rows(only_conversation(crlf)) == turn_rows(only_conversation(lf))


def test_cli_actor_and_a_header_right_after_a_header_give_an_empty_turn():
    doc = Document.from_bytes(
        "opus_cli_worldsim_20240601_090000.txt",
        b"\n### Opus 1 ###\n\n### CLI ###\n$ ls\n",
    )
    conversation = only_conversation(doc)
    assert turn_rows(conversation) == [
        ("Opus 1", SPOKEN, "opus", 3, 1, ""),
        ("CLI", SPOKEN, None, 5, 1, "$ ls"),
    ]
    assert conversation.scenario == "worldsim"


def test_text_before_the_first_header_is_reported_not_counted():
    doc = Document.from_bytes("log.txt", b"stray banner\n\n### Claude 1 ###\nhello\n")
    conversation = only_conversation(doc)
    assert turn_rows(conversation) == [("Claude 1", SPOKEN, None, 4, 1, "hello")]
    assert [(n.message, n.line) for n in doc.notices.items] == [
        ("text before the first turn header is not part of any turn", 1)
    ]


def test_prose_without_headers_is_skipped():
    with pytest.raises(SkipFile):
        list(forklog.load(Document.from_bytes("notes.txt", b"just prose\nno turns\n")))


# --- file-name metadata ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slots", "expected"),
    [
        ("opus_gpt4o_cli_20240501_123000.txt", 2, (("opus", "gpt4o"), "cli")),
        ("opus_gpt4o_cli_20240501_123000.txt", None, (("opus", "gpt4o"), "cli")),
        (
            "opus_sonnet_k2_dreamsim3_20240501_123000.txt",
            3,
            (("opus", "sonnet", "k2"), "dreamsim3"),
        ),
        ("opus_sonnet_k2_dreamsim3_20240501_123000.txt", 2, (None, None)),
        ("opus_sonnet_group_chat_20240501_123000.txt", 2, (None, None)),
        ("opus_dreamsim3_20240501_123000.txt", 2, (None, None)),
        ("conversation_1712345678_scenario_vanilla.txt", 2, (None, None)),
    ],
    ids=[
        "two-models",
        "two-models-assumed",
        "three-models",
        "silent-third-model-or-template-with-underscore",
        "template-with-underscore",
        "too-few-parts",
        "format-a-name",
    ],
)
def test_models_and_template_are_read_from_the_name_only_when_clear(name, slots, expected):
    assert forklog.models_and_template_from_name(name, slots) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("opus_opus_cli_20240501_123000.txt", "2024-05-01T12:30:00Z"),
        ("opus_opus_cli_20241345_123000.txt", None),
        ("opus_opus_cli.txt", None),
    ],
)
def test_timestamp_comes_from_the_name_as_iso_8601(name, expected):
    assert forklog.timestamp_from_name(name) == expected


# --- generated corpus -------------------------------------------------------------------

MODEL_ALIASES = {"Claude": "opus", "GPT-5": "gpt5", "Opus": "opus4", "Hermes": "hermes", "K2": "k2"}
TEXT_LINES = [
    "gate gate paragate parasamgate bodhi svaha",
    "$ cat bodhisattva_vow.txt",
    "### Notes",
    "<OOC>still here?</OOC>",
    "Note: the hallway loops",
    "    indented ascii art |_|",
    "beings are numberless, I vow to free them",
    "",
]


def generated_log(rng: random.Random) -> dict:
    """A random fork log with the turns, speakers and markers it was written from."""
    names = [rng.choice(list(MODEL_ALIASES)) for _ in range(rng.randint(2, 4))]
    speakers = [f"{name} {i}" for i, name in enumerate(names, 1)]
    style = rng.choice(["hash", "colon"])
    turns = []
    for turn_number in range(rng.randint(0, 12)):
        speaker = speakers[turn_number % len(speakers)]
        body = "\n".join(rng.choice(TEXT_LINES) for _ in range(rng.randint(1, 4))).strip()
        turns.append((speaker, body or "..."))
    parts = []
    for number, (speaker, body) in enumerate(turns):
        if rng.random() < 0.3:
            parts.append(f"\n### Round {number + 1}/{rng.choice(['30', 'inf'])}\n")
        if style == "hash":
            parts.append(f"\n### {speaker} ###\n{body}\n")
        else:
            parts.append(f"{speaker}: {body}\n")
    if not turns:
        parts.append("\n### Round 1/inf\n")
    aliases = [MODEL_ALIASES[name] for name in names]
    return {
        "file_name": f"{'_'.join(aliases)}_dreamsim3_2025{rng.randint(1, 12):02d}15_070102.txt",
        "content": "".join(parts),
        "turns": turns,
        "model_of": dict(zip(speakers, aliases)) if len(turns) >= len(speakers) else {},
        "style": style,
    }


def expected_sniff(log: dict) -> float:
    if log["style"] == "hash" or "### Round" in log["content"]:
        return 0.9
    return 0.6 if len(log["turns"]) >= 2 else 0.0


@pytest.mark.parametrize("seed", range(30))
def test_generated_logs_give_back_every_turn(seed: int):
    log = generated_log(random.Random(seed))
    doc = Document.from_bytes(f"gen/{log['file_name']}", log["content"].encode())
    (conversation,) = forklog.load(doc)
    expected_roles = Counter({SPOKEN: len(log["turns"])}) if log["turns"] else Counter()
    assert Counter(t.role for t in conversation.turns) == expected_roles
    assert [(t.speaker, t.text) for t in conversation.turns] == log["turns"]
    assert [t.model for t in conversation.turns] == [
        log["model_of"].get(speaker) for speaker, _ in log["turns"]
    ]
    assert forklog.sniff(doc.name, doc.head_text()) == expected_sniff(log)
