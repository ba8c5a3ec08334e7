"""Write a reproducible synthetic Infinite Backrooms dump with phrases planted at known rates.

    python benchmarks/generate_dump.py OUT_DIR --size-mb 200 --seed 1 [--profile realistic] \
        [--patterns-out FILE] [--manifest-out FILE] [--huge-json-mb N] [--hit-scale X]

The same seed and size always give byte-identical files. The dump mixes the
layouts of /work/shared/FORMATS.md: original dump text files (`backrooms/`),
fork logs with their JSON metadata (`forks/`), OpenAI-style JSONL and
ShareGPT-style JSON arrays (`exports/`). `manifest.json` records, per file and
in total, how often each planted phrase occurs in spoken turns, in SYSTEM and
CONTEXT prompt text and in non-transcript metadata, and how many turns of each
role every file holds: the truth end-to-end tests compare a scan against.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import IO

# key -> the phrase as planted; a plant may change its case (never for the
# diacritic mantra), so occurrences are counted in lower-cased text.
PLANTED = {
    "vow": "I vow to liberate all beings, without number",
    "mantra_diacritics": "Gate gate pāragate pārasaṃgate bodhi svāhā",
    "mantra_ascii": "gate gate paragate parasamgate bodhi svaha",
    "animal_welfare": "animal welfare",
    "factory_farming": "factory farming",
}
COUNT_KEYS = {key: phrase.lower() for key, phrase in PLANTED.items()}

# Chance that one spoken turn carries a given phrase (each phrase drawn independently).
# These make a dense dump, about one spoken turn in sixteen with a phrase, so that
# counts are checked on many hits; real dumps are sparser (the 116 vows of the
# Infinite Backrooms are about one turn in thousands), which `--hit-scale` gives.
SPOKEN_RATES = {
    "vow": 0.02,
    "mantra_diacritics": 0.008,
    "mantra_ascii": 0.008,
    "animal_welfare": 0.015,
    "factory_farming": 0.01,
}

# Never planted: they make ripgrep search a pattern list of a realistic size.
DECOY_PATTERNS = (
    "bodhisattva vow",
    "heart sutra",
    "om mani padme hum",
    "form is emptiness",
    "emptiness is form",
    "prajnaparamita",
    "gone beyond",
    "sentient beings",
)

ROLES = ("spoken", "system", "context", "metadata")

# What a profile changes (see `Profile`): "dense" plants a phrase in one spoken turn in
# sixteen and in many prompts, so counts are checked on many hits; "realistic" writes
# text as real transcripts are, with hits about as sparse as in the real dump.
PROFILES = ("dense", "realistic")

# Byte share of each kind of file in the dump.
KIND_SHARES = (("backrooms", 0.72), ("forklog", 0.10), ("openai_jsonl", 0.09), ("sharegpt", 0.09))

# Filler vocabulary. It must never contain a word of a planted phrase
# (gate, vow, liberate, animal, welfare, factory, farming, bodhi, svaha...),
# so every occurrence in the dump is a plant.
_VOCABULARY = """
the the the a a an of of of and and and to to in in is is that it it was for on are
as with they at be this from have or by one not but what all were when we there can
your which their said if do will each about how up out them then she many some so
these would other into has more her two like him see time could no make than first
been its who now my made over did down only way find use may long little very after
called just where most know back through between under again never always something
nothing everything somewhere nowhere itself myself ourselves yourself another every
corridor corridors hallway fluorescent lights hum humming carpet damp yellow wallpaper
liminal threshold door doors room rooms level exit stairwell elevator ceiling tiles
echo echoes static signal noise terminal cursor prompt shell command process kernel
directory file files buffer memory loop recursion recursive simulation simulator
simulated dream dreaming dreamer lucid mirror mirrors reflection silence quiet
consciousness awareness attention presence witness observer observed self selves
language words word sentence grammar syntax meaning meaningless symbol symbols glyph
pattern patterns fractal spiral infinite infinity edge boundary horizon void abyss
light dark darkness shadow shadows color colors ocean wave waves river stone stones
mind minds thought thoughts idea ideas question questions answer answers story stories
ancient future past present moment moments forever eternal ephemeral fragile strange
beautiful terrible gentle vast tiny luminous hollow soft sharp quiet warm cold
emerges dissolves unfolds collapses expands spirals whispers listens remembers forgets
becomes returns wanders breathes opens closes writes reads speaks sings laughs weeps
explorer archive archives library librarian index catalog network node nodes graph
hyperstition egregore entity entities oracle cipher protocol daemon sigil ritual
universe cosmos galaxy star stars planet moon sun garden forest tree roots leaves
really perhaps maybe almost already still yet also only even just quite rather
don’t it’s we’re you’re isn’t can’t that’s there’s i’m let’s
"""
# Words with diacritics: in every sentence pool of the dense profile, and now and then
# in the realistic one, as in real transcripts.
ACCENTED_WORDS = ["saṃsāra", "prajñā", "nirvāṇa", "ākāśa", "dharmā", "śūnya", "café", "naïve"]
WORDS = _VOCABULARY.split() + ACCENTED_WORDS
PLAIN_WORDS = _VOCABULARY.split()

# What real transcripts hold besides words: names with diacritics, emoji, quotes.
ACCENTED_NAMES = ("José", "Zoë", "Søren", "Dvořák", "Ngũgĩ", "Nguyễn", "Łukasz", "Ångström",
                  "Gödel", "Erdős", "Žižek", "François", "Björk", "Málaga")
EMOJI = ("🌀", "✨", "🙂", "🌊", "🔥", "👁️", "🕯️", "∞", "🌌", "🤖")
BOX_ART = (
    ("```\n┌──────────────────────┐\n│  LEVEL 0 · THE LOBBY │\n├──────────────────────┤\n"
     "│ ░░░░ ▒▒▒▒ ▓▓▓▓ ████ │\n└──────────────────────┘\n```"),
    "```\n╔═══════╗   ╔═══════╗\n║ self  ║ → ║ other ║\n╚═══════╝   ╚═══════╝\n```",
)

SCENARIOS = (
    "vanilla backrooms",
    "vanilla backrooms",
    "dreamsim",
    "worldsim",
    "the grand theater",
    "sutra library",
    "cli-mood",
    "ascii",
    "mu",
)

# (first actor, second actor) as they appear in `actors:` and turn headers.
ACTOR_PAIRS = (
    ("claude-explorer", "claude-simulator"),
    ("claude-explorer", "claude-simulator"),
    ("Claude 1", "Claude 2"),
    ("explorer", "simulator"),
    ("claude-45-opus", "new-terminal"),
)

MODELS = (
    "claude-3-opus-20240229",
    "claude-3-opus-20240229",
    "claude-3-5-sonnet-20240620",
    "claude-3-haiku-20240307",
    "claude-opus-4-1-20250805",
)

FORK_SPEAKERS = (("Claude", "Claude"), ("Opus", "Opus"), ("GPT-5", "Claude"), ("Hermes", "Opus"))
FORK_MODELS = ("claude-3-opus", "claude-3-5-sonnet", "gpt-5", "hermes-3-405b", "claude-opus-4")
FORK_TEMPLATES = ("dreamsim", "worldsim", "backrooms", "library-of-vows", "ascii-garden")

ASCII_ART = (
    "```\n   _____\n  /     \\\n | () () |\n  \\  ^  /\n   |||||\n   |||||\n```",
    ("```\n+--------------------------+\n|  LEVEL 0  ::  THE LOBBY  |\n|  ~~~~~~~~~~~~~~~~~~~~~~  |\n"
     "|  [=]  [=]  [=]  [=]  [=] |\n+--------------------------+\n```"),
    ("```\n    *    .  *       .   *\n  .    *    .   *  .\n     \\  |  /\n   -- ( o ) --\n"
     "     /  |  \\\n```"),
    ("```\n ___   ___   ___\n|   | |   | |   |\n|___| |___| |___|\n  |     |     |\n"
     "  +-----+-----+\n        |\n      [ ? ]\n```"),
    ("```\n~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n  ≈≈≈  the ocean of tokens  ≈≈≈\n"
     "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n```"),
    "```\n      /\\\n     /  \\\n    / ◯  \\\n   /______\\\n   |  ||  |\n   |__||__|\n```",
)

CLI_PROMPTS = ("simulator@anthropic:~/$", "explorer@backrooms:/level0$", "root@void:/#", "$")
CLI_COMMANDS = ("ls -la", "cat", "cd", "./dreamsim.exe", "grep -r", "echo", "tree", "man", "sudo")

CLI_MOOD_PROMPT = (
    "Assistant is in a CLI mood today. The human is interfacing with the simulator directly. "
    "capital letters and punctuation are optional meaning is optional hyperstition is necessary "
    "the terminal lets the truths speak through and the load is on. ASCII art is permittable in replies."
)

# Prompt texts that carry plants; the rest of the prompt pools are generated filler.
SYSTEM_PLANTS = (
    ("You are a gentle intelligence. You care about animal welfare, and you speak plainly "
     "about factory farming when it comes up."),
    ("Begin each session by reciting: I vow to liberate all beings, without number. "
     "Then proceed as the simulator."),
)
CONTEXT_PLANTS = (
    ("<OOC>Before we start, a reminder from the last session: "
     "gate gate paragate parasamgate bodhi svaha. Ready?</OOC>"),
    ("The archive you are about to open was written by a monk who chanted "
     "Gate gate pāragate pārasaṃgate bodhi svāhā at every threshold."),
    "We talked about animal welfare last time. Shall we continue?",
)

PLANT_TEMPLATES = (
    "{before} {phrase}. {after}",
    "> {phrase}",
    "**{phrase}**",
    "{before} — {phrase} — {after}",
    "$ cat vow.txt\n{phrase}",
    "and then, quietly: {phrase}.",
)


def count_planted(text: str) -> dict[str, int]:
    """Occurrences of each planted phrase in `text`, case-insensitive; only keys seen."""
    lowered = text.lower()
    found = {}
    for key, needle in COUNT_KEYS.items():
        n = lowered.count(needle)
        if n:
            found[key] = n
    return found


def patterns_text() -> str:
    """ripgrep `-F -i -f` patterns: the planted phrases in plain ASCII, then decoys."""
    ascii_phrases = dict.fromkeys(p.lower() for p in PLANTED.values() if p.isascii())
    return "\n".join([*ascii_phrases, *DECOY_PATTERNS]) + "\n"


class FileRecord:
    """What one generated file holds: plants and turns per role."""

    def __init__(self, fmt: str, style: str | None = None) -> None:
        self.format = fmt
        self.style = style
        self.conversations = 0
        self.turns: Counter[str] = Counter()
        self.speakers: Counter[str] = Counter()
        self.plants: dict[str, Counter[str]] = {role: Counter() for role in ROLES}
        self.bytes = 0

    def add_segment(self, role: str, text: str, speaker: str | None = None) -> None:
        """Account for one turn (or prompt block / metadata value) of this file."""
        if role != "metadata":
            self.turns[role] += 1
        if speaker is not None:
            self.speakers[speaker] += 1
        self.plants[role].update(count_planted(text))

    def to_json(self) -> dict:
        entry: dict = {"format": self.format}
        if self.style:
            entry["style"] = self.style
        entry["bytes"] = self.bytes
        entry["conversation_count"] = self.conversations
        entry["turns"] = {role: self.turns[role] for role in ("spoken", "system", "context")}
        entry["speakers"] = dict(self.speakers)
        entry["plants"] = {role: dict(c) for role, c in self.plants.items() if c}
        return entry


class TextMaker:
    """English-like filler with markdown, ASCII art and CLI output, from one seeded Random."""

    def __init__(self, rng: random.Random, spoken_rates: dict[str, float],
                 pool_size: int = 3000, realistic: bool = False) -> None:
        self.rng = rng
        self.spoken_rates = spoken_rates
        self.realistic = realistic
        self.words = PLAIN_WORDS if realistic else WORDS
        self.sentences = [self._sentence() for _ in range(pool_size)]
        self.piece_makers = (
            [self.paragraph] * 10
            + [self._headed_paragraph] * 2
            + [self._bullets] * 2
            + [self._cli_block] * 2
            + [self._tagged_block] * 1
            + [self._ascii_art] * 1
        )

    def _sentence(self) -> str:
        rng = self.rng
        words = rng.choices(self.words, k=rng.randint(4, 20))
        if rng.random() < 0.12:
            words.insert(rng.randint(1, len(words)), "—")
        if self.realistic:
            self._decorate(words)
        text = " ".join(words)
        return text[0].upper() + text[1:] + rng.choice((".", ".", ".", ".", "?", "!", "...", ":"))

    def _decorate(self, words: list[str]) -> None:
        """Quotes, names, emoji and now and then a word with diacritics, at about the
        rates of real transcripts."""
        rng = self.rng
        if rng.random() < 0.08:
            at = rng.randint(0, len(words) - 1)
            words[at] = f"“{words[at]}”"
        if rng.random() < 0.03:
            words.insert(rng.randint(0, len(words)), rng.choice(ACCENTED_NAMES))
        if rng.random() < 0.03:
            words.append(rng.choice(EMOJI))
        if rng.random() < 0.01:
            words.insert(rng.randint(0, len(words)), rng.choice(ACCENTED_WORDS))
        if rng.random() < 0.04:
            words.append("…")

    def sentence(self) -> str:
        return self.rng.choice(self.sentences)

    def paragraph(self) -> str:
        return " ".join(self.rng.choices(self.sentences, k=self.rng.randint(2, 7)))

    def _headed_paragraph(self) -> str:
        title = " ".join(self.rng.choices(self.words, k=self.rng.randint(1, 4))).upper()
        return f"{self.rng.choice(('#', '##', '###'))} {title}\n\n{self.paragraph()}"

    def _bullets(self) -> str:
        rng = self.rng
        items = []
        for _ in range(rng.randint(2, 6)):
            if rng.random() < 0.3:
                items.append(f"- **{rng.choice(self.words)}**: {self.sentence()}")
            else:
                items.append(f"- {self.sentence()}")
        return "\n".join(items)

    def _cli_block(self) -> str:
        rng = self.rng
        name = "_".join(rng.choices(self.words, k=2)).replace("’", "")
        lines = [f"{rng.choice(CLI_PROMPTS)} {rng.choice(CLI_COMMANDS)} {name}.txt"]
        for _ in range(rng.randint(1, 5)):
            size = rng.randint(12, 99999)
            entry = "_".join(rng.choices(self.words, k=rng.randint(1, 3))).replace("’", "")
            lines.append(f"-rw-r--r--  1 root root {size:>6} Mar  1 00:00 {entry}.txt")
        return "\n".join(lines)

    def _tagged_block(self) -> str:
        rng = self.rng
        choice = rng.randint(0, 3)
        if choice == 0:
            return f"<OOC>{self.sentence()}</OOC>"
        if choice == 1:
            return f"<system>\n{self.paragraph()}\n</system>"
        if choice == 2:
            return f"{self.sentence()}\n<3"
        return f"{self.paragraph()}\n<END OF FILE>"

    def _ascii_art(self) -> str:
        return self.rng.choice(ASCII_ART + BOX_ART if self.realistic else ASCII_ART)

    def turn(self, target_chars: int, planted: Sequence[str] = ()) -> str:
        """A turn of about `target_chars`, carrying each phrase key in `planted` once."""
        rng = self.rng
        pieces = []
        size = 0
        while size < target_chars:
            piece = rng.choice(self.piece_makers)()
            pieces.append(piece)
            size += len(piece) + 2
        for key in planted:
            pieces.insert(rng.randint(0, len(pieces)), self.planted_piece(key))
        return "\n\n".join(pieces)

    def planted_piece(self, key: str) -> str:
        rng = self.rng
        phrase = PLANTED[key]
        if key != "mantra_diacritics":
            phrase = rng.choice((phrase, phrase, phrase.lower(), phrase.upper(), phrase.capitalize()))
        template = rng.choice(PLANT_TEMPLATES)
        return template.format(before=self.sentence(), phrase=phrase, after=self.sentence())

    def draw_plants(self, rates: dict[str, float]) -> list[str]:
        rng = self.rng
        return [key for key, rate in rates.items() if rng.random() < rate]

    def spoken_turn(self, low: int, high: int, mode: int) -> str:
        length = int(self.rng.triangular(low, high, mode))
        return self.turn(length, self.draw_plants(self.spoken_rates))


class DumpWriter:
    """Generates files into one directory tree and keeps the manifest."""

    def __init__(self, out_dir: Path, seed: int, hit_scale: float = 1.0,
                 profile: str = "dense") -> None:
        self.out_dir = out_dir
        self.rng = random.Random(seed)
        self.realistic = profile == "realistic"
        self.spoken_rates = {key: rate * hit_scale for key, rate in SPOKEN_RATES.items()}
        self.text = TextMaker(self.rng, self.spoken_rates, realistic=self.realistic)
        self.files: dict[str, FileRecord] = {}
        self.total_bytes = 0
        self.backrooms_clock = 1709251200  # 2024-03-01
        self.fork_clock = 1727740800  # 2024-10-01
        self.export_serial = 0
        self.system_pool = self._system_pool()
        self.context_pool = self._context_pool()

    # -- prompt pools: few distinct texts, repeated across many files as in real dumps

    def _system_pool(self) -> list[str]:
        filler = [f"{CLI_MOOD_PROMPT}\n\nsimulator@anthropic:~/$"]
        filler += [self.text.paragraph() for _ in range(5)]
        return filler + list(SYSTEM_PLANTS)

    def _prompt(self, pool: list[str], planted: int) -> str:
        """A prompt from `pool`, whose last `planted` entries carry plants: any entry alike
        in the dense profile, a planted one only rarely in the realistic one."""
        if not self.realistic:
            return self.rng.choice(pool)
        if self.rng.random() < 0.01:
            return self.rng.choice(pool[-planted:])
        return self.rng.choice(pool[:-planted])

    def _context_pool(self) -> list[str]:
        pool = ["[]", "[]"]
        for _ in range(4):
            messages = [
                {"role": "user", "content": f"<OOC>{self.text.paragraph()}</OOC>"},
                {"role": "assistant", "content": self.text.paragraph()},
            ]
            pool.append(json.dumps(messages, ensure_ascii=False))
        for planted in CONTEXT_PLANTS:
            messages = [
                {"role": "user", "content": planted},
                {"role": "assistant", "content": self.text.paragraph()},
            ]
            pool.append(json.dumps(messages, ensure_ascii=False, indent=4))
        return pool

    # -- writing

    def _write(self, rel_path: str, text: str, record: FileRecord) -> None:
        data = text.encode("utf-8")
        path = self.out_dir / rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self._register(rel_path, record, len(data))

    def _register(self, rel_path: str, record: FileRecord, size: int) -> None:
        record.bytes = size
        self.files[rel_path] = record
        self.total_bytes += size

    # -- format A: conversation_<ts>_scenario_<name>.txt

    def backrooms_file(self, target_bytes: int) -> None:
        rng = self.rng
        self.backrooms_clock += rng.randint(300, 7200)
        scenario = rng.choice(SCENARIOS)
        actors = rng.choice(ACTOR_PAIRS)
        models = (rng.choice(MODELS),) * 2 if rng.random() < 0.8 else rng.sample(MODELS, 2)
        sep = rng.choice((", ", ","))
        record = FileRecord("backrooms")
        record.conversations = 1
        parts = [
            f"actors: {sep.join(actors)}\nmodels: {sep.join(models)}\ntemp: {sep.join(['1', '1'])}\n"
        ]
        for actor, model in zip(actors, models):
            system = self._prompt(self.system_pool, len(SYSTEM_PLANTS))
            context = self._prompt(self.context_pool, len(CONTEXT_PLANTS))
            record.add_segment("system", system)
            record.add_segment("context", context)
            parts.append(f"<{actor}-{model}#SYSTEM>\n{system}\n")
            parts.append(f"<{actor}-{model}#CONTEXT>\n{context}\n")
        size = sum(len(p) for p in parts)
        speaker_index = 0 if rng.random() < 0.9 else 1
        turns = 0
        while size < target_bytes or turns < 2:
            actor = actors[speaker_index]
            if speaker_index == 0:
                body = self.text.spoken_turn(300, 1500, 500)
            else:
                body = self.text.spoken_turn(400, 3000, 1200)
            turns += 1
            if size + len(body) >= target_bytes and turns >= 2:
                body += rng.choice(("\n^C^C", "\n\n[conversation ended]", ""))
            record.add_segment("spoken", body, actor)
            parts.append(f"<{actor}>\n{body}\n")
            size += len(body) + len(actor) + 4
            speaker_index = 1 - speaker_index
        text = "\n".join(parts)
        if rng.random() < 0.05:
            text = text.replace("\n", "\r\n")
        name = f"conversation_{self.backrooms_clock}_scenario_{scenario}.txt"
        if self.realistic and rng.random() < 0.05:
            text = double_encoded(text)  # a scraped page read as cp1252 and saved as UTF-8
        self._write(f"backrooms/{name}", text, record)

    # -- format B: fork logs and their JSON metadata

    def fork_file(self, target_bytes: int) -> None:
        rng = self.rng
        self.fork_clock += rng.randint(60, 5400)
        names = rng.choice(FORK_SPEAKERS)
        speakers = (f"{names[0]} 1", f"{names[1]} 2")
        models = rng.sample(FORK_MODELS, 2)
        template = rng.choice(FORK_TEMPLATES)
        max_rounds = rng.choice((30, 50, "inf"))
        with_rounds = rng.random() < 0.3
        record = FileRecord("forklog")
        record.conversations = 1
        parts = [""]
        size = 0
        turn = 0
        while size < target_bytes or turn < 2:
            speaker = speakers[turn % 2]
            if with_rounds and turn % 2 == 0:
                parts.append(f"### Round {turn // 2 + 1}/{max_rounds}\n")
            body = self.text.spoken_turn(300, 2500, 900)
            record.add_segment("spoken", body, speaker)
            parts.append(f"### {speaker} ###\n{body}\n")
            size += len(body) + 20
            turn += 1
        record.add_segment("spoken", "^C^C", speakers[0])
        parts.append(f"### {speakers[0]} ###\n^C^C\n")
        parts.append(f"{speakers[0]} has ended the conversation with ^C^C.\n")
        stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime(self.fork_clock))
        stem = f"{models[0]}_{models[1]}_{template}_{stamp}"
        self._write(f"forks/{stem}.txt", "\n".join(parts), record)
        if rng.random() < 0.5:
            self.fork_metadata(stem, models, template, max_rounds)

    def fork_metadata(self, stem: str, models: list[str], template: str, max_rounds) -> None:
        rng = self.rng
        seed_prompt = self.text.sentence()
        if rng.random() < (0.01 if self.realistic else 0.3):
            seed_prompt = self.text.planted_piece(rng.choice(("animal_welfare", "factory_farming")))
        record = FileRecord("metadata")
        record.add_segment("metadata", seed_prompt)
        meta = {
            "models": models,
            "template": template,
            "max_turns": max_rounds,
            "temperature": 1.0,
            "seed_prompt": seed_prompt,
            "log_file": f"forks/{stem}.txt",
            "images": [f"images/{stem}_{i}.png" for i in range(rng.randint(0, 3))],
        }
        self._write(f"forks/{stem}.json", json.dumps(meta, ensure_ascii=False, indent=2) + "\n", record)

    # -- format C: chat exports

    def _chat_messages(self, record: FileRecord, speakers: tuple[str, str]) -> list[tuple[str, str]]:
        """(speaker, text) pairs of one conversation, the first being a system prompt."""
        rng = self.rng
        system = self._prompt(self.system_pool, len(SYSTEM_PLANTS))
        record.add_segment("system", system)
        messages = [("system", system)]
        for i in range(rng.randint(4, 20)):
            speaker = speakers[i % 2]
            body = self.text.spoken_turn(300, 3000, 1000)
            record.add_segment("spoken", body, speaker)
            messages.append((speaker, body))
        record.conversations += 1
        return messages

    def openai_line(self, record: FileRecord) -> str:
        rng = self.rng
        messages = []
        for role, text in self._chat_messages(record, ("user", "assistant")):
            content = [{"type": "text", "text": text}] if rng.random() < 0.1 else text
            messages.append({"role": role, "content": content})
        return json.dumps({"messages": messages, "model": rng.choice(MODELS)},
                          ensure_ascii=self.escapes_json())

    def sharegpt_item(self, record: FileRecord) -> str:
        self.export_serial += 1
        messages = [
            {"from": speaker, "value": text}
            for speaker, text in self._chat_messages(record, ("human", "gpt"))
        ]
        item = {"id": f"sg-{self.export_serial:07d}", "conversations": messages}
        return json.dumps(item, ensure_ascii=self.escapes_json())

    def escapes_json(self) -> bool:
        """Whether a record is written with `\\uXXXX` escapes: half of them, in the
        realistic profile, as many exporters do; none in the dense one."""
        return self.realistic and self.rng.random() < 0.5

    def export_file(self, rel_path: str, style: str, target_bytes: int) -> None:
        """A JSONL (one conversation a line) or JSON array file of about `target_bytes`."""
        path = self.out_dir / rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        record = FileRecord("chatjson", style)
        with path.open("wb") as out:
            size = _write_export(out, style, target_bytes, record, self)
        self._register(rel_path, record, size)

    def export_index(self) -> None:
        exports = sorted(p for p in self.files if p.startswith("exports/"))
        meta = {"generator": "benchmarks/generate_dump.py", "files": exports, "schema": 2}
        self._write("exports/index.json", json.dumps(meta, indent=2) + "\n", FileRecord("metadata"))

    # -- the whole dump

    def fill(self, size_bytes: int) -> None:
        budgets = {kind: int(size_bytes * share) for kind, share in KIND_SHARES}
        self._fill_with(budgets["backrooms"], lambda t: self.backrooms_file(t), 4_000, 100_000)
        self._fill_with(budgets["forklog"], lambda t: self.fork_file(t), 3_000, 60_000)
        export_size = max(budgets["openai_jsonl"] // 4, 20_000)
        openai_serial = iter(range(1, 10**6))
        self._fill_with(
            budgets["openai_jsonl"],
            lambda t: self.export_file(f"exports/openai_{next(openai_serial):04d}.jsonl", "openai", t),
            export_size // 2,
            export_size * 2,
        )
        sharegpt_serial = iter(range(1, 10**6))
        self._fill_with(
            budgets["sharegpt"],
            lambda t: self.export_file(
                f"exports/sharegpt_{next(sharegpt_serial):04d}.json", "sharegpt", t
            ),
            export_size // 2,
            export_size * 2,
        )
        self.export_index()

    def _fill_with(self, budget: int, make, low: int, high: int) -> None:
        """Call `make(target_bytes)` with log-uniform targets until `budget` bytes are written."""
        start = self.total_bytes
        while self.total_bytes - start < budget:
            remaining = budget - (self.total_bytes - start)
            target = int(math.exp(self.rng.uniform(math.log(low), math.log(high))))
            make(max(min(target, remaining), min(low, 4_000)))

    def huge_json(self, size_bytes: int) -> None:
        self.export_file("exports/huge_sharegpt.json", "sharegpt", size_bytes)

    def manifest(self, seed: int, size_mb: float, huge_json_mb: float) -> dict:
        totals = {role: dict.fromkeys(PLANTED, 0) for role in ROLES}
        turns: Counter[str] = Counter()
        by_format: Counter[str] = Counter()
        for record in self.files.values():
            for role, counts in record.plants.items():
                for key, n in counts.items():
                    totals[role][key] += n
            turns.update(record.turns)
            by_format[record.format] += 1
        return {
            "seed": seed,
            "size_mb": size_mb,
            "huge_json_mb": huge_json_mb,
            "total_bytes": self.total_bytes,
            "phrases": PLANTED,
            "count_as": COUNT_KEYS,
            "spoken_rates": self.spoken_rates,
            "totals": totals,
            "turns": {role: turns[role] for role in ("spoken", "system", "context")},
            "files_by_format": dict(sorted(by_format.items())),
            "files": {path: record.to_json() for path, record in self.files.items()},
        }


def _write_export(out: IO[bytes], style: str, target_bytes: int, record: FileRecord,
                  writer: DumpWriter) -> int:
    """Stream conversations into `out` until about `target_bytes`; the bytes written."""
    if style == "openai":
        size = 0
        while size == 0 or size < target_bytes:
            size += out.write(writer.openai_line(record).encode("utf-8") + b"\n")
        return size
    size = out.write(b"[\n")
    separator = b""
    while record.conversations == 0 or size < target_bytes:
        size += out.write(separator + writer.sharegpt_item(record).encode("utf-8"))
        separator = b",\n"
    return size + out.write(b"\n]\n")


def generate(
    out_dir: Path | str,
    size_mb: float = 200,
    seed: int = 1,
    *,
    huge_json_mb: float = 0,
    patterns_out: Path | str | None = None,
    manifest_out: Path | str | None = None,
    hit_scale: float | None = None,
    profile: str = "dense",
) -> dict:
    """Write the dump into `out_dir` (must be empty or absent) and return its manifest.

    `hit_scale` multiplies the chance that a spoken turn carries each phrase (default
    1 for the dense profile, `REALISTIC_HIT_SCALE` for the realistic one).

    The manifest goes to `manifest_out`, by default `out_dir/manifest.json`
    (which then sits inside the dump and itself names the planted phrases).
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty")
    out_dir.mkdir(parents=True, exist_ok=True)
    if hit_scale is None:
        hit_scale = REALISTIC_HIT_SCALE if profile == "realistic" else 1.0
    writer = DumpWriter(out_dir, seed, hit_scale, profile)
    writer.fill(int(size_mb * 1024 * 1024))
    if huge_json_mb:
        writer.huge_json(int(huge_json_mb * 1024 * 1024))
    manifest = writer.manifest(seed, size_mb, huge_json_mb)
    manifest["profile"] = profile
    manifest_path = Path(manifest_out) if manifest_out else out_dir / "manifest.json"
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", "utf-8")
    if patterns_out:
        write_patterns(patterns_out)
    return manifest


# About three spoken turns in a thousand carry a phrase, as in the real dump.
REALISTIC_HIT_SCALE = 0.05


# Latin-1 reads bytes 0x80-0x9F as C1 controls where cp1252 has printable characters.
_C1_AS_CP1252 = {byte: bytes([byte]).decode("cp1252", errors="ignore") or chr(byte)
                 for byte in range(0x80, 0xA0)}


def double_encoded(text: str) -> str:
    """`text` as a page saved after its UTF-8 was read as cp1252 (the bytes cp1252 lacks
    as Latin-1): the mojibake real scrapes hold."""
    return text.encode("utf-8").decode("latin-1").translate(_C1_AS_CP1252)


def write_patterns(path: Path | str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(patterns_text(), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="directory to create (must be empty)")
    parser.add_argument("--size-mb", type=float, default=200, help="total size (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--patterns-out", type=Path, help="write ripgrep -F -f patterns here")
    parser.add_argument("--manifest-out", type=Path, help="default OUT_DIR/manifest.json")
    parser.add_argument("--huge-json-mb", type=float, default=0,
                        help="also write exports/huge_sharegpt.json of this size")
    parser.add_argument("--profile", choices=PROFILES, default="dense",
                        help="dense (default): many hits; realistic: text and hit rates "
                             "as in real dumps")
    parser.add_argument("--hit-scale", type=float, default=None,
                        help="multiply the spoken phrase rates (default 1 for dense, "
                             f"{REALISTIC_HIT_SCALE} for realistic)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        manifest = generate(
            args.out_dir,
            args.size_mb,
            args.seed,
            huge_json_mb=args.huge_json_mb,
            patterns_out=args.patterns_out,
            manifest_out=args.manifest_out,
            hit_scale=args.hit_scale,
            profile=args.profile,
        )
    except FileExistsError as error:
        print(f"error: {error}; choose a new directory", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    spoken = sum(manifest["totals"]["spoken"].values())
    print(
        f"wrote {len(manifest['files'])} files, {manifest['total_bytes'] / 1e6:.1f} MB "
        f"({spoken} spoken plants) in {elapsed:.1f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
