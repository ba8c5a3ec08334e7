"""Pattern files: what a valid set looks like, and the exact error for each mistake."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from backrooms_scan.patternsets import (
    DEFAULT_LIMITS,
    Pattern,
    PatternError,
    PatternLimits,
    PatternSet,
    UnknownPatternSet,
    check_pattern_file,
    load_pattern_set,
    load_pattern_sets,
    shipped_patterns_dir,
    shipped_sets,
)

FIXTURES = Path(__file__).parent / "fixtures" / "patterns"
SHIPPED_NAMES = ["animal-welfare", "bodhisattva-vow", "heart-sutra-mantra"]


def only_error(name: str) -> tuple[int | None, int | None, str]:
    errors = check_pattern_file(FIXTURES / name)
    assert len(errors) == 1, [str(error) for error in errors]
    return errors[0].line, errors[0].column, errors[0].message


class TestValidFile:
    def test_every_kind_of_pattern_is_read(self):
        pattern_set = load_pattern_set(FIXTURES / "valid.yaml")
        assert pattern_set == PatternSet(
            name="test-vows",
            description="A small set that uses every kind of pattern.",
            sources=("written for the tests",),
            patterns=(
                Pattern(id="without-number", phrases=("without number",)),
                Pattern(
                    id="numberless",
                    phrases=("Beings are numberless", "Beings are without number"),
                    word=True,
                    tags=("first-vow",),
                    languages=("en",),
                    description="The first vow.",
                ),
                Pattern(id="korean-first-vow", phrases=("중생무변서원도",)),
                Pattern(id="exact-vow", phrases=("I VOW",), exact=True),
                Pattern(
                    id="vow-recitation",
                    phrases=(),
                    all_of=("liberate all beings", "without number"),
                    within=200,
                ),
            ),
            path=str(FIXTURES / "valid.yaml"),
            tags=("test",),
            languages=("en", "ko"),
        )

    def test_valid_file_has_no_problems(self):
        assert check_pattern_file(FIXTURES / "valid.yaml") == []

    def test_bare_phrase_gets_an_id_from_its_folded_text(self, tmp_path):
        path = tmp_path / "ids.yaml"
        path.write_text("name: ids\npatterns:\n  - Without, number!\n  - 揭諦揭諦 波羅揭諦\n")
        assert [p.id for p in load_pattern_set(path).patterns] == [
            "without-number",
            "揭諦揭諦-波羅揭諦",
        ]

    def test_phrases_that_yaml_would_read_as_other_types_stay_text(self, tmp_path):
        path = tmp_path / "types.yaml"
        path.write_text("name: types\npatterns:\n  - yes\n  - 1984\n  - id: x\n    phrase: 3.14\n")
        assert [p.phrases for p in load_pattern_set(path).patterns] == [
            ("yes",),
            ("1984",),
            ("3.14",),
        ]

    def test_word_family_is_allowed_when_whole_words_are_asked_for(self, tmp_path):
        path = tmp_path / "family.yaml"
        path.write_text(
            "name: family\npatterns:\n  - id: farms\n    word: true\n"
            "    phrases: [factory farm, factory farming, factory farms]\n"
        )
        assert load_pattern_set(path).patterns[0].phrases == (
            "factory farm",
            "factory farming",
            "factory farms",
        )


class TestErrors:
    def test_error_reads_as_path_line_column_message(self):
        [error] = check_pattern_file(FIXTURES / "duplicate-id.yaml")
        path = FIXTURES / "duplicate-id.yaml"
        assert str(error) == f"{path}:5:5: duplicate pattern id 'mantra' (first at line 3)"

    def test_load_raises_the_first_error(self):
        with pytest.raises(PatternError) as raised:
            load_pattern_set(FIXTURES / "many-errors.yaml")
        assert (raised.value.line, raised.value.column) == (5, 5)
        assert raised.value.message == "unknown key 'wrod' (did you mean 'word'?)"

    def test_check_lists_every_error_in_file_order(self):
        errors = check_pattern_file(FIXTURES / "many-errors.yaml")
        assert [(e.line, e.column, e.message) for e in errors] == [
            (5, 5, "unknown key 'wrod' (did you mean 'word'?)"),
            (7, 14, "'phrases' is empty"),
            (10, 5, "'within' only applies to 'all_of'"),
            (10, 13, "'within' must be a positive integer"),
        ]

    def test_bad_yaml_syntax_is_reported_where_the_parser_stopped(self):
        assert only_error("bad-syntax.yaml") == (
            5,
            7,
            "invalid YAML: while parsing a flow sequence: expected ',' or ']', but got ':'",
        )

    def test_top_level_must_be_a_mapping(self):
        assert only_error("not-a-mapping.yaml") == (
            1,
            1,
            "a pattern file must be a mapping with 'name' and 'patterns'",
        )

    def test_empty_file_is_not_a_pattern_set(self, tmp_path):
        path = tmp_path / "empty.yaml"
        path.write_text("# nothing but a comment\n")
        assert [(e.line, e.column, e.message) for e in check_pattern_file(path)] == [
            (1, 1, "a pattern file must be a mapping with 'name' and 'patterns'")
        ]

    def test_missing_name(self):
        assert only_error("missing-name.yaml") == (1, 1, "missing 'name'")

    def test_missing_patterns(self):
        assert only_error("missing-patterns.yaml") == (1, 1, "missing 'patterns'")

    def test_empty_patterns(self):
        assert only_error("empty-patterns.yaml") == (2, 11, "'patterns' is empty")

    def test_empty_phrase(self):
        assert only_error("empty-phrase.yaml") == (6, 9, "empty phrase")

    def test_phrase_of_punctuation_only_folds_to_nothing(self):
        assert only_error("phrase-folds-to-nothing.yaml") == (
            4,
            13,
            "phrase '— … —' is empty after folding (no letters or digits)",
        )

    def test_duplicate_pattern_id(self):
        assert only_error("duplicate-id.yaml") == (
            5,
            5,
            "duplicate pattern id 'mantra' (first at line 3)",
        )

    def test_derived_id_can_clash_with_a_given_one(self):
        assert only_error("duplicate-derived-id.yaml") == (
            4,
            5,
            "duplicate pattern id 'without-number' (first at line 3)",
        )

    def test_same_phrase_after_folding_in_two_patterns_names_both(self):
        assert only_error("duplicate-phrase.yaml") == (
            8,
            9,
            (
                "phrase 'gate gate paragate' (pattern 'opening-again') is the same as"
                " 'Gate, gate, pāragate' (pattern 'opening', line 4) after folding"
            ),
        )

    def test_same_phrase_after_folding_within_a_pattern(self):
        assert only_error("duplicate-phrase-in-pattern.yaml") == (
            4,
            28,
            "phrase 'Bodhi svāhā!' is the same as 'bodhi svaha' (line 4) after folding",
        )

    def test_phrase_inside_another_phrase_of_its_pattern_would_count_twice(self):
        assert only_error("phrase-contains-phrase.yaml") == (
            4,
            29,
            (
                "phrase 'factory farming' contains phrase 'factory farm' of the same pattern,"
                " so each occurrence would count twice"
            ),
        )

    def test_unknown_pattern_key_suggests_the_closest(self):
        assert only_error("unknown-key.yaml") == (
            4,
            5,
            "unknown key 'phrase_list' (did you mean 'phrases'?)",
        )

    def test_unknown_top_level_key_suggests_the_closest(self):
        assert only_error("unknown-top-level-key.yaml") == (
            2,
            1,
            "unknown key 'sauces' (did you mean 'sources'?)",
        )

    def test_unknown_key_without_a_close_match_lists_the_known_keys(self, tmp_path):
        path = tmp_path / "zzz.yaml"
        path.write_text("name: z\nzzz: 1\npatterns: [a]\n")
        [error] = check_pattern_file(path)
        assert error.message == (
            "unknown key 'zzz' (known keys: name, description, sources, tags, languages,"
            " notes, patterns)"
        )

    def test_duplicate_key(self):
        assert only_error("duplicate-key.yaml") == (6, 5, "duplicate key 'word'")

    def test_word_must_be_a_boolean(self):
        assert only_error("word-not-boolean.yaml") == (
            5,
            11,
            "'word' must be a boolean (true or false)",
        )

    def test_within_must_be_a_positive_integer(self):
        assert only_error("within-not-positive.yaml") == (
            5,
            13,
            "'within' must be a positive integer",
        )

    def test_all_of_needs_two_phrases(self):
        assert only_error("all-of-one-phrase.yaml") == (
            4,
            13,
            "'all_of' needs at least 2 phrases",
        )

    def test_all_of_needs_within(self):
        assert only_error("all-of-without-within.yaml") == (
            4,
            5,
            "'all_of' needs 'within' (the most characters the phrases may span)",
        )

    def test_within_without_all_of(self):
        assert only_error("within-without-all-of.yaml") == (
            5,
            5,
            "'within' only applies to 'all_of'",
        )

    def test_file_that_is_not_utf8(self, tmp_path):
        path = tmp_path / "latin1.yaml"
        path.write_bytes(b"name: x\npatterns:\n  - caf\xe9\n")
        assert [(e.line, e.column, e.message) for e in check_pattern_file(path)] == [
            (3, 8, "pattern file is not UTF-8 text")
        ]

    def test_missing_file(self, tmp_path):
        [error] = check_pattern_file(tmp_path / "absent.yaml")
        assert (error.line, error.message) == (None, "No such file or directory")


class TestUnsafeYaml:
    def test_python_tag_is_refused_not_run(self):
        assert only_error("python-tag.yaml") == (
            4,
            13,
            "tag '!!python/object/apply:os.system' is not allowed in pattern files",
        )

    def test_alias_bomb_is_refused_at_the_first_anchor(self):
        assert only_error("alias-bomb.yaml") == (
            2,
            4,
            "aliases (&/*) are not allowed in pattern files",
        )

    def test_local_tags_are_refused(self, tmp_path):
        path = tmp_path / "tag.yaml"
        path.write_text("name: x\npatterns:\n  - !custom gate\n")
        [error] = check_pattern_file(path)
        assert (error.line, error.column, error.message) == (
            3,
            5,
            "tag '!custom' is not allowed in pattern files",
        )


class TestChoosingSets:
    def test_directory_gives_its_yaml_files_in_name_order(self):
        sets = load_pattern_sets([str(FIXTURES / "set-dir")], [])
        assert [s.name for s in sets] == ["test-mantra", "test-vows"]

    def test_names_choose_shipped_sets(self):
        sets = load_pattern_sets([], ["heart-sutra-mantra"])
        assert [s.name for s in sets] == ["heart-sutra-mantra"]

    def test_files_and_names_combine(self):
        sets = load_pattern_sets([str(FIXTURES / "valid.yaml")], ["animal-welfare"])
        assert [s.name for s in sets] == ["test-vows", "animal-welfare"]

    def test_neither_gives_all_shipped_sets(self):
        assert [s.name for s in load_pattern_sets([], [])] == SHIPPED_NAMES

    def test_unknown_name_lists_what_is_available(self):
        with pytest.raises(UnknownPatternSet) as raised:
            load_pattern_sets([], ["bodhisattva"])
        assert str(raised.value) == (
            "bodhisattva: no pattern set named 'bodhisattva' (did you mean"
            " 'bodhisattva-vow'? shipped: animal-welfare, bodhisattva-vow,"
            " heart-sutra-mantra)"
        )
        assert raised.value.available == tuple(SHIPPED_NAMES)

    def test_unknown_name_lists_the_sets_of_p_apart_from_the_shipped(self):
        with pytest.raises(UnknownPatternSet) as raised:
            load_pattern_sets([str(FIXTURES / "valid.yaml")], ["test-vow"])
        assert str(raised.value) == (
            "test-vow: no pattern set named 'test-vow' (did you mean 'test-vows'? shipped:"
            " animal-welfare, bodhisattva-vow, heart-sutra-mantra; from -p: test-vows)"
        )
        assert raised.value.available == tuple(sorted([*SHIPPED_NAMES, "test-vows"]))

    def test_two_sets_with_one_name_are_refused(self):
        directory = FIXTURES / "same-name"
        with pytest.raises(PatternError) as raised:
            load_pattern_sets([str(directory)], [])
        assert str(raised.value) == (
            f"{directory / 'two.yaml'}: pattern set name 'test-vows' is already used by"
            f" {directory / 'one.yaml'}"
        )

    def test_missing_path(self, tmp_path):
        with pytest.raises(PatternError) as raised:
            load_pattern_sets([str(tmp_path / "nope")], [])
        assert str(raised.value) == f"{tmp_path / 'nope'}: no such file or directory"

    def test_directory_without_pattern_files(self, tmp_path):
        with pytest.raises(PatternError) as raised:
            load_pattern_sets([str(tmp_path)], [])
        assert raised.value.message == "no *.yaml or *.yml files in this directory"


class TestShippedSets:
    def test_shipped_sets_are_found_and_sorted_by_name(self):
        assert [s.name for s in shipped_sets()] == SHIPPED_NAMES

    @pytest.mark.parametrize("name", SHIPPED_NAMES)
    def test_shipped_file_has_no_problems(self, name):
        assert check_pattern_file(shipped_patterns_dir() / f"{name}.yaml") == []

    @pytest.mark.parametrize("pattern_set", shipped_sets(), ids=lambda s: s.name)
    def test_shipped_set_names_its_sources(self, pattern_set):
        assert pattern_set.description
        assert len(pattern_set.sources) >= 2
        assert all(len(source) > 20 for source in pattern_set.sources)

    def test_bodhisattva_vow_has_the_four_vows_and_a_recitation_rule(self):
        [vows] = load_pattern_sets([], ["bodhisattva-vow"])
        patterns = {p.id: p for p in vows.patterns}
        for vow in ("save-all-beings", "end-delusions", "enter-dharma-gates", "become-buddha-way"):
            assert vow in patterns
        assert "중생무변서원도" in patterns["save-all-beings"].phrases
        assert "衆生無邊誓願度" in patterns["save-all-beings"].phrases
        assert "众生无边誓愿度" in patterns["save-all-beings"].phrases
        recitation = patterns["vow-recitation"]
        assert (recitation.all_of, recitation.within) == (
            ("liberate all beings", "without number"),
            200,
        )

    def test_every_shipped_pattern_has_something_to_match(self):
        for pattern_set in shipped_sets():
            for pattern in pattern_set.patterns:
                assert pattern.phrases or len(pattern.all_of) >= 2, pattern.id


class TestLimits:
    """Hostile pattern files end in one file:line:col error each, never a traceback."""

    @staticmethod
    def errors_of(tmp_path, text: str, limits: PatternLimits = DEFAULT_LIMITS) -> list[tuple]:
        path = tmp_path / "hostile.yaml"
        path.write_text(text, encoding="utf-8")
        return [(e.line, e.column, e.message) for e in check_pattern_file(path, limits)]

    @pytest.mark.parametrize("depth", [2_000, 10_000])
    def test_nesting_beyond_the_limit_is_one_error_at_the_first_level_too_deep(
        self, tmp_path, depth
    ):
        text = "name: deep\npatterns:\n  - " + "[" * depth + "x" + "]" * depth + "\n"
        # The mapping and `patterns` are two levels: the 19th bracket is the 21st.
        assert self.errors_of(tmp_path, text) == [
            (3, 5 + 18, "nested deeper than 20 levels of lists and mappings")
        ]
        with pytest.raises(PatternError, match=r"hostile\.yaml:3:23: nested deeper than 20"):
            load_pattern_sets([str(tmp_path / "hostile.yaml")])

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("0x_", "'within' must be a positive integer in decimal digits, not '0x_'"),
            ("0b_", "'within' must be a positive integer in decimal digits, not '0b_'"),
            ("0x10", "'within' must be a positive integer in decimal digits, not '0x10'"),
            ("1_000", "'within' must be a positive integer in decimal digits, not '1_000'"),
            ("4" * 4301, "'within' must be at most 1000000"),
            ("1000001", "'within' must be at most 1000000"),
            ("0", "'within' must be a positive integer"),
            ("-5", "'within' must be a positive integer"),
            ("'200'", "'within' must be a positive integer"),
        ],
        ids=["hex-underscore", "binary-underscore", "hex", "separator", "4301-digits",
             "above-maximum", "zero", "negative", "quoted"],
    )
    def test_within_must_be_plain_decimal_digits_up_to_the_maximum(self, tmp_path, value, message):
        text = ("name: w\npatterns:\n  - id: r\n    all_of: [gate gate, bodhi svaha]\n"
                f"    within: {value}\n")
        assert self.errors_of(tmp_path, text) == [(5, 13, message)]

    def test_within_at_the_maximum_is_read(self, tmp_path):
        path = tmp_path / "w.yaml"
        path.write_text("name: w\npatterns:\n  - id: r\n    all_of: [gate gate, bodhi svaha]\n"
                        "    within: 001000000\n", encoding="utf-8")
        assert load_pattern_set(path).patterns[0].within == 1_000_000

    def test_phrases_beyond_the_count_limit_are_one_error_at_the_first_too_many(self, tmp_path):
        text = ("name: many\npatterns:\n  - id: a\n    phrases: [one, two, three]\n"
                "  - id: b\n    all_of: [four, five]\n    within: 9\n  - six\n  - seven\n")
        assert self.errors_of(tmp_path, text, PatternLimits(max_phrases=5)) == [
            (8, 5, "more than 5 phrases in one pattern file")
        ]

    def test_phrase_longer_than_the_limit_is_an_error_naming_its_length(self, tmp_path):
        long = "om " * 334 + "ah"
        assert self.errors_of(tmp_path, f"name: long\npatterns:\n  - {long}\n  - short\n") == [
            (3, 5, "phrase of 1004 characters; at most 1000 characters are allowed")
        ]

    def test_a_pattern_of_many_phrases_is_checked_in_linear_time(self, tmp_path):
        phrases = "".join(f"      - phrase number {n} of many\n" for n in range(20_000))
        started = time.perf_counter()
        errors = self.errors_of(tmp_path, "name: many\npatterns:\n  - id: many\n    phrases:\n"
                                + phrases + "      - number 17 of\n")
        assert time.perf_counter() - started < 30  # checking phrase pairs took 150 s here
        assert errors == [
            (22, 9, ("phrase 'phrase number 17 of many' contains phrase 'number 17 of' of the same"
                    " pattern, so each occurrence would count twice")),
        ]
