"""User-declared JSON layouts: a small YAML file -> a validated `JsonLayout`.

For JSON exports the built-in readers cannot guess, a layout file names where
things are::

    messages: data.turns          # required: from each conversation record to its message list
    text: body.text               # required: in a message, its text (a string or a list of parts)
    speaker: author.name          # required: in a message, who said it
    model: author.model           # optional; `$.` starts at the record: `$.meta.models`
    timestamp: created_at         # optional; likewise
    conversation: id              # optional: the record's conversation id
    scenario: meta.topic          # optional: the record's scenario
    system_speakers: [system]     # optional: speakers whose messages are prompt text
                                  # (default: system, developer)

A path is keys joined by dots; a step of digits indexes a list (`choices.0`); a
YAML list of keys (`[meta, "a.b"]`) spells keys that hold dots. When `model`
leads to a mapping, the model is its entry for the speaker. Files are read with
PyYAML's safe loader as nodes, so every problem is reported as `file:line:col`;
anchors, aliases and tags other than plain YAML types are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from backrooms_scan.patternsets import unknown_key_message

__all__ = ["JsonLayout", "LayoutError", "LayoutPath", "read_layout"]

REQUIRED_KEYS = ("messages", "text", "speaker")
RECORD_KEYS = ("messages", "conversation", "scenario")
LAYOUT_KEYS = (*REQUIRED_KEYS, "model", "timestamp", "conversation", "scenario", "system_speakers")
DEFAULT_SYSTEM_SPEAKERS = ("system", "developer")
ROOT = "$"

_YAML_TAG = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_YAML_TAG + kind for kind in ("str", "int", "bool", "null", "float", "seq", "map")}


@dataclass(frozen=True)
class LayoutPath:
    """Keys (and list indexes) leading to a value, from a message or from its record."""

    steps: tuple[str | int, ...]
    from_record: bool = False

    def find(self, value: object) -> object:
        """The value at the end of the path, or None where a step is missing."""
        for step in self.steps:
            if isinstance(step, int) and isinstance(value, list) and -len(value) <= step < len(value):
                value = value[step]
            elif isinstance(value, dict) and str(step) in value:
                value = value[str(step)]
            else:
                return None
        return value

    def __str__(self) -> str:
        return ".".join(map(str, self.steps))


@dataclass(frozen=True)
class JsonLayout:
    """Where a JSON export keeps its messages and their text, speaker, model and time."""

    messages: LayoutPath
    text: LayoutPath
    speaker: LayoutPath
    model: LayoutPath | None = None
    timestamp: LayoutPath | None = None
    conversation: LayoutPath | None = None
    scenario: LayoutPath | None = None
    system_speakers: tuple[str, ...] = DEFAULT_SYSTEM_SPEAKERS
    path: str | None = None


@dataclass(frozen=True)
class LayoutError:
    """A problem in a layout file, at a 1-based line and column when known."""

    path: str
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class _Problems:
    def __init__(self, path: str):
        self.path = path
        self.errors: list[LayoutError] = []

    def at(self, where: yaml.Node | yaml.Mark | None, message: str) -> None:
        mark = where.start_mark if isinstance(where, yaml.Node) else where
        line, column = (None, None) if mark is None else (mark.line + 1, mark.column + 1)
        self.errors.append(LayoutError(self.path, line, column, message))


def read_layout(path: str | Path) -> tuple[JsonLayout | None, list[LayoutError]]:
    """The layout in a YAML file, or None and every problem found, in file order."""
    shown = str(path)
    problems = _Problems(shown)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as error:
        problems.at(None, error.strerror or str(error))
        return None, problems.errors
    except UnicodeDecodeError:
        problems.at(None, "layout file is not UTF-8 text")
        return None, problems.errors
    root = _compose(text, problems)
    layout = None
    if root is not None or not problems.errors:
        layout = _layout(root, shown, problems)
    errors = sorted(problems.errors, key=lambda e: (e.line or 0, e.column or 0))
    return (None if errors else layout), errors


def _compose(text: str, problems: _Problems) -> yaml.Node | None:
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                problems.at(event.start_mark, "aliases (&/*) are not allowed in layout files")
            tag = getattr(event, "tag", None)
            if tag is not None and tag not in _ALLOWED_TAGS:
                shown = "!!" + tag.removeprefix(_YAML_TAG) if tag.startswith(_YAML_TAG) else tag
                problems.at(event.start_mark, f"tag '{shown}' is not allowed in layout files")
        if problems.errors:
            return None
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        described = ": ".join(part for part in (error.context, error.problem) if part)
        problems.at(error.problem_mark or error.context_mark, f"invalid YAML: {described}")
    except yaml.YAMLError as error:
        problems.at(None, f"invalid YAML: {error}")
    return None


def _layout(root: yaml.Node | None, shown: str, problems: _Problems) -> JsonLayout | None:
    start = yaml.Mark(shown, 0, 0, 0, None, None)
    if not isinstance(root, yaml.MappingNode):
        problems.at(root or start, "a layout file must be a mapping with 'messages', 'text' and"
                                   " 'speaker'")
        return None
    values = _mapping(root, problems)
    for key in REQUIRED_KEYS:
        if key not in values:
            problems.at(root, f"missing '{key}'")
    paths = {key: _path(values[key], key, problems)
             for key in LAYOUT_KEYS if key in values and key != "system_speakers"}
    system_speakers = DEFAULT_SYSTEM_SPEAKERS
    if "system_speakers" in values:
        system_speakers = _strings(values["system_speakers"], "system_speakers", problems)
    if problems.errors:
        return None
    return JsonLayout(**paths, system_speakers=system_speakers, path=shown)


def _mapping(node: yaml.MappingNode, problems: _Problems) -> dict[str, yaml.Node]:
    values: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key is None:
            problems.at(key_node, "keys must be plain words")
        elif key in values:
            problems.at(key_node, f"duplicate key '{key}'")
        elif key not in LAYOUT_KEYS:
            problems.at(key_node, unknown_key_message(key, LAYOUT_KEYS))
        else:
            values[key] = value_node
    return values


def _path(node: yaml.Node, key: str, problems: _Problems) -> LayoutPath | None:
    """A dotted path, or a list of keys; `$` first means from the record."""
    if isinstance(node, yaml.ScalarNode) and node.tag == _YAML_TAG + "str":
        steps = node.value.strip().split(".")
    elif isinstance(node, yaml.SequenceNode) and all(map(_is_scalar, node.value)):
        steps = [item.value for item in node.value]
    else:
        problems.at(node, f"'{key}' must be a path such as 'data.messages' or a list of keys")
        return None
    from_record = steps[:1] == [ROOT]
    steps = steps[1:] if from_record else steps
    if not steps or any(not step.strip() for step in steps):
        problems.at(node, f"'{key}' must name at least one key, with no empty step")
        return None
    if ROOT in steps:
        problems.at(node, f"'{key}': '$' may only start a path")
        return None
    return LayoutPath(tuple(int(step) if step.isdigit() else step for step in steps),
                      from_record or key in RECORD_KEYS)


def _is_scalar(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode)


def _strings(node: yaml.Node, key: str, problems: _Problems) -> tuple[str, ...]:
    items = node.value if isinstance(node, yaml.SequenceNode) else None
    if items is None or not all(_is_scalar(item) and item.value.strip() for item in items):
        problems.at(node, f"'{key}' must be a list of speaker names")
        return ()
    return tuple(item.value for item in items)
