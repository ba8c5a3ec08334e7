"""Transcript formats: each module sniffs its layout and yields Conversations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import import_module

from backrooms_scan.decode import Document
from backrooms_scan.records import Conversation

# Most specific first: on equal confidence the earlier one wins.
FORMAT_MODULES = (
    "parquet",
    "multiagent_html",
    "backrooms",
    "forklog",
    "turnlog",
    "markdown_chat",
    "chatjson",
    "chatlines",
    "text",
)
# What a file that no format claims is read as, when the user named it.
PLAIN_TEXT = "text"


@dataclass(frozen=True)
class Format:
    name: str
    sniff: Callable[[str, str], float]
    load: Callable[[Document], Iterator[Conversation]]
    description: str = ""
    binary: bool = False  # its files are binary: not to be skipped as "binary file"
    # Counting only: the conversation with its turns' attribution but not their texts, read
    # from the file's bytes, or None when the full `load` is needed to be sure.
    outline: Callable[[Document, bytes], Conversation | None] | None = None
    # The most its sniffer ever returns, so detection can stop once no format left can win.
    max_score: float = 1.0


@cache
def all_formats() -> tuple[Format, ...]:
    """Every format, each module contributing one or more (`FORMATS` or a single `NAME`)."""
    found = []
    for module_name in FORMAT_MODULES:
        module = import_module(f"{__name__}.{module_name}")
        summary = (module.__doc__ or "").strip().split("\n")[0]
        found.extend(getattr(module, "FORMATS", None)
                     or [Format(module.NAME, module.sniff, module.load, summary,
                                max_score=module.MAX_SCORE)])
    return tuple(found)


@cache
def _best_possible_from_here() -> tuple[float, ...]:
    """For each format in detection order, the highest score it or a later one can give."""
    scores = [fmt.max_score for fmt in all_formats()]
    return tuple(max(scores[at:]) for at in range(len(scores)))


def named_formats() -> list[Format]:
    """One format per name, the first of its sniffers: what `--input-format` can name."""
    first: dict[str, Format] = {}
    for fmt in all_formats():
        first.setdefault(fmt.name, fmt)
    return list(first.values())


def format_names() -> list[str]:
    return [fmt.name for fmt in named_formats()]


def by_name(name: str) -> Format:
    for fmt in all_formats():
        if fmt.name == name:
            return fmt
    raise KeyError(name)


def detect(doc: Document, *, plain_text_fallback: bool = False) -> Format | None:
    """The format whose sniffer is most confident about this document, if any is; with
    `plain_text_fallback`, plain text when none is."""
    head = doc.head_text()
    best, best_score = None, 0.0
    for fmt, best_possible in zip(all_formats(), _best_possible_from_here()):
        if best_score >= best_possible:  # no format left can win: ties go to the earlier
            break
        score = fmt.sniff(doc.name, head)
        if score > best_score:
            best, best_score = fmt, score
    if best is None and plain_text_fallback:
        return by_name(PLAIN_TEXT)
    return best
