"""Fork logs: `### NAME N ###` turns, round markers, `Name N:` logs, file-name metadata."""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from backrooms_scan import formats
from backrooms_scan.cli import main
from backrooms_scan.decode import Document
from backrooms_scan.formats import forklog
from backrooms_scan.records import Role, SkipFile


def fork_log_score(name: str, head: str) -> float:
    """How sure the fork-log format is of a head: the best of its layouts' sniffers."""
    return max(fmt.sniff(name, head) for fmt in forklog.FORMATS)


FIXTURES = Path(__file__).parent / "fixtures" / "forklog"
SPOKEN = Role.SPOKEN
SYSTEM = Role.SYSTEM


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
    assert fork_log_score(doc.name, doc.head_text()) == 0.9


def test_a_log_of_only_a_round_marker_is_still_sniffed_as_a_fork_log():
    assert fork_log_score("x.txt", "\n### Round 1/inf\n") == 0.9


def test_recurring_name_number_colon_lines_are_sniffed_with_medium_confidence():
    doc = fixture_doc("old_colon_log.txt")
    assert fork_log_score(doc.name, doc.head_text()) == 0.6


def test_a_single_name_number_colon_line_is_not_enough():
    assert fork_log_score("notes.txt", "Claude 1: hello\nand nothing else\n") == 0.0


@pytest.mark.parametrize(
    ("head", "score"),
    [
        ("\n\n### Claude 1 ###\nhi\n", 0.9),
        ("\n  \n### Backrooms Run ###\nModels: a, b\n\n### Claude 1 ###\nhi\n", 0.95),
        ("  ### Claude 1 ###\nhi\n", 0.9),
        ("\ufeff\t### Backrooms Run ###\nModels: a, b\n", 0.95),
        ("\n  ## Claude 1 ###\nhi\n", 0.0),
    ],
    ids=["blank-lines", "blank-lines-banner", "indented-first-line", "bom-tab-banner", "no-mark"],
)
def test_blanks_before_the_first_text_are_passed_over(head, score):
    assert fork_log_score("x.txt", head) == score


@pytest.mark.parametrize("head", ["\n\nClaude 1: hello\n", "  Claude 1: hello\n"])
def test_a_single_colon_header_opening_a_fork_log_name_counts_after_blanks(head):
    assert fork_log_score("opus_haiku_cli_20241206_163728.txt", head) == 0.5


def test_the_layout_read_to_sniff_a_log_is_the_one_loading_reads(monkeypatch):
    text = "\n### Claude 1 ###\nhello\n\n### Claude 2 ###\nhi\n"
    doc = Document.from_bytes("logs/a_b_cli_20241206_163728.txt", text.encode("utf-8"))
    assert formats.detect(doc).name == forklog.NAME
    classified = []
    monkeypatch.setattr(forklog, "_classify_hash_line",
                        lambda *line: classified.append(line))
    assert [t.speaker for t in only_conversation(doc).turns] == ["Claude 1", "Claude 2"]
    assert classified == []


@pytest.mark.parametrize(
    ("head", "detected"),
    [
        ('{"models": ["gpt5", "hermes"], "log_file": "BackroomsLogs/a.txt"}\n', "json"),
        ('[{"role": "user", "content": "### Claude 1 ###"}]', "json"),
        ("<!DOCTYPE html><html><body><h3>### Claude 1 ###</h3></body></html>", None),
        ("actors: claude-explorer, claude-simulator\nmodels: a, b\n\n### Claude 1 ###\n",
         "backrooms"),
        ("<claude-explorer-claude-3-opus-20240229#SYSTEM>\nAssistant is in a CLI mood\n",
         "backrooms"),
        ("just some prose\nwith no turn headers at all\n", None),
    ],
    ids=["json-metadata", "json-list", "html", "format-a-header", "format-a-system", "prose"],
)
def test_other_layouts_holding_fork_log_headers_are_not_detected_as_fork_logs(head, detected):
    fmt = formats.detect(Document.from_bytes("dump/whatever.txt", head.encode("utf-8")))
    assert (fmt.name if fmt else None) == detected


def test_metadata_jsonl_beside_the_logs_is_not_sniffed_and_is_skipped_when_forced():
    doc = fixture_doc("dreamsim3_meta.jsonl")
    assert fork_log_score(doc.name, doc.head_text()) == 0.0
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
        ("Hermes 2", SPOKEN, "hermes", 18, 1, "^C^C"),
        ("Hermes 2", SYSTEM, "hermes", 20, 1, "Hermes 2 has ended the conversation with ^C^C."),
    ]


def test_ctrl_c_narration_is_the_runners_system_turn_in_the_speakers_box():
    conversation = only_conversation(fixture_doc("gpt5_hermes_dreamsim3_20250915_070102.txt"))
    spoken = [t for t in conversation.turns if t.role == SPOKEN]
    assert {t.speaker for t in spoken} == {"GPT-5 1", "Hermes 2"}
    assert not any("has ended the conversation" in t.text for t in spoken)
    assert [(t.speaker, t.role) for t in conversation.turns[-1:]] == [("Hermes 2", SYSTEM)]


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
        # A name lists the models of the run; the split is sure once every speaker has
        # spoken, or for the common pair (a run may stop after its first turn).
        "model_of": (dict(zip(speakers, aliases))
                     if len(turns) >= len(speakers) or len(speakers) == 2 else {}),
        "style": style,
    }


def expected_sniff(log: dict) -> float:
    if log["style"] == "hash" or "### Round" in log["content"]:
        return 0.9
    if len(log["turns"]) == 1:
        return 0.5  # one `Name N:` line, believed because the file name is a fork log's
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
    assert fork_log_score(doc.name, doc.head_text()) == expected_sniff(log)


# --- runner banner, rounds and tool sections -------------------------------------------

RUNNER_LOG = "k2_k2_dreamsim3_20250908_153546.txt"
ROUND_FIRST_LOG = "k2_k2_dreamsim3_20250910_101500.txt"
DIMENSION_LOG = "gpt4o_gpt4o_worldsim_20240612_081500.txt"
HAIKU_OPUS_LOG = "claude-3-5-haiku-20241022_claude-3-opus-20240229/opus_haiku_cli_20241206_163728.md"
I405_GEMINI_LOG = "gemini-1.5-pro-002_llama-3.1-405b-instruct/i405_gemini_dreamsim_20241208_090000.md"


def detected_conversation(name: str, shown: str | None = None):
    doc = Document.from_bytes(shown or f"logs/{name}", (FIXTURES / name).read_bytes())
    fmt = formats.detect(doc)
    assert fmt is not None and fmt.name == "forklog"
    (conversation,) = fmt.load(doc)
    return conversation, doc


def test_runner_banner_gives_models_scenario_and_start_and_tool_sections_are_system_turns():
    conversation, doc = detected_conversation(RUNNER_LOG)
    assert turn_rows(conversation) == [
        ("Kimi K2 1", SPOKEN, "kimi-k2", 9, 1,
         "> dreamsim.exe parameters accepted\n> dreaming: a kettle that breathes static"),
        ("Media Agent", SYSTEM, None, 13, 1,
         "Prompt: a kettle that breathes static, consciousness rendered as steam"),
        ("Discord Agent", SYSTEM, None, 16, 1, "Posted 1 image to #dreams"),
        ("Kimi K2 2", SPOKEN, "kimi-k2-0905", 19, 1,
         "the kettle exhales. consciousness pools on the stove."),
        ("Kimi K2 1", SPOKEN, "kimi-k2", 24, 1, "### Step 1 ###\ngate gate paragate"),
        ("SQL (semantic)", SYSTEM, None, 28, 1,
         "SELECT dream FROM kettles WHERE consciousness > 0.5;"),
        ("Discord Post", SYSTEM, None, 31, 1, "a kettle dreams of consciousness"),
        ("Kimi K2 2", SPOKEN, "kimi-k2-0905", 34, 1, "^C^C"),
        ("Kimi K2 2", SYSTEM, "kimi-k2-0905", 36, 1,
         "Kimi K2 2 has ended the conversation with ^C^C."),
    ]
    assert (conversation.scenario, conversation.timestamp) == ("dreamsim3", "2025-09-08T15:35:46Z")
    assert {(t.scenario, t.timestamp) for t in conversation.turns} == {
        ("dreamsim3", "2025-09-08T15:35:46Z")}
    assert doc.notices.items == []


def test_a_log_opening_with_a_round_marker_is_a_fork_log():
    conversation, doc = detected_conversation(ROUND_FIRST_LOG)
    assert [(t.speaker, t.role, t.model, t.line) for t in conversation.turns] == [
        ("Kimi K2 1", SPOKEN, "k2", 4),
        ("Kimi K2 2", SPOKEN, "k2", 7),
        ("Kimi K2 1", SPOKEN, "k2", 12),
        ("Kimi K2 2", SPOKEN, "k2", 15),
        ("Kimi K2 1", SPOKEN, "k2", 21),
        ("Kimi K2 1", SYSTEM, "k2", 23),
    ]
    assert conversation.turns[4].text == "> read vow"
    assert doc.notices.items == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("opus4_opus4_dreamsim3_20250917_120000.txt",
         [("Opus 1", SPOKEN, "opus4", 3, 1, "the first and only turn: a door made of consciousness")]),
        ("gpt4o_gpt4o_worldsim_20240613_090000.txt",
         [("GPT4o 1", SPOKEN, "gpt4o", 2, 1, "the terminal blinks once, then nothing")]),
    ],
    ids=["hash", "colon"],
)
def test_a_run_that_stopped_after_one_turn_is_read(name, expected):
    conversation, doc = detected_conversation(name)
    assert turn_rows(conversation) == expected
    assert doc.notices.items == []


@pytest.mark.parametrize("name", ["k2_k2_dreamsim3_20250911_000000.txt",
                                  "gpt5_k2_dreamsim3_20250916_000000.txt"])
def test_a_log_without_turns_is_one_empty_conversation_with_a_notice(name):
    conversation, doc = detected_conversation(name)
    assert conversation.turns == ()
    assert [n.message for n in doc.notices.items] == [
        "the log has no turns: the run stopped before its first turn"]


def test_text_after_a_round_marker_is_left_out_with_one_notice():
    doc = Document.from_bytes("log.txt", b"### Round 1/3\nstray\n\n### Claude 1 ###\nhi\n"
                                         b"### Round 2/3\nmore stray\n### Claude 2 ###\nho\n")
    assert [(t.speaker, t.text) for t in only_conversation(doc).turns] == [
        ("Claude 1", "hi"), ("Claude 2", "ho")]
    assert [(n.message, n.line) for n in doc.notices.items] == [
        ("text after a round marker is not part of any turn", 2)]


def test_ended_lines_of_someone_who_is_not_a_speaker_stay_turn_text():
    doc = Document.from_bytes("log.txt", b"### Claude 1 ###\nThe user has ended the conversation.\n"
                                         b"### Claude 2 ###\nok\n")
    assert [(t.speaker, t.role, t.text) for t in only_conversation(doc).turns] == [
        ("Claude 1", SPOKEN, "The user has ended the conversation."), ("Claude 2", SPOKEN, "ok")]


def test_other_closed_hash_lines_are_turn_text():
    doc = Document.from_bytes("log.txt", b"### Claude 1 ###\n### THE END ###\n### Claude 2 ###\nok\n")
    assert [(t.speaker, t.role, t.text) for t in only_conversation(doc).turns] == [
        ("Claude 1", SPOKEN, "### THE END ###"), ("Claude 2", SPOKEN, "ok")]


# --- `NAME N:` lines that are text -------------------------------------------------------


def test_a_numbered_line_inside_a_turn_of_a_colon_log_is_text():
    conversation, _ = detected_conversation(DIMENSION_LOG)
    assert [(t.speaker, t.model, t.line) for t in conversation.turns] == [
        ("GPT4o 1", "gpt4o", 2), ("GPT4o 2", "gpt4o", 5), ("GPT4o 1", "gpt4o", 8),
        ("GPT4o 2", "gpt4o", 14), ("GPT4o 1", "gpt4o", 17), ("GPT4o 2", "gpt4o", 20),
        ("GPT4o 1", "gpt4o", 23),
    ]
    assert conversation.turns[2].text == (
        "Available dimensions:\nDimension 1: Recursive Garden\nDimension 2: Mirror Sea\n"
        "Dimension 3: Linear Illusion")


def test_a_label_met_once_is_text_when_another_speaker_then_heads_two_turns():
    doc = Document.from_bytes("log.txt", b"Ann 1: a\nBob 2: b\nStep 3: c\nAnn 1: d\nBob 2: e\n"
                                         b"Ann 1: f\n")
    assert [(t.speaker, t.text) for t in only_conversation(doc).turns] == [
        ("Ann 1", "a"), ("Bob 2", "b\nStep 3: c"), ("Ann 1", "d"), ("Bob 2", "e"), ("Ann 1", "f")]


def test_a_speaker_met_once_stays_when_the_other_heads_the_last_two_turns():
    doc = Document.from_bytes("log.txt", b"### Ann 1 ###\na\n### Bob 2 ###\nb\n### Ann 1 ###\nc\n"
                                         b"### Ann 1 ###\n^C^C\n")
    assert [t.speaker for t in only_conversation(doc).turns] == ["Ann 1", "Bob 2", "Ann 1", "Ann 1"]


def test_in_a_log_of_bare_labels_a_label_with_text_after_its_colon_is_text():
    doc = Document.from_bytes("log.txt", b"Ann 1:\na\nAnn 2:\nb\nAnn 1:\nc\nAnn 2:\nExit 3: stairs\n"
                                         b"Ann 1:\nd\n")
    assert [(t.speaker, t.text) for t in only_conversation(doc).turns] == [
        ("Ann 1", "a"), ("Ann 2", "b"), ("Ann 1", "c"), ("Ann 2", "Exit 3: stairs"), ("Ann 1", "d")]


def test_a_third_speaker_of_a_single_round_is_still_a_speaker():
    doc = Document.from_bytes("log.txt", b"Ann 1: a\nBob 2: b\nCid 3: c\nAnn 1: d\n")
    assert [t.speaker for t in only_conversation(doc).turns] == ["Ann 1", "Bob 2", "Cid 3", "Ann 1"]


# --- models from folder and file names ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown", "expected"),
    [
        (HAIKU_OPUS_LOG, f"content/backrooms/{HAIKU_OPUS_LOG}",
         [("Claude 1", "claude-3-opus-20240229"), ("Claude 2", "claude-3-5-haiku-20241022")] * 2),
        (HAIKU_OPUS_LOG, f"dump.zip!backrooms/{HAIKU_OPUS_LOG}",
         [("Claude 1", "claude-3-opus-20240229"), ("Claude 2", "claude-3-5-haiku-20241022")] * 2),
        (HAIKU_OPUS_LOG, "opus_haiku_cli_20241206_163728.md",
         [("Claude 1", "opus"), ("Claude 2", "haiku")] * 2),
        (I405_GEMINI_LOG, f"content/backrooms/{I405_GEMINI_LOG}",
         [("I-405 1", "llama-3.1-405b-instruct"), ("Gemini 2", "gemini-1.5-pro-002"),
          ("I-405 1", "llama-3.1-405b-instruct")]),
    ],
    ids=["folder", "archive-member", "no-folder", "one-short-name-by-elimination"],
)
def test_positional_labels_take_models_from_the_file_name_and_the_folder(name, shown, expected):
    conversation, _ = detected_conversation(name, shown)
    assert [(t.speaker, t.model) for t in conversation.turns] == expected
    assert {t.role for t in conversation.turns} == {SPOKEN}


def test_the_folder_name_gives_scenario_and_time_with_the_file_name():
    conversation, _ = detected_conversation(HAIKU_OPUS_LOG, f"content/backrooms/{HAIKU_OPUS_LOG}")
    assert (conversation.scenario, conversation.timestamp) == ("cli", "2024-12-06T16:37:28Z")


def test_a_folder_of_full_ids_splits_a_template_holding_an_underscore():
    doc = Document.from_bytes(
        "claude-3-5-haiku-20241022_claude-3-opus-20240229/opus_haiku_group_chat_20241206_163728.md",
        b"\n### Claude 1 ###\nhi\n")
    conversation = only_conversation(doc)
    assert conversation.scenario == "group_chat"
    assert [t.model for t in conversation.turns] == ["claude-3-opus-20240229"]


# --- counts against an independent reading -----------------------------------------------

SECTION_NAMES = ("Media Agent", "Discord Agent", "Discord Post", "SQL (semantic)")
TEXT_LABELS = ("### Step 1 ###", "Dimension ")
BRUTE_FORCE_MODELS = {
    RUNNER_LOG: {"1": "kimi-k2", "2": "kimi-k2-0905"},
    ROUND_FIRST_LOG: {"1": "k2", "2": "k2"},
    DIMENSION_LOG: {"1": "gpt4o", "2": "gpt4o"},
    HAIKU_OPUS_LOG: {"1": "claude-3-opus-20240229", "2": "claude-3-5-haiku-20241022"},
    I405_GEMINI_LOG: {"1": "llama-3.1-405b-instruct", "2": "gemini-1.5-pro-002"},
}


def brute_force_segments(text: str, models: dict[str, str]) -> list[tuple[str, str, str | None, str]]:
    """(speaker, role, model, text) of each turn, read line by line for these fixtures."""
    lines = text.split("\n")
    if lines[0] == "### Backrooms Run ###":
        lines = lines[lines.index(""):]
    segments: list[list] = []
    for line in lines:
        speaker = re.fullmatch(r"### (.+ (\d)) ###|(GPT4o (\d)):", line)
        if re.fullmatch(r"### Round \d+/(\d+|inf)", line):
            segments.append(None)
        elif line in {f"### {name} ###" for name in SECTION_NAMES}:
            segments.append([line[4:-4], "system", None, []])
        elif speaker and not line.startswith(TEXT_LABELS):
            number = speaker[2] or speaker[4]
            segments.append([speaker[1] or speaker[3], "spoken", models[number], []])
        elif "has ended the conversation" in line or line.startswith("Reached maximum"):
            box = segments[-1] if segments and segments[-1] is not None else ["runner", 0, None]
            segments.append([box[0], "system", box[2], [line]])
        elif segments and segments[-1] is not None:
            segments[-1][3].append(line)
    return [(s, r, m, "\n".join(body)) for s, r, m, body in filter(None, segments)]


@pytest.mark.parametrize("name", list(BRUTE_FORCE_MODELS))
def test_turns_and_hits_per_speaker_model_and_role_match_a_brute_force_reading(name, tmp_path):
    segments = brute_force_segments((FIXTURES / name).read_text(), BRUTE_FORCE_MODELS[name])
    conversation, _ = detected_conversation(name, str(FIXTURES / name))
    assert Counter((t.speaker, t.model, t.role.value) for t in conversation.turns) == Counter(
        (s, m, r) for s, r, m, _ in segments)
    assert [t.text.strip() for t in conversation.turns] == [body.strip() for *_, body in segments]

    patterns = tmp_path / "c.yaml"
    patterns.write_text("name: c\npatterns:\n  - consciousness\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", str(FIXTURES / name), "-p", str(patterns),
                                       "--role", "all", "-f", "jsonl"], catch_exceptions=False)
    events = [json.loads(line) for line in result.stdout.splitlines()]
    hits = Counter((e["data"]["speaker"], e["data"]["model"], e["data"]["role"])
                   for e in events if e["type"] == "match")
    expected = Counter()
    for speaker, role, model, body in segments:
        expected[(speaker, model, role)] += body.lower().count("consciousness")
    assert hits == +expected
    (end,) = [e["data"] for e in events if e["type"] == "end"]
    assert end["turns"] == dict(Counter(role for _, role, _, _ in segments))


# --- time linear in the length of hostile lines ------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "### Round 2" + " " * 100_000,
        "### Claude 1" + " " * 100_000 + "x",
        "### " + "a " * 50_000 + "###x",
        "### Round 2/" + " " * 100_000 + "x",
        "Claude" + "a" * 100_000 + " 1x",
        "Claude 1" + " " * 100_000 + "has ended the conversation",
    ],
    ids=["round-then-spaces", "header-then-spaces", "words", "round-slash", "long-name", "ended"],
)
def test_a_long_hostile_line_is_read_in_linear_time(line):
    data = f"### Claude 1 ###\nhi\n{line}\n### Claude 2 ###\nho\n".encode()
    doc = Document.from_bytes("opus_opus_cli_20240501_123000.txt", data)
    started = time.perf_counter()
    fork_log_score(doc.name, doc.head_text())
    turns = only_conversation(doc).turns
    assert time.perf_counter() - started < 1.0  # quadratic work on this line takes minutes
    assert [t.speaker for t in turns] == ["Claude 1", "Claude 2"]
