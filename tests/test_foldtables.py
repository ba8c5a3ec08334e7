"""The folding tables: built from `fold_char` by named builders, the shipped one current."""

from __future__ import annotations

import unicodedata

import pytest

from backrooms_scan import foldings_snapshot
from backrooms_scan.foldtables import (
    build_fold_sources,
    build_irregular_foldings,
    fold_char,
    irregular_foldings,
)


@pytest.mark.skipif(foldings_snapshot.UNICODE_VERSION != unicodedata.unidata_version,
                    reason="the snapshot is for another Unicode version (it is built instead)")
def test_the_shipped_table_is_what_the_builder_makes():
    assert foldings_snapshot.FOLDINGS == build_irregular_foldings()


def test_the_table_holds_the_irregular_foldings_only():
    table = irregular_foldings()
    assert table[ord("É")] == "e" and table[ord("ß")] == "ss" and table[0x301] == ""
    assert ord("e") not in table and ord("眾") not in table and ord("—") not in table
    assert fold_char("—") == " " and fold_char("眾") == "眾"


def test_sources_are_the_reverse_of_the_table():
    sources = build_fold_sources({ord("A"): "a", ord("ａ"): "a", 0x301: "", ord("ﬁ"): "fi",
                                  ord("…"): "   "})
    assert set(sources.sources_of("a")) == {"a", "A", "ａ"}
    assert sources.vanishing == ("\u0301",)
    assert sources.several == {"ﬁ": "fi"}
