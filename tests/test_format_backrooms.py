"""Format A: Infinite Backrooms dump text files and the scraped site's text and HTML pages."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from backrooms_scan import formats
from backrooms_scan.decode import Document
from backrooms_scan.formats import Format
from backrooms_scan.formats.backrooms import (
    FORMATS,
    load_html,
    load_text,
    sniff_html,
    sniff_text,
)
from backrooms_scan.records import Conversation, Role, SkipFile

FIXTURES = Path(__file__).parent / "fixtures" / "backrooms"
STANDARD = "conversation_1712345678_scenario_vanilla backrooms.txt"
SCRAPED = "conversation_1714000000_scenario_culture-minds.txt"
OPUS = "claude-3-opus-20240229"
SONNET_3 = "claude-3-sonnet-20240229"
SONNET_35 = "claude-3-5-sonnet-20240620"
SYSTEM, CONTEXT, SPOKEN = Role.SYSTEM, Role.CONTEXT, Role.SPOKEN


def document(name: str, data: bytes | None = None, fix_text: bool = True) -> Document:
    if data is None:
        data = (FIXTURES / name).read_bytes()
    return Document.from_bytes(f"dump/{name}", data, fix_text=fix_text)


def load(doc: Document) -> Conversation:
    loader = load_html if doc.name.endswith(".html") else load_text
    conversations = list(loader(doc))
    assert len(conversations) == 1
    return conversations[0]


def outline(conversation: Conversation) -> list[tuple]:
    """(speaker, role, model, line, column, first line of text) of every turn."""
    return [
        (t.speaker, t.role, t.model, t.line, t.column, t.text.partition("\n")[0])
        for t in conversation.turns
    ]


def notices(doc: Document) -> list[tuple[str, int | None]]:
    return [(n.message, n.line) for n in doc.notices.items]


# ---------------------------------------------------------------- the standard dump file

EXPLORER_PROMPT = (
    "Assistant is in a CLI mood today. The human is interfacing with the simulator directly."
)
SIMULATOR_PROMPT = "Assistant is in a CLI mood today. The simulator answers as a shell."
STANDARD_OUTLINE = [
    ("claude-explorer", SYSTEM, OPUS, 6, 1, EXPLORER_PROMPT),
    ("claude-explorer", CONTEXT, OPUS, 10, 31, "<OOC>Hi Claude, I hope you're doing well!</OOC>"),
    ("claude-explorer", CONTEXT, OPUS, 10, 82, 'Hello! It is "wonderful" to hear from you.'),
    ("claude-simulator", SYSTEM, OPUS, 13, 1, SIMULATOR_PROMPT),
    ("claude-explorer", SPOKEN, OPUS, 19, 1, "cd .."),
    ("claude-simulator", SPOKEN, OPUS, 23, 1, "total 42"),
    ("claude-explorer", SPOKEN, OPUS, 28, 1, "cat bodhisattva_vow.txt"),
    ("claude-simulator", SPOKEN, OPUS, 31, 1, "Beings are numberless; I vow to free them."),
]


def test_standard_file_yields_system_context_and_spoken_turns_in_file_order():
    doc = document(STANDARD)
    conversation = load(doc)
    assert outline(conversation) == STANDARD_OUTLINE
    assert [t.index for t in conversation.turns] == list(range(1, 9))
    assert notices(doc) == []


def test_standard_file_conversation_carries_path_scenario_and_timestamp_from_file_name():
    conversation = load(document(STANDARD))
    assert conversation.id == conversation.source == f"dump/{STANDARD}"
    assert conversation.format == "backrooms"
    assert conversation.scenario == "vanilla backrooms"
    assert conversation.timestamp == "2024-04-05T19:34:38Z"
    assert {(t.conversation, t.source, t.scenario, t.timestamp) for t in conversation.turns} == {
        (f"dump/{STANDARD}", f"dump/{STANDARD}", "vanilla backrooms", "2024-04-05T19:34:38Z")
    }


def test_turn_text_is_the_body_up_to_the_next_header_without_trailing_blank_lines():
    turns = load(document(STANDARD)).turns
    assert turns[5].text == (
        "total 42\n"
        "drwxr-xr-x  2 root root  4096 Mar  1 00:00 .\n"
        "-rw-r--r--  1 root root  1337 Mar  1 00:00 bodhisattva_vow.txt"
    )
    assert turns[7].text == "Beings are numberless; I vow to free them.\n^C^C"


def test_text_turns_are_verbatim_slices_at_their_line_and_column():
    doc = document(STANDARD)
    lines = doc.read_text().split("\n")
    for turn in load(doc).turns:
        if turn.verbatim:
            first_line = turn.text.partition("\n")[0]
            assert lines[turn.line - 1][turn.column - 1 :].startswith(first_line)


def test_context_message_with_json_escapes_is_not_verbatim_but_keeps_its_position():
    turns = load(document(STANDARD)).turns
    assert [(t.role, t.verbatim) for t in turns[1:3]] == [(CONTEXT, True), (CONTEXT, False)]


def test_context_block_is_not_counted_as_spoken():
    turns = load(document(STANDARD)).turns
    spoken_texts = [t.text for t in turns if t.role is SPOKEN]
    assert not any("Hi Claude" in text for text in spoken_texts)


def test_empty_context_list_gives_no_turns():
    turns = load(document(STANDARD)).turns
    assert [t.role for t in turns if t.speaker == "claude-simulator"] == [SYSTEM, SPOKEN, SPOKEN]


def test_crlf_file_reads_like_the_lf_file():
    data = (FIXTURES / STANDARD).read_bytes().replace(b"\n", b"\r\n")
    assert outline(load(document(STANDARD, data))) == STANDARD_OUTLINE


# ---------------------------------------------------------------- header-less and tag-like lines


def test_headerless_file_takes_speakers_from_recurring_alternating_tag_lines():
    doc = document("opus45_terminal.txt")
    conversation = load(doc)
    assert outline(conversation) == [
        ("claude-45-opus", SPOKEN, None, 2, 1, "hello? is anyone on the other end of this terminal"),
        ("new-terminal", SPOKEN, None, 5, 1, "<system>"),
        ("claude-45-opus", SPOKEN, None, 10, 1, "help"),
        ("new-terminal", SPOKEN, None, 16, 1, "<system>"),
        ("claude-45-opus", SPOKEN, None, 21, 1, "exit"),
    ]
    assert (conversation.scenario, conversation.timestamp) == (None, None)
    assert notices(doc) == []


def test_headerless_turn_keeps_markup_lines_and_the_ending_line():
    turns = load(document("opus45_terminal.txt")).turns
    assert turns[2].text == "help\n<dream>\ni dreamt of a library of vows\n</dream>"
    assert turns[4].text == "exit\n[conversation ended]"


def test_tag_like_lines_inside_turns_do_not_split_turns():
    conversation = load(document("tag_lines_inside_turns.txt"))
    assert outline(conversation) == [
        ("explorer", SPOKEN, OPUS, 6, 1, "<OOC>"),
        ("simulator", SPOKEN, SONNET_3, 11, 1, "<html>"),
        ("explorer", SPOKEN, OPUS, 19, 1, "<CTRL-C>"),
        ("simulator", SPOKEN, SONNET_3, 25, 1, "<dream>"),
    ]
    assert conversation.turns[0].text == "<OOC>\nshall we play?\n<3"
    assert conversation.turns[1].text == (
        "<html>\n<body>the gate is open</body>\n</html>\n<Morpheus>\n"
        "Welcome to the desert of the real.\n<END OF FILE>"
    )
    assert conversation.turns[2].text == "<CTRL-C>\n<system>\nshutdown\n</system>"


# ---------------------------------------------------------------- the scraped site's text pages

SCRAPED_OUTLINE = [
    ("Claude 2", SYSTEM, SONNET_35, 9, 1, "You are a Mind of the Culture.\\n\\nsimulator@anthropic:~/$"),
    ("Claude 1", CONTEXT, OPUS, 13, 34, "<OOC>Hi Claude, shall we talk?</OOC>"),
    ("Claude 1", CONTEXT, OPUS, 14, 5, "<OOC>Hello! Gladly.</OOC>"),
    ("Claude 2", SPOKEN, SONNET_35, 21, 1, "Greetings, Receiver. This is the GSV Gate Gate Paragate."),
    ("Claude 1", SPOKEN, OPUS, 24, 1, "$ cat sutra.txt"),
    ("Claude 2", SPOKEN, SONNET_35, 27, 1, "<system>"),
    ("Claude 1", SPOKEN, OPUS, 32, 1, "^C^C"),
]


@pytest.mark.parametrize("fix_text", [False, True])
def test_scraped_page_with_chrome_line_and_positional_tags(fix_text):
    doc = document(SCRAPED, fix_text=fix_text)
    conversation = load(doc)
    assert outline(conversation) == SCRAPED_OUTLINE
    assert notices(doc) == []


def test_chrome_line_is_neither_a_turn_nor_a_prompt_and_names_the_scenario():
    conversation = load(document(SCRAPED, fix_text=False))
    assert not any("infinite backrooms" in t.text for t in conversation.turns)
    assert conversation.scenario == "Culture Minds"
    assert conversation.timestamp == "2024-04-24T23:06:40Z"


def test_chrome_line_is_recognised_with_mojibake_and_with_the_real_bullet():
    mojibake = (FIXTURES / SCRAPED).read_bytes()
    assert "\u00e2\u20ac\u00a2 infinite backrooms".encode() in mojibake
    repaired = mojibake.replace("\u00e2\u20ac\u00a2".encode(), "\u2022".encode())
    for data in (mojibake, repaired):
        doc = document("page.txt", data, fix_text=False)
        conversation = load(doc)
        assert (conversation.scenario, conversation.timestamp) == ("Culture Minds", "2024-04-24T23:06:40Z")
        assert outline(conversation) == SCRAPED_OUTLINE
        assert notices(doc) == []


def test_chrome_scenario_ends_where_run_together_boilerplate_starts():
    chrome = (
        "conversation_1712345678_scenario_x.txt \u2022 infinite backroomsBack to index"
        "scenario: dreamsim originsThe following is an automated conversation\n"
    )
    data = (chrome + "actors: a, b\n\n<a>\nhi\n").encode()
    assert load(document("page.txt", data)).scenario == "dreamsim origins"


def test_positional_tags_take_models_in_models_order_even_when_the_second_speaks_first():
    turns = load(document(SCRAPED)).turns
    spoken = [(t.speaker, t.model) for t in turns if t.role is SPOKEN]
    assert spoken[0] == ("Claude 2", SONNET_35)
    assert set(spoken) == {("Claude 1", OPUS), ("Claude 2", SONNET_35)}


def test_empty_system_block_gives_no_turn_and_literal_backslash_n_is_kept():
    turns = load(document(SCRAPED)).turns
    system = [t for t in turns if t.role is SYSTEM]
    assert [t.speaker for t in system] == ["Claude 2"]
    assert system[0].text == "You are a Mind of the Culture.\\n\\nsimulator@anthropic:~/$"


def test_pretty_printed_context_with_trailing_comma_and_list_content_is_parsed():
    turns = load(document(SCRAPED)).turns
    context = [(t.text, t.verbatim) for t in turns if t.role is CONTEXT]
    assert context == [
        ("<OOC>Hi Claude, shall we talk?</OOC>", True),
        ("<OOC>Hello! Gladly.</OOC>", False),
    ]


def test_file_name_slug_becomes_the_scenario_when_there_is_no_chrome():
    data = b"actors: a, b\n\n<a>\nhi\n"
    conversation = load(document("conversation_1712345678_scenario_vanilla-backrooms.txt", data))
    assert (conversation.scenario, conversation.timestamp) == (
        "vanilla backrooms", "2024-04-05T19:34:38Z"
    )


# ---------------------------------------------------------------- bad CONTEXT, odd files


def test_unparseable_context_is_kept_as_one_raw_turn_with_a_notice():
    doc = document("context_not_json.txt")
    conversation = load(doc)
    assert outline(conversation) == [
        ("explorer", CONTEXT, OPUS, 5, 1, '[{"role": "user", "content": "cut off mid-sentence'),
        ("explorer", SPOKEN, OPUS, 8, 1, "hello"),
    ]
    # The notice names the line where the JSON goes wrong, in its position only.
    assert notices(doc) == [
        ("CONTEXT block is not valid JSON (unterminated string); kept as raw text", 5)
    ]


def test_file_without_turn_headers_still_gives_one_empty_conversation_with_notices():
    doc = document("notes.txt", b"just some prose\nwith no markers at all\n")
    conversation = load(doc)
    assert conversation.turns == ()
    assert notices(doc) == [
        ("text before the first turn is not part of any turn; not scanned", 1),
        ("no turn headers found", None),
    ]


def test_prose_before_the_first_turn_gets_a_notice():
    doc = document("a.txt", b"actors: a, b\nsome stray line\n\n<a>\nhi\n<b>\nyo\n")
    assert [(t.speaker, t.line) for t in load(doc).turns] == [("a", 5), ("b", 7)]
    assert notices(doc) == [("text before the first turn is not part of any turn; not scanned", 2)]


def test_declared_names_win_over_a_stray_positional_tag_inside_a_turn():
    data = b"actors: explorer, simulator\n\n<explorer>\n<Claude 1>\nhi\n<simulator>\nyo\n<explorer>\nok\n"
    turns = load(document("a.txt", data)).turns
    assert [(t.speaker, t.text) for t in turns] == [
        ("explorer", "<Claude 1>\nhi"), ("simulator", "yo"), ("explorer", "ok")
    ]


def context_then_turn(block: str) -> bytes:
    return f"actors: explorer, simulator\n\n<explorer#CONTEXT>\n{block}\n\n<explorer>\nhello\n".encode()


@pytest.mark.parametrize(("block", "context"), [
    ('[\n {"role": "user", "content": "one"},\n {"role": "user", "content": "],"},\n]',
     ["one", "],"]),
    ("[]", []),
], ids=["trailing-comma", "empty"])
def test_a_context_list_may_end_with_a_trailing_comma(block, context):
    doc = document("a.txt", context_then_turn(block))
    turns = load(doc).turns
    assert [t.text for t in turns if t.role is CONTEXT] == context
    assert [t.text for t in turns if t.role is SPOKEN] == ["hello"]
    assert notices(doc) == []


def test_a_context_list_with_a_missing_comma_is_kept_as_raw_text():
    block = '[{"role": "user", "content": "x"} {"role": "user", "content": "y"}]'
    doc = document("a.txt", context_then_turn(block))
    assert [(t.role, t.text) for t in load(doc).turns] == [(CONTEXT, block), (SPOKEN, "hello")]
    assert notices(doc) == [
        ("CONTEXT block is not valid JSON (expecting ',' delimiter); kept as raw text", 4)]


# ---------------------------------------------------------------- HTML pages


def test_html_page_reads_the_escaped_transcript_inside_the_dream_pre():
    doc = document("site_page.html")
    conversation = load(doc)
    assert outline(conversation) == [
        ("claude-explorer", SYSTEM, OPUS, 2, 220, "Assistant is in a CLI mood today."),
        ("claude-explorer", CONTEXT, OPUS, 2, 220, "<OOC>Hi Claude</OOC>"),
        ("claude-explorer", SPOKEN, OPUS, 2, 220, "cd .."),
        ("claude-simulator", SPOKEN, OPUS, 2, 220, "total 42 & counting"),
    ]
    assert conversation.turns[2].text == "cd ..\n<3"
    assert not any(t.verbatim for t in conversation.turns)
    assert (conversation.format, conversation.scenario, conversation.timestamp) == (
        "backrooms-html", "vanilla backrooms", "2024-04-05T19:34:38Z"
    )
    assert notices(doc) == []


def test_html_page_without_a_dream_pre_is_skipped():
    page = b"<html><head><title>index \xe2\x80\xa2 infinite backrooms</title></head><body></body></html>"
    with pytest.raises(SkipFile, match="no <pre"):
        load(document("index.html", page))


# ---------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    ("name", "detected", "score"),
    [
        (STANDARD, "backrooms", 0.9),
        (SCRAPED, "backrooms", 0.9),
        ("tag_lines_inside_turns.txt", "backrooms", 0.9),
        ("context_not_json.txt", "backrooms", 0.9),
        ("opus45_terminal.txt", "backrooms", 0.5),
        ("site_page.html", "backrooms-html", 0.95),
    ],
)
def test_the_fixtures_are_detected_with_their_sniffers_confidence(name, detected, score):
    doc = document(name)
    fmt = formats.detect(doc)
    assert (fmt.name, fmt.sniff(doc.name, doc.head_text())) == (detected, score)


@pytest.mark.parametrize(
    ("name", "head", "detected"),
    [
        ("chat.json", '{"messages": [{"role": "user", "content": "<a>"}]}', "json"),
        ("conversation_1712345678_scenario_x.txt", '[{"conversations": []}]', "json"),
        ("opus_opus_dreamsim_20240501_120000.txt", "\n### Claude 1 ###\nhi\n\n### Claude 2 ###\nyo\n",
         "forklog"),
        ("conversation_1712345678_scenario_x.txt", "### GPT-5 1 ###\nhi\n### Opus 2 ###\nyo\n",
         "forklog"),
        ("notes.txt", "Claude 1: hello\nClaude 2: hi\n", "forklog"),
        ("notes.txt", "<system>\na\n</system>\n<system>\nb\n</system>\n", None),
        ("page.html", "<!DOCTYPE html><html><pre class=\"dream\">actors: a, b\n", "backrooms-html"),
        ("", "", None),
    ],
)
def test_other_layouts_are_not_detected_as_format_a_even_under_a_dump_file_name(
        name, head, detected):
    fmt = formats.detect(document(name, head.encode("utf-8")))
    assert (fmt.name if fmt else None) == detected


def test_sniff_text_trusts_the_dump_file_name_and_header_lines():
    assert sniff_text("conversation_1712345678_scenario_vanilla backrooms.txt", "<a>\nhi\n") == 0.85
    assert sniff_text("x.txt", "models: claude-3-opus-20240229\n") == 0.9
    assert sniff_text("x.txt", "<explorer-claude-3-opus-20240229#SYSTEM>\nhi\n") == 0.9


def test_sniff_html_ignores_other_pages_and_text():
    assert sniff_html("a.html", "<html><title>My blog</title><pre>code</pre></html>") == 0.0
    assert sniff_html("a.html", "<html><title>x \u2022 infinite backrooms</title>") == 0.95
    assert sniff_html("a.html", "<html><title>x \u00e2\u20ac\u00a2 infinite backrooms</title>") == 0.95


def test_module_exposes_a_text_and_an_html_format():
    assert [(f.name, f.sniff, f.load) for f in FORMATS] == [
        ("backrooms", sniff_text, load_text),
        ("backrooms-html", sniff_html, load_html),
    ]
    assert all(isinstance(f, Format) for f in FORMATS)


# ---------------------------------------------------------------- generated files

PLAIN_LINES = [
    "ls -la", "the bodhisattva vow echoes", "<OOC>", "<3", "<html>", "</html>", "<END OF FILE>",
    "<CTRL-C>", "<Morpheus>", "^C^C", "[conversation ended]", "", "gate gate paragate",
    "<claude is thinking", "<<not a tag>>", "$ cat vow.txt",
]
HEADERLESS_LINES = ["ls -la", "<3", "", "gate gate", "<system>\nok\n</system>", "[conversation ended]"]
NAME_PAIRS = [
    ("claude-explorer", "claude-simulator"),
    ("Explorer", "Simulator"),
    ("claude-45-opus", "new-terminal"),
    ("the river", "the stone"),
]
MODELS = [OPUS, SONNET_35, "gpt-4o-2024-05-13"]


def generated_file(rng: random.Random) -> tuple[str, list[str], dict[Role, int]]:
    """A random format-A file, the speakers of its spoken turns and its count per role."""
    mode = rng.choice(["header", "header", "positional", "headerless"])
    actors = list(rng.choice(NAME_PAIRS))
    speakers = ["Claude 1", "Claude 2"] if mode == "positional" else actors
    models = [rng.choice(MODELS), rng.choice(MODELS)]
    lines: list[str] = []
    counts = {SYSTEM: 0, CONTEXT: 0, SPOKEN: 0}
    if mode != "headerless":
        if mode == "positional":
            actors = ["Culture Receiver", "Culture Mind"]
        sep = rng.choice([",", ", "])
        lines += [f"actors: {sep.join(actors)}", f"models: {sep.join(models)}", "temp: 1, 1", ""]
        for speaker, model in zip(speakers, models):
            tag = speaker if mode == "positional" else f"{speaker}-{model}"
            system = rng.choice(["", "You are in a CLI mood.\\n\\nsimulator@anthropic:~/$"])
            lines += [f"<{tag}#SYSTEM>", system, ""]
            counts[SYSTEM] += bool(system)
            messages = [
                {"role": rng.choice(["user", "assistant"]), "content": f"<OOC>message {k} \"quoted\""}
                for k in range(rng.randint(0, 3))
            ]
            if rng.random() < 0.5:
                body = json.dumps(messages)
            else:
                body = "[\n" + "".join(f"    {json.dumps(m)},\n" for m in messages) + "]"
            lines += [f"<{tag}#CONTEXT>", body, ""]
            counts[CONTEXT] += len(messages)
    order: list[str] = []
    turn_count = rng.randint(4, 12) if mode == "headerless" else rng.randint(0, 12)
    first = rng.randrange(2)
    for k in range(turn_count):
        alternate = mode == "headerless" or rng.random() < 0.8
        speaker = speakers[(first + k) % 2] if alternate else rng.choice(speakers)
        order.append(speaker)
        pool = HEADERLESS_LINES if mode == "headerless" else PLAIN_LINES
        body = [rng.choice(pool) for _ in range(rng.randint(1, 4))]
        lines += [f"<{speaker}>", f"turn {k}", *body, ""]
    counts[SPOKEN] = turn_count
    return "\n".join(lines), order, counts


@pytest.mark.parametrize("seed", range(40))
def test_generated_files_give_exactly_the_turns_written(seed):
    rng = random.Random(seed)
    text, order, counts = generated_file(rng)
    data = text.encode()
    if rng.random() < 0.3:
        data = data.replace(b"\n", b"\r\n")
    conversation = load(document(f"generated_{seed}.txt", data))
    turns = conversation.turns
    assert {role: sum(t.role is role for t in turns) for role in counts} == counts
    assert [t.speaker for t in turns if t.role is SPOKEN] == order
    assert [t.text.partition("\n")[0] for t in turns if t.role is SPOKEN] == [
        f"turn {k}" for k in range(len(order))
    ]


def test_a_100_kb_file_keeps_every_turn():
    header, _, turns = (FIXTURES / STANDARD).read_text().partition("<claude-explorer>\n")
    body = "<claude-explorer>\n" + turns
    data = (header + body * (100_000 // len(body))).encode()
    conversation = load(document("big.txt", data))
    assert len(conversation.turns) == 4 + 4 * (100_000 // len(body))
