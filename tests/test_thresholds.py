import pytest

from backrooms_scan.thresholds import ThresholdError, parse_threshold, tripped

SUMMARY = {
    "hits": 7, "hits_including_replays": 9, "files_scanned": 3, "files_skipped": 1,
    "files_repaired": 0, "conversations": 3, "turns_matched": 40, "errors": 0,
    "patterns": [
        {"set": "heart-sutra-mantra", "pattern": "gate-gate", "hits": 2},
        {"set": "heart-sutra-mantra", "pattern": "gloss", "hits": 1},
        {"set": "animal-welfare", "pattern": "animal-welfare", "hits": 4},
    ],
}


def test_total_hits_threshold_trips_when_expression_holds():
    assert parse_threshold("hits>5").trips(SUMMARY)
    assert not parse_threshold("hits>7").trips(SUMMARY)
    assert parse_threshold("hits >= 7").trips(SUMMARY)


def test_set_name_sums_its_patterns():
    assert parse_threshold("heart-sutra-mantra>2").trips(SUMMARY)
    assert not parse_threshold("heart-sutra-mantra>3").trips(SUMMARY)


def test_set_and_pattern_name_selects_one_pattern():
    assert parse_threshold("heart-sutra-mantra/gloss==1").trips(SUMMARY)


def test_every_tripped_threshold_gives_a_reason_line_in_order():
    thresholds = [parse_threshold(t) for t in ("hits>1", "hits<1", "files_skipped>0")]
    assert tripped(thresholds, SUMMARY) == ["--fail-if 'hits>1' tripped: hits = 7",
                                            "--fail-if 'files_skipped>0' tripped: files_skipped = 1"]


def test_nothing_tripped_gives_no_reason():
    assert tripped([parse_threshold("hits>100")], SUMMARY) == []


def test_malformed_expression_is_refused_with_an_example():
    with pytest.raises(ThresholdError, match="expected NAME OP NUMBER"):
        parse_threshold("hits>>")


def test_unknown_name_is_an_error_not_zero():
    with pytest.raises(ThresholdError, match="no count or pattern named 'bogus'"):
        parse_threshold("bogus>0").trips(SUMMARY)
