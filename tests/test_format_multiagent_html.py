"""The multi-agent GUI runner's `conversation_full.html`: both header templates, roles, images."""

from __future__ import annotations

import html
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from backrooms_scan.decode import Document
from backrooms_scan.formats import multiagent_html
from backrooms_scan.records import Role, SkipFile

FIXTURES = Path(__file__).parent / "fixtures" / "multiagent_html"
SPOKEN, SYSTEM, CONTEXT = Role.SPOKEN, Role.SYSTEM, Role.CONTEXT
HEADER_TEMPLATE = "conversation_full_header_template.html"
SPAN_TEMPLATE = "conversation_full_span_template.html"


def fixture_doc(name: str) -> Document:
    return Document.from_bytes(f"run/{name}", (FIXTURES / name).read_bytes())


def only_conversation(doc: Document):
    (conversation,) = multiagent_html.load(doc)
    return conversation


def turn_rows(conversation) -> list[tuple]:
    return [(t.speaker, t.role, t.model, t.line, t.column, t.text) for t in conversation.turns]


# --- sniffing ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", [HEADER_TEMPLATE, SPAN_TEMPLATE])
def test_exports_of_both_templates_are_sniffed(name: str):
    doc = fixture_doc(name)
    assert multiagent_html.sniff(doc.name, doc.head_text()) == 0.95


def test_an_export_whose_stylesheet_fills_the_head_is_sniffed_by_its_title():
    head = "<html><head><title>Liminal Backrooms</title><style>.message-content {}" + " " * 999
    assert multiagent_html.sniff("conversation_full.html", head) == 0.9


@pytest.mark.parametrize(
    "head",
    [
        "<html><title>conversation_1 • infinite backrooms</title><pre class='dream'>x</pre>",
        '<div class="message-list"><p>hello</p></div>',
        "actors: a, b\n<a>\nhi\n",
        '{"messages": [{"role": "assistant", "content": "class=\\"message"}]}',
        '# Notes\n```html\n<div class="message assistant"><div class="message-content">\n```\n',
        ('<p align="center">logo</p>\n\n```\n<div class="message user">'
         '<div class="message-content"></div></div>\n```\n'),
    ],
    ids=["site-page", "other-html", "format-a", "json", "markdown", "markdown-opening-with-html"],
)
def test_other_files_are_not_sniffed(head: str):
    assert multiagent_html.sniff("page.html", head) == 0.0


# --- loading ----------------------------------------------------------------------------


def test_header_text_template_gives_speaker_model_and_roles_per_message():
    conversation = only_conversation(fixture_doc(HEADER_TEMPLATE))
    assert turn_rows(conversation) == [
        ("System", SYSTEM, None, 15, 17, "Three minds meet in the backrooms."),
        (
            "AI-1",
            SPOKEN,
            "Claude 3 Opus",
            21,
            17,
            "we are the gate, gate, gone beyond\nthe hallway hums & listens",
        ),
        ("AI-2", SPOKEN, "GPT-4o", 31, 17, "<3 paragate\nparasamgate"),
        ("User", CONTEXT, None, 37, 17, "say the vow"),
        ("AI-3", SPOKEN, "Gemini 2.5 Pro", 43, 17, "beings are numberless\nI vow to free them"),
        ("AI-1", SPOKEN, "Claude Sonnet 4.5", 49, 17, "bodhi svaha"),
    ]


def test_span_template_gives_speaker_model_and_roles_per_message():
    conversation = only_conversation(fixture_doc(SPAN_TEMPLATE))
    assert turn_rows(conversation) == [
        ("AI-1", SPOKEN, "Claude 3 Opus", 9, 17, "gate gate"),
        ("System", SYSTEM, None, 14, 17, "AI-1 invited AI-3 (Kimi K2) to the conversation"),
        ("AI-3", SPOKEN, "Kimi K2", 20, 17, "paragate\n>be me"),
        ("User", CONTEXT, None, 27, 17, "keep going"),
        ("AI-2", SPOKEN, None, 36, 17, "parasamgate bodhi svaha"),
    ]


RUNNER_OUTPUT = "conversation_full_runner_output.html"


def test_runner_output_in_agent_and_user_boxes_is_system_text():
    conversation = only_conversation(fixture_doc(RUNNER_OUTPUT))
    opus, gpt = "Claude 3 Opus", "GPT-4o"
    assert [(t.index, *row) for t, row in zip(conversation.turns, turn_rows(conversation))] == [
        (1, "AI-1", SPOKEN, opus, 12, 17, "we stand at the gate\ngate gate paragate"),
        (2, "AI-2", SYSTEM, gpt, 18, 17, "Error: 404 - model not found: example/gpt-4o-nightly"),
        (3, "AI-2", SPOKEN, gpt, 24, 17, "the door opens onto a field of static"),
        (4, "AI-2", SYSTEM, gpt, 24, 17, "[AI-2 generated an image]"),
        (5, "System", SYSTEM, None, 32, 17, "AI-1 muted AI-3 for two turns"),
        (6, "User", SYSTEM, None, 38, 17,
         ('Search results for "gate gate paragate":\n'
         "1. The Heart Sutra, a short text - example.org/sutra\n"
         "2. Gate gate paragate, explained - example.org/gate")),
        (7, "User", CONTEXT, None, 44, 17, "say it once more, all of it"),
        (8, "AI-1", SYSTEM, opus, 50, 17,
         "Status: AI-3 (Gemini 2.5 Pro) is unavailable, skipping its turn"),
        (9, "AI-1", SPOKEN, opus, 50, 17, "gate gate paragate parasamgate bodhi svaha"),
        (10, "AI-2", SYSTEM, gpt, 56, 17, "HTTP 503 Service Unavailable"),
    ]


def test_every_line_of_every_message_is_in_exactly_one_turn_of_the_right_role():
    page = (FIXTURES / RUNNER_OUTPUT).read_text()
    boxes = re.findall(r'<div class="message ([\w-]+)">.*?<div class="content">(.*?)</div>',
                       page, re.DOTALL)
    expected = Counter()
    for kind, content in boxes:
        lines = html.unescape(content).split("<br>")
        search_echo = kind == "user" and lines[0].startswith("Search results")
        for line in lines:
            runner = line.startswith(("Error:", "HTTP ", "Status:", "[")) or search_echo
            role = SYSTEM if runner or kind == "agent-notification" else (
                CONTEXT if kind == "user" else SPOKEN)
            expected[(role, line)] += 1
    turns = only_conversation(fixture_doc(RUNNER_OUTPUT)).turns
    assert Counter((t.role, line) for t in turns for line in t.text.split("\n")) == expected


def test_the_same_slot_can_change_model_between_turns():
    conversation = only_conversation(fixture_doc(HEADER_TEMPLATE))
    assert [t.model for t in conversation.turns if t.speaker == "AI-1"] == [
        "Claude 3 Opus",
        "Claude Sonnet 4.5",
    ]


@pytest.mark.parametrize("name", [HEADER_TEMPLATE, SPAN_TEMPLATE])
def test_base64_images_never_become_turn_text(name: str):
    doc = fixture_doc(name)
    texts = " ".join(t.text for t in only_conversation(doc).turns)
    assert "base64" not in texts and "data:image" not in texts
    assert "Generated image" not in texts


def test_timestamps_are_parsed_to_iso_8601_or_left_out():
    conversation = only_conversation(fixture_doc(HEADER_TEMPLATE))
    assert [t.timestamp for t in conversation.turns] == [
        None,
        "2025-10-10T07:02:00",
        "2025-10-10T07:03:00",
        "2025-10-10T07:04:00",
        None,
        "2025-10-10T19:06:00",
    ]
    assert conversation.timestamp == "2025-10-10T07:02:00"


def test_turns_are_not_verbatim_and_carry_ids_and_indexes():
    doc = fixture_doc(SPAN_TEMPLATE)
    conversation = only_conversation(doc)
    assert (conversation.id, conversation.source, conversation.format) == (
        doc.path,
        doc.path,
        "multiagent-html",
    )
    assert [(t.index, t.conversation, t.source, t.verbatim) for t in conversation.turns] == [
        (i, doc.path, doc.path, False) for i in range(1, 6)
    ]


def test_content_position_points_at_the_content_div():
    doc = fixture_doc(SPAN_TEMPLATE)
    lines = doc.read_text().split("\n")
    for turn in only_conversation(doc).turns:
        assert lines[turn.line - 1][turn.column - 1 :].startswith('<div class="content">')


def test_a_message_without_content_is_reported_and_skipped():
    page = (
        '<div class="message assistant"><div class="message-content">'
        '<div class="header">AI-1 (Opus)</div></div></div>'
        '<div class="message assistant"><div class="message-content">'
        '<div class="header">AI-2 (Opus)</div><div class="content">hi</div></div></div>'
    )
    doc = Document.from_bytes("conversation_full.html", page.encode())
    conversation = only_conversation(doc)
    assert [(t.index, t.speaker, t.text) for t in conversation.turns] == [(1, "AI-2", "hi")]
    assert [n.message for n in doc.notices.items] == [
        "assistant message without a content part was skipped"
    ]


def test_unclosed_tags_and_scripts_do_not_leak_into_text():
    page = (
        '<div class="message assistant"><div class="message-content">'
        '<div class="header">AI-1 (Opus)</div><div class="content">one<p>two<li>three'
        "<script>var gate = 1;</script></div></div></div>"
        '<div class="message system"><div class="content">after</div></div>'
    )
    conversation = only_conversation(Document.from_bytes("c.html", page.encode()))
    assert [(t.speaker, t.role, t.text) for t in conversation.turns] == [
        ("AI-1", SPOKEN, "one\ntwo\nthree"),
        ("System", SYSTEM, "after"),
    ]


@pytest.mark.parametrize(
    "header",
    [
        "AI-4 (Claude 3.5 Sonnet (new)) <span class='timestamp'>x</span>",
        "<span class='ai-name'>AI-4</span> <span class='model-name'>(Claude 3.5 Sonnet (new))</span>",
    ],
    ids=["header-text", "spans"],
)
def test_a_model_name_holding_parentheses_is_kept_whole(header: str):
    page = (
        f'<div class="message assistant"><div class="header">{header}</div>'
        '<div class="content">hi</div></div>'
    )
    (turn,) = only_conversation(Document.from_bytes("c.html", page.encode())).turns
    assert (turn.speaker, turn.model) == ("AI-4", "Claude 3.5 Sonnet (new)")


def test_a_page_without_messages_is_skipped():
    with pytest.raises(SkipFile):
        list(multiagent_html.load(Document.from_bytes("a.html", b"<html><p>hi</p></html>")))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("October 10, 2025 at 07:02 AM", "2025-10-10T07:02:00"),
        ("  March 3, 2026 at 12:30 PM ", "2026-03-03T12:30:00"),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_timestamp(text: str, expected: str | None):
    assert multiagent_html.parse_timestamp(text) == expected


# --- generated corpus -------------------------------------------------------------------

MODELS = ["Claude 3 Opus", "Claude Sonnet 4.5", "GPT-4o", "Gemini 2.5 Pro", "Kimi K2", "Hermes 4"]
WORDS = ["gate", "paragate", "<3", "&", "vow", "beings", "\u00e9t\u00e9", "\u0917\u0924\u0947"]
KIND_ROLES = {"assistant": SPOKEN, "user": CONTEXT, "system": SYSTEM, "agent-notification": SYSTEM}


def generated_message(rng: random.Random, agents: int, span_template: bool) -> tuple[str, tuple]:
    kind = rng.choices(list(KIND_ROLES), weights=[6, 1, 1, 1])[0]
    lines = [" ".join(rng.choices(WORDS, k=rng.randint(1, 6))) for _ in range(rng.randint(1, 3))]
    text = "\n".join(lines)
    speaker, model = {"user": ("User", None)}.get(kind, ("System", None))
    header = ""
    stamp = '<span class="timestamp">October 10, 2025 at 07:02 AM</span>'
    if kind == "assistant":
        speaker, model = f"AI-{rng.randint(1, agents)}", rng.choice(MODELS)
        if span_template:
            header = (
                f'<span class="ai-name">{speaker}</span> '
                f'<span class="model-name">({model})</span> {stamp}'
            )
        else:
            header = f"{speaker} ({model}) {stamp}"
    elif kind == "user":
        header = f'<span class="ai-name">User</span> {stamp}' if span_template else f"User {stamp}"
    image = ""
    if rng.random() < 0.3:
        image = '<div class="message-image"><img src="data:image/png;base64,Z2F0ZQ=="></div>'
    body = "<br>".join(html.escape(line) for line in lines)
    header_div = f'<div class="header">{header}</div>' if header else ""
    markup = (
        f'\n<div class="message {kind}">\n<div class="message-content">\n{header_div}\n'
        f'<div class="content">{body}</div>\n</div>{image}\n</div>'
    )
    return markup, (speaker, KIND_ROLES[kind], model, text)


@pytest.mark.parametrize("seed", range(30))
def test_generated_exports_give_back_every_message(seed: int):
    rng = random.Random(seed)
    agents, span_template = rng.randint(2, 5), rng.random() < 0.5
    messages = [generated_message(rng, agents, span_template) for _ in range(rng.randint(1, 15))]
    page = (
        "<!DOCTYPE html>\n<html><head><title>Liminal Backrooms</title></head><body>\n"
        + '<div id="conversation">'
        + "".join(markup for markup, _ in messages)
        + "\n</div></body></html>"
    )
    doc = Document.from_bytes("gen/conversation_full.html", page.encode())
    (conversation,) = multiagent_html.load(doc)
    expected = [turn for _, turn in messages]
    assert Counter(t.role for t in conversation.turns) == Counter(
        role for _, role, _, _ in expected
    )
    assert [(t.speaker, t.role, t.model, t.text) for t in conversation.turns] == expected
    assert multiagent_html.sniff(doc.name, doc.head_text()) == 0.95
