"""One name per model: display names, undated and dated ids -> one canonical id.

Dumps name the same model in several ways: `claude-3-opus-20240229` in a format-A header,
`Claude 3 Opus` in a multi-agent export, `Claude 4.5 Sonnet` beside `Claude 4.5 Sonnet
20250929` in experiment logs. The scan gives every turn the canonical name of its model
(once, as conversations come out of the loaders), so records, breakdowns and `--model`
filters all see the same name:

- a name is compared by its *key*: case-folded, runs of spaces, underscores and dots made
  one hyphen (`Claude 4.5 Sonnet` and `claude_4-5-sonnet` have the same key);
- a key in `KNOWN_MODELS` (a canonical id, its undated form, or one of its aliases) gives
  that canonical id, the provider's dated id where there is one; an undated form that
  two dated ids share (`Claude 3.5 Sonnet`: June or October?) stays the undated id;
- a dated name (`... 20250929`) whose undated part is known gives the canonical id only
  when the dates agree: `claude-3-5-sonnet-20240620` and `-20241022` stay two models;
- any other name is written the way model ids are: case-folded, spaces and underscores
  made hyphens, dots kept (`Kimi K2` -> `kimi-k2`, `Gemini 2.5 Pro` -> `gemini-2.5-pro`).
"""

from __future__ import annotations

import re
from functools import cache

# Canonical id first, then the other names it goes by (compared by key).
KNOWN_MODELS: tuple[tuple[str, ...], ...] = (
    ("claude-3-opus-20240229", "claude-3-opus", "claude-3-opus-latest", "Claude Opus 3"),
    ("claude-3-sonnet-20240229", "claude-3-sonnet", "Claude Sonnet 3"),
    ("claude-3-haiku-20240307", "claude-3-haiku", "Claude Haiku 3"),
    ("claude-3-5-sonnet-20240620",),
    ("claude-3-5-sonnet-20241022", "Claude 3.5 Sonnet (new)", "claude-3-5-sonnet-latest",
     "Claude 3.6 Sonnet"),
    ("claude-3-5-haiku-20241022", "claude-3-5-haiku", "claude-3-5-haiku-latest",
     "Claude Haiku 3.5"),
    ("claude-3-7-sonnet-20250219", "claude-3-7-sonnet", "claude-3-7-sonnet-latest",
     "Claude Sonnet 3.7"),
    ("claude-sonnet-4-20250514", "claude-sonnet-4", "claude-sonnet-4-0", "Claude 4 Sonnet"),
    ("claude-opus-4-20250514", "claude-opus-4", "claude-opus-4-0", "Claude 4 Opus"),
    ("claude-opus-4-1-20250805", "claude-opus-4-1", "Claude 4.1 Opus"),
    ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5", "Claude 4.5 Sonnet"),
    ("claude-haiku-4-5-20251001", "claude-haiku-4-5", "Claude 4.5 Haiku"),
    ("claude-opus-4-5-20251101", "claude-opus-4-5", "Claude 4.5 Opus"),
)

_SEPARATORS = re.compile(r"[\s_.]+")
_ID_SEPARATORS = re.compile(r"[\s_]+")
_DATE_SUFFIX = re.compile(r"-(20\d{6})$")


def name_key(name: str) -> str:
    """What two spellings of one name share: case-folded, separators one hyphen."""
    return _SEPARATORS.sub("-", name.strip().casefold()).strip("-")


def build_alias_table(models: tuple[tuple[str, ...], ...] = KNOWN_MODELS) -> dict[str, str]:
    """key -> canonical id for every canonical id, its undated form and its aliases. An
    undated form that two dated ids share (`claude-3-5-sonnet`) names neither: it stays
    the undated id."""
    table: dict[str, str] = {}
    undated_of: dict[str, set[str]] = {}
    for canonical, *_ in models:
        undated_of.setdefault(name_key(_DATE_SUFFIX.sub("", canonical)), set()).add(canonical)
    for key, canonicals in undated_of.items():
        table[key] = canonicals.pop() if len(canonicals) == 1 else key
    for canonical, *aliases in models:
        for name in (canonical, *aliases):
            table[name_key(name)] = canonical
    return table


_ALIASES = build_alias_table()


@cache
def canonical_model(name: str) -> str:
    """The one name a scan uses for the model called `name`."""
    key = name_key(name)
    known = _ALIASES.get(key)
    if known is not None:
        return known
    dated = _DATE_SUFFIX.search(key)
    if dated:
        undated = _ALIASES.get(key[: dated.start()])
        if undated is not None and undated.endswith(dated.group(0)):
            return undated
    return id_spelling(name)


def id_spelling(name: str) -> str:
    """`name` written as model ids are: case-folded, spaces and underscores one hyphen."""
    return _ID_SEPARATORS.sub("-", name.strip().casefold()).strip("-")
