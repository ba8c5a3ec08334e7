"""YAML pattern sets -> validated, immutable `PatternSet` objects.

A pattern file is one YAML mapping::

    name: bodhisattva-vow            # required, unique among the sets of a scan
    description: The four great vows
    sources: [where the renderings come from]
    tags: [buddhism]                 # optional, free labels
    languages: [en, ko, zh, ja]      # optional
    notes: free text for humans      # optional, ignored
    patterns:                        # required, not empty
      - without number               # a bare phrase; its id is "without-number"
      - id: beings-are-numberless
        phrases: [Beings are numberless, Beings are without number]
        word: true                   # only whole words (see normalize.is_whole_word)
      - id: liberate-all-beings
        phrase: I vow to liberate all beings
        exact: true                  # raw, case-sensitive text, no folding
      - id: vow-recitation           # a recitation rule: all phrases within
        all_of: [liberate all beings, without number]   # 200 folded characters
        within: 200

Files are read with PyYAML's safe loader, as nodes, so every error can name its
line and column; tags other than the plain YAML types, and anchors/aliases, are
refused outright. So are files beyond `PatternLimits`: nesting deeper than
`max_depth`, more than `max_phrases` phrases, a phrase longer than
`max_phrase_chars` characters, `within` above `max_within`.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import ahocorasick
import yaml

from backrooms_scan.normalize import fold, is_whole_word

__all__ = [
    "Pattern",
    "PatternError",
    "PatternLimits",
    "PatternSet",
    "UnknownPatternSet",
    "check_pattern_file",
    "load_pattern_set",
    "load_pattern_sets",
    "shipped_patterns_dir",
    "shipped_sets",
    "unknown_key_message",
]


@dataclass(frozen=True)
class Pattern:
    """One thing to count: any of `phrases`, or a recitation rule (`all_of` + `within`)."""

    id: str
    phrases: tuple[str, ...]
    word: bool = False
    exact: bool = False
    all_of: tuple[str, ...] = ()
    within: int | None = None
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    description: str | None = None

    @property
    def is_recitation(self) -> bool:
        return bool(self.all_of)


@dataclass(frozen=True)
class PatternSet:
    """A named list of patterns read from one YAML file."""

    name: str
    description: str | None
    sources: tuple[str, ...]
    patterns: tuple[Pattern, ...]
    path: str | None = None
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatternLimits:
    """What one pattern file may hold; each limit is far beyond what a real set needs."""

    max_depth: int = 20  # nesting of mappings and lists; a valid file needs 4
    max_phrases: int = 100_000  # in the whole file, `all_of` phrases included
    max_phrase_chars: int = 1_000
    max_within: int = 1_000_000  # folded characters


DEFAULT_LIMITS = PatternLimits()


class PatternError(Exception):
    """A problem in a pattern file, at a 1-based line and column when known."""

    def __init__(self, path: str, line: int | None, column: int | None, message: str):
        super().__init__(path, line, column, message)
        self.path = path
        self.line = line
        self.column = column
        self.message = message

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class UnknownPatternSet(PatternError):
    """A set asked for by name that is neither shipped nor loaded with -p; `available`
    lists both kinds of names."""

    def __init__(self, name: str, shipped: Sequence[str], loaded: Sequence[str] = ()):
        available = sorted({*shipped, *loaded})
        close = difflib.get_close_matches(name, available, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        listed = f"shipped: {', '.join(sorted(shipped))}"
        if loaded:
            listed += f"; from -p: {', '.join(sorted(loaded))}"
        super().__init__(name, None, None, f"no pattern set named '{name}' ({hint}{listed})")
        self.name = name
        self.available = tuple(available)


SET_KEYS = ("name", "description", "sources", "tags", "languages", "notes", "patterns")
PATTERN_KEYS = (
    "id",
    "phrases",
    "phrase",
    "word",
    "exact",
    "all_of",
    "within",
    "tags",
    "languages",
    "description",
)

_YAML_TAG = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_YAML_TAG + kind for kind in ("str", "int", "bool", "null", "float", "seq", "map")}
_ALIASES_REFUSED = "aliases (&/*) are not allowed in pattern files"


class _Problems:
    """Collects the errors of one file, each at a node's position."""

    def __init__(self, path: str, limits: PatternLimits = DEFAULT_LIMITS):
        self.path = path
        self.limits = limits
        self.errors: list[PatternError] = []
        self.phrases = 0  # counted as read, against limits.max_phrases

    def at(self, node: yaml.Node | yaml.Mark | None, message: str) -> None:
        mark = node.start_mark if isinstance(node, yaml.Node) else node
        if mark is None:
            self.errors.append(PatternError(self.path, None, None, message))
        else:
            self.errors.append(PatternError(self.path, mark.line + 1, mark.column + 1, message))


# ---------------------------------------------------------------- reading YAML


def _compose(text: str, problems: _Problems) -> yaml.Node | None:
    """The document's node tree, or None after recording why it cannot be read safely."""
    try:
        _check_events(yaml.parse(text, Loader=_FAST_LOADER), problems)
        return None if problems.errors else yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        problems.errors.clear()  # read again with PyYAML's own parser, for its messages
    try:
        _check_events(yaml.parse(text, Loader=yaml.SafeLoader), problems)
        return None if problems.errors else yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        problems.errors.clear()
        mark = error.problem_mark or error.context_mark
        described = ": ".join(part for part in (error.context, error.problem) if part)
        problems.at(mark, f"invalid YAML: {described}")
    except yaml.YAMLError as error:
        problems.errors.clear()
        problems.at(None, f"invalid YAML: {error}")
    return None


# libyaml when PyYAML has it: several times faster on sets of many phrases.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_events(events, problems: _Problems) -> None:
    """Refuse aliases, tags other than the plain types, and nesting beyond the limit
    (which would exhaust the composer's recursion), before any node is built."""
    depth = 0
    aliases_refused = False
    for event in events:
        if not aliases_refused and (
            isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None)
        ):
            problems.at(event.start_mark, _ALIASES_REFUSED)
            aliases_refused = True
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in _ALLOWED_TAGS:
            problems.at(event.start_mark, f"tag '{_short_tag(tag)}' is not allowed in pattern files")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > problems.limits.max_depth:
                problems.at(event.start_mark, f"nested deeper than {problems.limits.max_depth}"
                                              " levels of lists and mappings")
                return
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML_TAG) :] if tag.startswith(_YAML_TAG) else tag


def _mapping_items(
    node: yaml.MappingNode, known: Sequence[str], problems: _Problems
) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """The mapping's entries by key, after reporting unknown, duplicate and non-text keys."""
    items: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            problems.at(key_node, "keys must be plain words")
            continue
        key = key_node.value
        if key in items:
            problems.at(key_node, f"duplicate key '{key}'")
        elif key not in known:
            problems.at(key_node, unknown_key_message(key, known))
        else:
            items[key] = (key_node, value_node)
    return items


def unknown_key_message(key: str, known: Sequence[str]) -> str:
    """What to say of a key a YAML file should not have: the closest known one, or them all."""
    close = difflib.get_close_matches(key, known, n=1)
    if close:
        return f"unknown key '{key}' (did you mean '{close[0]}'?)"
    return f"unknown key '{key}' (known keys: {', '.join(known)})"


def _is_text(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode)


def _text_of(node: yaml.ScalarNode) -> str:
    """A scalar as the text written: phrases like `yes` or `1984` stay text, a missing
    value is empty."""
    return node.value


def _string(node: yaml.Node, key: str, problems: _Problems) -> str | None:
    if not _is_text(node) or not _text_of(node).strip():
        problems.at(node, f"'{key}' must be a non-empty string")
        return None
    return _text_of(node)


def _strings(node: yaml.Node, key: str, problems: _Problems) -> tuple[str, ...]:
    items = node.value if isinstance(node, yaml.SequenceNode) else None
    if items is None or not all(_is_text(item) and _text_of(item).strip() for item in items):
        problems.at(node, f"'{key}' must be a list of strings")
        return ()
    return tuple(_text_of(item) for item in items)


def _boolean(node: yaml.Node, key: str, problems: _Problems) -> bool:
    if node.tag != _YAML_TAG + "bool":
        problems.at(node, f"'{key}' must be a boolean (true or false)")
        return False
    return bool(yaml.constructor.SafeConstructor().construct_object(node))


_DECIMAL = re.compile(r"[0-9]+")


def _within(node: yaml.Node, key: str, problems: _Problems) -> int | None:
    """A positive integer in plain decimal digits, up to the limit: YAML's hex, octal,
    binary and sexagesimal forms and digit separators are refused, and so is any number
    of digits Python would refuse to convert."""
    text = node.value if isinstance(node, yaml.ScalarNode) else None
    if node.tag != _YAML_TAG + "int" or text is None or text.startswith("-"):
        problems.at(node, f"'{key}' must be a positive integer")
        return None
    if not _DECIMAL.fullmatch(text):
        problems.at(node, f"'{key}' must be a positive integer in decimal digits, not '{text}'")
        return None
    maximum = problems.limits.max_within
    if len(text.lstrip("0")) > len(str(maximum)) or int(text) > maximum:
        problems.at(node, f"'{key}' must be at most {maximum}")
        return None
    if int(text) < 1:
        problems.at(node, f"'{key}' must be a positive integer")
        return None
    return int(text)


# ------------------------------------------------------------ building patterns


@dataclass(frozen=True)
class _Phrase:
    """A phrase as written, where it was written, and the text it is matched as."""

    text: str
    key: str
    node: yaml.Node
    owner: str = ""


def _matching_key(phrase: str, exact: bool) -> str:
    return phrase if exact else fold(phrase)


def _slug(phrase: str) -> str:
    return fold(phrase).replace(" ", "-")


def _phrases(node: yaml.Node, key: str, exact: bool, problems: _Problems) -> list[_Phrase]:
    """The phrases of a `phrase`/`phrases`/`all_of` value, each checked for emptiness."""
    if key == "phrase":
        nodes = [node]
    elif isinstance(node, yaml.SequenceNode):
        nodes = node.value
        if not nodes:
            problems.at(node, f"'{key}' is empty")
    else:
        problems.at(node, f"'{key}' must be a list of phrases")
        return []
    phrases = []
    for phrase_node in nodes:
        if not _is_text(phrase_node):
            problems.at(phrase_node, "a phrase must be a string")
            continue
        text = _text_of(phrase_node)
        if not _within_phrase_limits(phrase_node, text, problems):
            continue
        matching_key = _matching_key(text, exact)
        is_empty = not text if exact else not text.strip()
        if is_empty:
            problems.at(phrase_node, "empty phrase")
        elif not matching_key:
            problems.at(
                phrase_node, f"phrase '{text}' is empty after folding (no letters or digits)"
            )
        else:
            phrases.append(_Phrase(text, matching_key, phrase_node))
    return phrases


def _within_phrase_limits(node: yaml.Node, text: str, problems: _Problems) -> bool:
    """Count the phrase against the file's limit; False (with an error) when it is beyond
    a limit. Only the first phrase past the count limit is reported."""
    limits = problems.limits
    problems.phrases += 1
    if problems.phrases > limits.max_phrases:
        if problems.phrases == limits.max_phrases + 1:
            problems.at(node, f"more than {limits.max_phrases} phrases in one pattern file")
        return False
    if len(text) > limits.max_phrase_chars:
        problems.at(node, f"phrase of {len(text)} characters; at most"
                          f" {limits.max_phrase_chars} characters are allowed")
        return False
    return True


def _check_no_phrase_contains_another(
    phrases: list[_Phrase], word: bool, problems: _Problems
) -> None:
    """Refuse phrases of one pattern that match inside each other: one occurrence would
    count twice. One automaton of the phrases finds them all in one pass over each."""
    if len(phrases) < 2:
        return
    automaton = ahocorasick.Automaton()
    for index, phrase in enumerate(phrases):
        if phrase.key not in automaton:
            automaton.add_word(phrase.key, index)
    automaton.make_automaton()
    for outer in phrases:
        found = [
            index
            for last, index in automaton.iter(outer.key)
            if phrases[index].key != outer.key
            and (not word or is_whole_word(outer.key, last + 1 - len(phrases[index].key), last + 1))
        ]
        if found:
            inner = phrases[min(found)]  # the first in file order, as the message names one
            problems.at(
                outer.node,
                f"phrase '{outer.text}' contains phrase '{inner.text}' of the same pattern,"
                " so each occurrence would count twice",
            )


def _check_distinct(phrases: list[_Phrase], problems: _Problems) -> None:
    seen: dict[str, _Phrase] = {}
    for phrase in phrases:
        first = seen.setdefault(phrase.key, phrase)
        if first is not phrase:
            problems.at(
                phrase.node,
                f"phrase '{phrase.text}' is the same as '{first.text}'"
                f" (line {first.node.start_mark.line + 1}) after folding",
            )


def _pattern_from_text(
    node: yaml.ScalarNode, problems: _Problems
) -> tuple[Pattern, list[_Phrase]] | None:
    phrases = _phrases(node, "phrase", False, problems)
    if not phrases:
        return None
    return Pattern(id=_slug(phrases[0].text), phrases=(phrases[0].text,)), phrases


def _pattern_from_mapping(
    node: yaml.MappingNode, problems: _Problems
) -> tuple[Pattern, list[_Phrase]] | None:
    """A pattern mapping, validated; None when it has errors (already recorded)."""
    errors_before = len(problems.errors)
    items = _mapping_items(node, PATTERN_KEYS, problems)
    values = {key: value for key, (_, value) in items.items()}
    phrase_keys = [key for key in ("phrase", "phrases", "all_of") if key in values]
    if len(phrase_keys) > 1:
        problems.at(items[phrase_keys[1]][0], "give only one of 'phrase', 'phrases' and 'all_of'")
        return None
    if not phrase_keys:
        if len(problems.errors) == errors_before:  # else a misspelt key says what is missing
            problems.at(node, "a pattern needs 'phrase', 'phrases' or 'all_of'")
        return None
    phrase_key = phrase_keys[0]
    options = _pattern_options(values, problems)
    phrases = _phrases(values[phrase_key], phrase_key, options["exact"], problems)
    _check_distinct(phrases, problems)
    texts = tuple(phrase.text for phrase in phrases)
    if phrase_key == "all_of":
        _check_recitation(node, items, problems)
        options["all_of"] = texts
    else:
        if "within" in items:
            problems.at(items["within"][0], "'within' only applies to 'all_of'")
        _check_no_phrase_contains_another(phrases, options["word"], problems)
        options["phrases"] = texts
        options.setdefault("id", _slug(texts[0]) if texts else None)
    if len(problems.errors) > errors_before:
        return None
    return Pattern(**{"phrases": (), **options}), phrases


def _pattern_options(values: dict[str, yaml.Node], problems: _Problems) -> dict:
    """The pattern's settings other than its phrases, as `Pattern` keyword arguments."""
    readers = {
        "id": _string,
        "word": _boolean,
        "exact": _boolean,
        "within": _within,
        "tags": _strings,
        "languages": _strings,
        "description": _string,
    }
    options = {
        key: read(values[key], key, problems) for key, read in readers.items() if key in values
    }
    options.setdefault("word", False)
    options.setdefault("exact", False)
    return options


def _check_recitation(
    node: yaml.MappingNode, items: dict[str, tuple[yaml.Node, yaml.Node]], problems: _Problems
) -> None:
    key_node, value_node = items["all_of"]
    if isinstance(value_node, yaml.SequenceNode) and len(value_node.value) == 1:
        problems.at(value_node, "'all_of' needs at least 2 phrases")
    if "within" not in items:
        problems.at(key_node, "'all_of' needs 'within' (the most characters the phrases may span)")
    if "id" not in items:
        problems.at(node, "a pattern with 'all_of' needs an 'id'")


def _patterns(node: yaml.Node, problems: _Problems) -> tuple[Pattern, ...]:
    if not isinstance(node, yaml.SequenceNode):
        problems.at(node, "'patterns' must be a list")
        return ()
    if not node.value:
        problems.at(node, "'patterns' is empty")
        return ()
    patterns: list[Pattern] = []
    id_lines: dict[str, int] = {}
    counted_phrases: list[_Phrase] = []
    for pattern_node in node.value:
        if isinstance(pattern_node, yaml.ScalarNode):
            built = _pattern_from_text(pattern_node, problems)
        elif isinstance(pattern_node, yaml.MappingNode):
            built = _pattern_from_mapping(pattern_node, problems)
        else:
            problems.at(pattern_node, "a pattern must be a phrase or a mapping")
            continue
        if built is None:
            continue
        pattern, phrases = built
        if pattern.id in id_lines:
            problems.at(
                pattern_node,
                f"duplicate pattern id '{pattern.id}' (first at line {id_lines[pattern.id]})",
            )
            continue
        id_lines[pattern.id] = pattern_node.start_mark.line + 1
        if not pattern.is_recitation:
            counted_phrases.extend(
                _Phrase(phrase.text, _set_key(phrase.key, pattern), phrase.node, pattern.id)
                for phrase in phrases
            )
        patterns.append(pattern)
    _check_distinct_across_patterns(counted_phrases, problems)
    return tuple(patterns)


def _set_key(key: str, pattern: Pattern) -> str:
    # Exact and folded phrases only collide with phrases matched the same way.
    return ("exact:" if pattern.exact else "folded:") + key


def _check_distinct_across_patterns(phrases: list[_Phrase], problems: _Problems) -> None:
    """Refuse a phrase that two patterns of a set would both count."""
    seen: dict[str, _Phrase] = {}
    for phrase in phrases:
        first = seen.setdefault(phrase.key, phrase)
        if first.owner != phrase.owner:
            problems.at(
                phrase.node,
                f"phrase '{phrase.text}' (pattern '{phrase.owner}') is the same as"
                f" '{first.text}' (pattern '{first.owner}',"
                f" line {first.node.start_mark.line + 1}) after folding",
            )


def _pattern_set(root: yaml.Node, path: str, problems: _Problems) -> PatternSet | None:
    if not isinstance(root, yaml.MappingNode):
        problems.at(root, "a pattern file must be a mapping with 'name' and 'patterns'")
        return None
    items = _mapping_items(root, SET_KEYS, problems)
    values = {key: value for key, (_, value) in items.items()}
    name = _string(values["name"], "name", problems) if "name" in values else None
    if "name" not in values:
        problems.at(root, "missing 'name'")
    description = (
        _string(values["description"], "description", problems) if "description" in values else None
    )
    sources = _strings(values["sources"], "sources", problems) if "sources" in values else ()
    tags = _strings(values["tags"], "tags", problems) if "tags" in values else ()
    languages = (
        _strings(values["languages"], "languages", problems) if "languages" in values else ()
    )
    if "notes" in values and not _is_text(values["notes"]):
        problems.at(values["notes"], "'notes' must be a string")
    if "patterns" not in values:
        problems.at(root, "missing 'patterns'")
        return None
    patterns = _patterns(values["patterns"], problems)
    if problems.errors or name is None:
        return None
    return PatternSet(name, description, sources, patterns, path, tags, languages)


# ------------------------------------------------------------------ public API


def _read_pattern_file(
    path: str | Path, limits: PatternLimits = DEFAULT_LIMITS
) -> tuple[PatternSet | None, list[PatternError]]:
    shown = str(path)
    problems = _Problems(shown, limits)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        problems.at(None, error.strerror or str(error))
        return None, problems.errors
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        problems.errors.append(PatternError(shown, line, column, "pattern file is not UTF-8 text"))
        return None, problems.errors
    root = _compose(text, problems)
    if problems.errors:
        return None, problems.errors
    if root is None:
        problems.at(
            yaml.Mark(shown, 0, 0, 0, None, None),
            "a pattern file must be a mapping with 'name' and 'patterns'",
        )
        return None, problems.errors
    pattern_set = _pattern_set(root, shown, problems)
    return pattern_set, problems.errors


def _file_order(error: PatternError) -> tuple[int, int]:
    return error.line or 0, error.column or 0


def check_pattern_file(
    path: str | Path, limits: PatternLimits = DEFAULT_LIMITS
) -> list[PatternError]:
    """Every problem found in a pattern file, in file order (empty when it is valid)."""
    _, errors = _read_pattern_file(path, limits)
    return sorted(errors, key=_file_order)


def load_pattern_set(path: str | Path, limits: PatternLimits = DEFAULT_LIMITS) -> PatternSet:
    """Read one pattern file; raises its first `PatternError`."""
    pattern_set, errors = _read_pattern_file(path, limits)
    if errors:
        raise min(errors, key=_file_order)
    assert pattern_set is not None
    return pattern_set


def shipped_patterns_dir() -> Path:
    """Where the shipped pattern sets live: inside the installed package, else the checkout."""
    installed = Path(str(importlib.resources.files("backrooms_scan") / "patterns"))
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "patterns"


def _pattern_files(directory: Path) -> list[Path]:
    return sorted(
        (
            path
            for path in directory.iterdir()
            if path.suffix in (".yaml", ".yml") and path.is_file()
        ),
        key=lambda path: path.name,
    )


@functools.lru_cache(maxsize=1)
def _shipped_sets(directory: Path) -> tuple[PatternSet, ...]:
    return tuple(
        sorted((load_pattern_set(path) for path in _pattern_files(directory)), key=lambda s: s.name)
    )


def shipped_sets() -> list[PatternSet]:
    """The pattern sets that come with the tool, sorted by name."""
    return list(_shipped_sets(shipped_patterns_dir()))


def _sets_at(path_text: str) -> Iterator[PatternSet]:
    path = Path(path_text)
    if path.is_dir():
        files = _pattern_files(path)
        if not files:
            raise PatternError(path_text, None, None, "no *.yaml or *.yml files in this directory")
        for file in files:
            yield load_pattern_set(file)
    elif path.exists():
        yield load_pattern_set(path)
    else:
        raise PatternError(path_text, None, None, "no such file or directory")


def check_pattern_paths(paths: Sequence[str]) -> list[PatternError]:
    """Every problem of every pattern file at `paths` (files, or directories of *.yaml/*.yml),
    in path and file order; empty when all are valid."""
    problems: list[PatternError] = []
    for path_text in paths:
        path = Path(path_text)
        if path.is_dir():
            files = _pattern_files(path)
            if not files:
                problems.append(PatternError(path_text, None, None,
                                             "no *.yaml or *.yml files in this directory"))
            for file in files:
                problems.extend(check_pattern_file(file))
        elif path.exists():
            problems.extend(check_pattern_file(path))
        else:
            problems.append(PatternError(path_text, None, None, "no such file or directory"))
    return problems


def load_pattern_sets(paths: Sequence[str] = (), names: Sequence[str] = ()) -> list[PatternSet]:
    """The sets from `paths` (files, or directories of *.yaml/*.yml) and shipped sets
    chosen by `names`; all shipped sets when both are empty. Set names must be unique."""
    chosen: list[PatternSet] = []
    for path in paths:
        chosen.extend(_sets_at(path))
    if names:
        loaded = {pattern_set.name for pattern_set in chosen}
        shipped = {pattern_set.name: pattern_set for pattern_set in shipped_sets()}
        for name in dict.fromkeys(names):
            if name in loaded:
                continue  # a set of -p, named to say it is wanted: it is there already
            if name not in shipped:
                raise UnknownPatternSet(name, list(shipped), list(loaded))
            chosen.append(shipped[name])
    elif not paths:
        chosen = shipped_sets()
    _check_unique_names(chosen)
    return chosen


def _check_unique_names(pattern_sets: Sequence[PatternSet]) -> None:
    first_path: dict[str, str | None] = {}
    for pattern_set in pattern_sets:
        if pattern_set.name in first_path:
            raise PatternError(
                pattern_set.path or pattern_set.name,
                None,
                None,
                f"pattern set name '{pattern_set.name}' is already used by"
                f" {first_path[pattern_set.name] or 'another set'}",
            )
        first_path[pattern_set.name] = pattern_set.path
