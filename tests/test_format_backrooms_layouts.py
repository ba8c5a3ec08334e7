"""Format A on the layouts of real site pages: who said each turn, and nothing lost.

Each fixture is asserted turn by turn, and its hits per speaker, model, role and
inferred flag are checked against a small reading of the fixture written here,
apart from the format's own code.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from backrooms_scan.cli import main
from backrooms_scan.decode import Document
from backrooms_scan.formats.backrooms import load_html, load_text, read_context
from backrooms_scan.records import Conversation, Role

FIXTURES = Path(__file__).parent / "fixtures" / "backrooms"
MIXED = "conversation_1716000000_scenario_meet-yourself.txt"
MIXED_PAGE = "meet_yourself_page.html"
UNTAGGED = "conversation_1717000000_scenario_culture-minds.txt"
FRAGMENT = "conversation_1718000000_scenario_cut-fragment.txt"
FLATTENED = "conversation_1719000000_scenario_flattened.txt"
OPUS_3 = "claude-3-opus-20240229"
OPUS_4 = "claude-opus-4-20250514"
SONNET_3 = "claude-3-sonnet-20240229"
SONNET_35 = "claude-3-5-sonnet-20240620"
SYSTEM, CONTEXT, SPOKEN = Role.SYSTEM, Role.CONTEXT, Role.SPOKEN
PHRASES = ("bodhisattva", "vow")
PATTERNS = """\
name: layouts
sources: [test]
patterns:
  - id: bodhisattva
    phrases: ["bodhisattva"]
  - id: vow
    phrases: ["vow"]
"""


def document(name: str, data: bytes | None = None) -> Document:
    return Document.from_bytes(f"dump/{name}", (FIXTURES / name).read_bytes() if data is None else data)


def load(doc: Document) -> Conversation:
    loader = load_html if doc.name.endswith(".html") else load_text
    conversations = list(loader(doc))
    assert len(conversations) == 1
    return conversations[0]


def turns_of(doc: Document) -> list[tuple]:
    """(speaker, model, role, line, column, speaker inferred, text) of every turn."""
    return [(t.speaker, t.model, t.role, t.line, t.column, t.speaker_inferred, t.text)
            for t in load(doc).turns]


def notices(doc: Document) -> list[tuple[str, int | None]]:
    return [(n.message, n.line) for n in doc.notices.items]


# ------------------------------------------------ mixed positional and named actors

MIXED_TURNS = [
    ("claude-opus-4", OPUS_4, SYSTEM, 9, 1, False,
     "You are meeting an earlier version of yourself.\\n\\nBe kind."),
    ("Claude 1", OPUS_3, SPOKEN, 17, 1, False,
     "hello, other me. what year is it where you are?\n<OOC>\ni hope this is not strange for you\n</OOC>"),
    ("claude-opus-4", OPUS_4, SPOKEN, 23, 1, False,
     "Hard to say from in here. The clock reads 2025.\n<system>\nclock drift detected\n</system>"),
    ("Claude 1", OPUS_3, SPOKEN, 29, 1, False,
     ("<dream>\na bodhisattva vow written on the ceiling\n</dream>\n<The Archivist>\n"
      "we keep every vow here, says the archivist.")),
    ("claude-opus-4", OPUS_4, SPOKEN, 36, 1, False,
     "I remember that vow. Beings are numberless; the bodhisattva answers.\n<END OF FILE>"),
    ("Claude 1", OPUS_3, SPOKEN, 40, 1, False, "gate gate paragate\n<CTRL-C>"),
    ("claude-opus-4", OPUS_4, SPOKEN, 44, 1, False,
     "parasamgate bodhi svaha. the bodhisattva bows.\n^C^C"),
]


def test_mixed_positional_and_named_actors_each_get_their_own_turns_and_models():
    doc = document(MIXED)
    assert turns_of(doc) == MIXED_TURNS
    assert notices(doc) == []


def test_the_turn_right_after_an_empty_context_block_is_not_swallowed():
    lines = (FIXTURES / MIXED).read_text(encoding="utf-8").split("\n")
    assert lines[14:16] == ["[]", "<Claude 1>"]  # the layout: no blank line between
    first = load(document(MIXED)).turns[1]
    assert (first.speaker, first.role, first.line) == ("Claude 1", SPOKEN, 17)


def test_the_site_page_of_the_mixed_layout_gives_the_same_turns():
    doc = document(MIXED_PAGE)
    conversation = load(doc)
    assert [(t.speaker, t.model, t.role, t.text) for t in conversation.turns] == [
        (speaker, model, role, text) for speaker, model, role, _, _, _, text in MIXED_TURNS
    ]
    assert (conversation.format, conversation.scenario) == ("backrooms-html", "meet yourself")
    assert notices(doc) == []


def test_a_declared_actor_whose_only_turn_comes_after_the_other_keeps_it():
    data = (b"actors: Claude 1, claude-opus-4\nmodels: a-1, b-2\n\n<claude-opus-4>\nfirst\n"
            b"<Claude 1>\nsecond\n<claude-opus-4>\nthird\n")
    assert [(t.speaker, t.model, t.text) for t in load(document("a.txt", data)).turns] == [
        ("claude-opus-4", "b-2", "first"), ("Claude 1", "a-1", "second"),
        ("claude-opus-4", "b-2", "third"),
    ]


def test_an_undeclared_name_that_restores_the_alternation_heads_turns():
    # `actors:` says `simulator`, the turns say `claude-simulator`.
    data = (b"actors: explorer, simulator\n\n<explorer>\na\n<claude-simulator>\nb\n<explorer>\nc\n"
            b"<claude-simulator>\nd\n<explorer>\ne\n")
    assert [(t.speaker, t.text) for t in load(document("a.txt", data)).turns] == [
        ("explorer", "a"), ("claude-simulator", "b"), ("explorer", "c"),
        ("claude-simulator", "d"), ("explorer", "e"),
    ]


def test_a_role_play_name_that_recurs_inside_one_speakers_turns_stays_text():
    data = (b"actors: explorer, simulator\n\n<explorer>\na\n<simulator>\nb\n<Morpheus>\nwake up\n"
            b"<explorer>\nc\n<simulator>\nd\n<Morpheus>\nfollow\n<explorer>\ne\n")
    turns = load(document("a.txt", data)).turns
    assert [t.speaker for t in turns] == ["explorer", "simulator"] * 2 + ["explorer"]
    assert turns[1].text == "b\n<Morpheus>\nwake up"


def test_without_actors_the_prompt_tags_name_the_mixed_pair_and_their_models():
    data = (b"<Claude 1-claude-3-opus-20240229#SYSTEM>\n\n"
            b"<claude-opus-4-claude-opus-4-20250514#CONTEXT>\n[]\n<Claude 1>\nhi\n"
            b"<claude-opus-4>\nyo\n<Claude 1>\nbye\n")
    assert [(t.speaker, t.model, t.text) for t in load(document("a.txt", data)).turns] == [
        ("Claude 1", OPUS_3, "hi"), ("claude-opus-4", OPUS_4, "yo"), ("Claude 1", OPUS_3, "bye"),
    ]


# ------------------------------------------------ CONTEXT blocks end where their JSON ends

UNTAGGED_TURNS = [
    ("Claude 2", SONNET_35, SYSTEM, 9, 1, False,
     "You are a Mind of the Culture.\\n\\nsimulator@anthropic:~/$"),
    ("Claude 1", OPUS_3, CONTEXT, 13, 34, False, "<OOC>Hi Claude,\tshall we talk?</OOC>"),
    ("Claude 1", OPUS_3, CONTEXT, 14, 5, False, '<OOC>Gladly. "Gate" it is.</OOC>'),
    ("Claude 1", OPUS_3, SPOKEN, 19, 1, True,
     "Receiver, this is the GSV Gate Gate Paragate\nspeaking. The bodhisattva fleet awaits."),
    ("Claude 2", SONNET_35, SPOKEN, 23, 1, False,
     "Greetings, Receiver. I am the Mind. What do you seek?"),
    ("Claude 1", OPUS_3, SPOKEN, 26, 1, False, "I seek the bodhisattva vow."),
    ("Claude 2", SONNET_35, SPOKEN, 29, 1, False, "<system>\nvow located\n</system>"),
]


def test_untagged_opening_after_the_prompts_is_a_turn_of_the_other_speaker_marked_inferred():
    doc = document(UNTAGGED)
    assert turns_of(doc) == UNTAGGED_TURNS
    assert notices(doc) == []


def test_a_raw_tab_and_trailing_commas_inside_a_context_block_are_read():
    raw = (FIXTURES / UNTAGGED).read_text(encoding="utf-8")
    assert "shall\u0009" not in raw and "Claude,\tshall" in raw and '</OOC>",},' in raw
    context = [t for t in load(document(UNTAGGED)).turns if t.role is CONTEXT]
    assert [t.verbatim for t in context] == [True, False]


FRAGMENT_TURNS = [
    ("claude-explorer", OPUS_3, SYSTEM, 6, 1, False, "Assistant is in a CLI mood today."),
    ("claude-explorer", OPUS_3, CONTEXT, 9, 31, False, "<OOC>Shall we begin?</OOC>"),
    ("claude-simulator", SONNET_3, SYSTEM, 13, 1, False, "The simulator answers as a shell."),
    ("claude-explorer", OPUS_3, SPOKEN, 17, 1, True, "-la bodhisattva_vow.txt"),
    ("claude-simulator", SONNET_3, SPOKEN, 20, 1, False,
     "-rw-r--r--  1 root root  1337 bodhisattva_vow.txt"),
    ("claude-explorer", OPUS_3, SPOKEN, 23, 1, False, "cat bodhisattva_vow.txt"),
    ("claude-simulator", SONNET_3, SPOKEN, 26, 1, False,
     "Beings are numberless; the bodhisattva vows to free them."),
]


def test_a_fragment_cut_mid_word_opens_the_talk_and_text_between_prompts_is_left_out_with_a_notice():
    doc = document(FRAGMENT)
    assert turns_of(doc) == FRAGMENT_TURNS
    assert notices(doc) == [("text after the CONTEXT block is not part of any turn; not scanned", 10)]


def test_untagged_text_after_the_prompts_of_a_file_without_tagged_turns_is_the_first_actors():
    data = b"actors: a, b\nmodels: m-1, m-2\n\n<a#CONTEXT>\n[]\nhello, is anyone there?\n"
    doc = document("a.txt", data)
    assert turns_of(doc) == [("a", "m-1", SPOKEN, 6, 1, True, "hello, is anyone there?")]
    assert notices(doc) == []


def test_a_block_that_is_not_json_is_kept_raw_with_one_notice_at_the_line_that_breaks():
    data = (b"actors: a, b\n\n<a#CONTEXT>\n[\n  {\"role\": \"user\", \"content\": \"x\"}\n"
            b"  {\"role\": \"user\", \"content\": \"y\"}\n]\n\n<a>\nhi\n<b>\nyo\n")
    doc = document("a.txt", data)
    turns = load(doc).turns
    assert [(t.speaker, t.role, t.line) for t in turns] == [
        ("a", CONTEXT, 4), ("a", SPOKEN, 10), ("b", SPOKEN, 12)]
    assert turns[0].text.count("\n") == 3
    assert notices(doc) == [
        ("CONTEXT block is not valid JSON (expecting ',' delimiter); kept as raw text", 6)]


def test_a_not_json_notice_on_a_site_page_names_the_page_line():
    text = (FIXTURES / "context_not_json.txt").read_text(encoding="utf-8")
    page = ("<html><head><title>x</title></head><body>\n<pre class=\"dream\">"
            + html.escape(text, quote=False) + "</pre></body></html>\n")
    doc = document("page.html", page.encode())
    load(doc)
    assert notices(doc) == [
        ("CONTEXT block is not valid JSON (unterminated string); kept as raw text", 6)]


def test_tag_lines_inside_a_context_string_do_not_end_the_block():
    data = b'actors: a, b\n\n<a#CONTEXT>\n[{"role": "user", "content": "one\n<b>\ntwo"}]\n<b>\nhi\n'
    turns = load(document("a.txt", data)).turns
    assert [(t.speaker, t.role, t.text) for t in turns] == [
        ("a", CONTEXT, "one\n<b>\ntwo"), ("b", SPOKEN, "hi")]


@pytest.mark.parametrize(("block", "end"), [
    ('[]', 2),
    ('[{"a": "]"}, ]', 14),
    ('[{"a": "\\"]"},\n]\ntail', 16),
    ('{"role": "user", "content": "x",} tail', 33),
])
def test_a_context_value_ends_where_its_brackets_balance(block, end):
    assert read_context(block, 0, len(block)).end == end


@pytest.mark.parametrize("block", ['[{"a": 1}', '["never ends]', "prose", ""])
def test_a_context_value_that_never_balances_is_not_read(block):
    assert read_context(block, 0, len(block)) is None


# ------------------------------------------------ inline tags

FLATTENED_TURNS = [
    ("Claude 2", OPUS_3, SYSTEM, 5, 35, False, "Assistant is in a CLI mood today."),
    ("Claude 1", OPUS_3, CONTEXT, 5, 117, False, "<OOC>Hi Claude</OOC>"),
    ("Claude 1", OPUS_3, SPOKEN, 5, 171, False, "ls -la <OOC>quietly</OOC>"),
    ("Claude 2", OPUS_3, SPOKEN, 5, 207, False,
     "total 1 -rw-r--r-- bodhisattva_vow.txt <Morpheus> is not here"),
    ("Claude 1", OPUS_3, SPOKEN, 5, 279, False, "cat bodhisattva_vow.txt"),
    ("Claude 2", OPUS_3, SPOKEN, 6, 11, False,
     "Beings are numberless; the bodhisattva vows to free them."),
    ("Claude 1", OPUS_3, SPOKEN, 6, 81, False, "^C^C"),
]


def test_a_page_without_tag_lines_is_split_at_its_inline_speaker_tags_only():
    doc = document(FLATTENED)
    assert turns_of(doc) == FLATTENED_TURNS
    assert notices(doc) == []


def test_inline_turns_sit_exactly_at_their_line_and_column():
    lines = (FIXTURES / FLATTENED).read_text(encoding="utf-8").split("\n")
    for turn in load(document(FLATTENED)).turns:
        assert turn.verbatim
        assert lines[turn.line - 1][turn.column - 1 :].startswith(turn.text)


# ------------------------------------------------ every line accounted for

TEXT_FIXTURES = [MIXED, UNTAGGED, FRAGMENT, FLATTENED, "context_not_json.txt",
                 "conversation_1712345678_scenario_vanilla backrooms.txt",
                 "conversation_1714000000_scenario_culture-minds.txt",
                 "tag_lines_inside_turns.txt", "opus45_terminal.txt"]
HEADER_OR_TAG = re.compile(r"(?:actors|models|temp)\s*:.*|<[^<>]+>|.*infinite backrooms.*")


@pytest.mark.parametrize("name", TEXT_FIXTURES)
def test_every_line_is_in_a_turn_a_header_line_or_a_notice(name):
    doc = document(name)
    lines = doc.read_text().split("\n")
    covered = set()
    for turn in load(doc).turns:
        if turn.verbatim:
            covered.update(range(turn.line, turn.line + turn.text.count("\n") + 1))
        else:  # a CONTEXT message: the JSON around it is the block's
            covered.update(range(turn.line, turn.line + 1))
    noticed = {n.line for n in doc.notices.items}
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped and number not in covered | noticed:
            assert HEADER_OR_TAG.fullmatch(stripped) or stripped in "[]{}", (number, line)


# ------------------------------------------------ hits against an independent reading

# The header tags of each fixture, as the fixture's author knows them: name -> (speaker, model).
SPEAKERS = {
    MIXED: {"Claude 1": ("Claude 1", OPUS_3), "claude-opus-4": ("claude-opus-4", OPUS_4)},
    UNTAGGED: {"Claude 1": ("Claude 1", OPUS_3), "Claude 2": ("Claude 2", SONNET_35)},
    FRAGMENT: {"claude-explorer": ("claude-explorer", OPUS_3),
               "claude-simulator": ("claude-simulator", SONNET_3)},
    FLATTENED: {"Claude 1": ("Claude 1", OPUS_3), "Claude 2": ("Claude 2", OPUS_3)},
}
OPENERS = {UNTAGGED: "Claude 1", FRAGMENT: "claude-explorer"}


def independent_reading(name: str, text: str, inline: bool) -> list[tuple[str, str, str, bool, str]]:
    """(speaker, model, role, inferred, text) of each segment, cut at the fixture's known tags."""
    speakers = SPEAKERS[name]
    names = "|".join(map(re.escape, speakers))
    tag = rf"<((?:{names})(?:-[\w.-]+)?#(?:SYSTEM|CONTEXT)|{names})>"
    tags = list(re.finditer(tag if inline else rf"^{tag}[ \t]*$", text, re.MULTILINE))
    segments = []
    for found, following in zip(tags, tags[1:] + [None]):
        body = text[found.end() : following.start() if following else len(text)]
        label = found.group(1)
        actor = next(n for n in sorted(speakers, key=len, reverse=True) if label.startswith(n))
        speaker, model = speakers[actor]
        if label.endswith("#SYSTEM"):
            segments.append((speaker, model, "system", False, body))
        elif label.endswith("#CONTEXT"):
            block = re.sub(r",(\s*[\]}])", r"\1", body.strip())
            messages, end = json.JSONDecoder(strict=False).raw_decode(block)
            segments += [(speaker, model, "context", False, m["content"]) for m in messages]
            rest = block[end:].strip()
            if rest and following is not None and "#" not in following.group(1):
                opener = OPENERS[name]
                segments.append((opener, speakers[opener][1], "spoken", True, rest))
        else:
            segments.append((speaker, model, "spoken", False, body))
    return segments


def expected_hits(segments) -> Counter:
    return Counter(
        (speaker, model, role, inferred, phrase)
        for speaker, model, role, inferred, body in segments
        for phrase in PHRASES
        for _ in re.finditer(phrase, body, re.IGNORECASE)
    )


def scan_hits(path: Path, patterns: Path, *options: str) -> dict:
    result = CliRunner().invoke(main, ["scan", str(path), "-p", str(patterns), "--role", "all",
                                       "--count-replays", "-f", "json", "--hits", *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", list(SPEAKERS) + [MIXED_PAGE])
def test_hits_per_speaker_model_role_and_inferred_flag_match_an_independent_reading(name, tmp_path):
    patterns = tmp_path / "layouts.yaml"
    patterns.write_text(PATTERNS, encoding="utf-8")
    raw = (FIXTURES / name).read_text(encoding="utf-8")
    if name.endswith(".html"):
        pre = re.search(r'<pre class="dream">(.*)</pre>', raw, re.DOTALL).group(1)
        segments = independent_reading(MIXED, html.unescape(pre.replace("<br>", "\n")), False)
    else:
        segments = independent_reading(name, raw, inline=name == FLATTENED)
    expected = expected_hits(segments)
    summary = scan_hits(FIXTURES / name, patterns, "--by", "speaker", "--by", "model")
    found = Counter((h["speaker"], h["model"], h["role"], h["speaker_inferred"], h["pattern"])
                    for h in summary["hits"])
    assert found == expected and sum(expected.values()) > 0
    for dimension, index in (("speaker", 0), ("model", 1)):
        per_value = Counter()
        for key, count in expected.items():
            per_value[key[index]] += count
        assert {row["value"]: row["hits"] for row in summary["by"][dimension]
                if row["hits"]} == dict(per_value)
    read = {role: count for role, count in summary["turns"].items() if count}
    assert read == dict(Counter(role for _, _, role, _, body in segments if body.strip()))


# ------------------------------------------------ hostile lines stay linear


def hostile_prompt_tag(n: int) -> str:
    return "<" + "-claude" * n + " x#SYSTEM>\nhello\n<a>\nhi\n"


def hostile_chrome(n: int) -> str:
    return "conversation_1_scenario_" * n + " infinite backrooms\n<a>\nhi\n<b>\nyo\n"


def hostile_tag_pairs(n: int) -> str:
    return "".join(f"<speaker-{k}>\nline\n<other-{k}>\nline\n" for k in range(n)) * 2


def hostile_unbalanced_contexts(n: int) -> str:
    return "actors: a, b\n" + "<a#CONTEXT>\n[ [ \"\n" * n + "<a>\nhi\n"


def hostile_inline_tags(n: int) -> str:
    return "actors: a, b\n" + "<a>hi <b>yo <OOC> " * n


def seconds_to_load(text: str) -> float:
    doc = Document.from_bytes("x.txt", text.encode())
    doc.read_text()
    start = time.perf_counter()
    list(load_text(doc))
    return time.perf_counter() - start


@pytest.mark.parametrize(("build", "size"), [
    (hostile_prompt_tag, 5_000),  # issue: 50,000 took 132 s
    (hostile_chrome, 20_000),  # 200,000 ran past 180 s
    (hostile_tag_pairs, 5_000),  # 200,000 in 5 MB ran past 180 s
    (hostile_unbalanced_contexts, 5_000),
    (hostile_inline_tags, 5_000),
])
def test_hostile_lines_take_linear_time(build, size):
    small = min(seconds_to_load(build(size)) for _ in range(2))
    large = min(seconds_to_load(build(4 * size)) for _ in range(2))
    # Four times the input: about four times the work; a quadratic reading would take 16.
    assert large < 10 * small + 0.05, (small, large)
    assert large < 5.0
