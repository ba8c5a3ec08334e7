from backrooms_scan.records import Role, Turn
from backrooms_scan.select import Selection


def turn(role=Role.SPOKEN, model="claude-3-opus-20240229", speaker="claude-explorer",
         scenario="vanilla backrooms", timestamp="2024-03-05T10:00:00Z"):
    return Turn("c", 1, speaker, role, "text", "f.txt", 1, model=model, scenario=scenario,
                timestamp=timestamp)


def test_default_selection_keeps_only_spoken_turns():
    selection = Selection()
    assert selection.wants(turn())
    assert not selection.wants(turn(role=Role.SYSTEM))
    assert not selection.wants(turn(role=Role.CONTEXT))


def test_model_glob_is_case_insensitive():
    selection = Selection(models=("CLAUDE-3-*",))
    assert selection.wants(turn())
    assert not selection.wants(turn(model="gpt-4o"))


def test_glob_filters_leave_out_turns_without_the_field():
    assert not Selection(models=("claude*",)).wants(turn(model=None))


def test_several_globs_of_one_filter_are_alternatives():
    selection = Selection(speakers=("*simulator", "*explorer"))
    assert selection.wants(turn(speaker="claude-simulator"))
    assert not selection.wants(turn(speaker="user"))


def test_dates_are_inclusive_and_accept_prefixes():
    assert Selection(since="2024-03-05").wants(turn())
    assert Selection(until="2024-03-05").wants(turn())
    assert Selection(since="2024-03", until="2024-03").wants(turn())
    assert not Selection(since="2024-03-06").wants(turn())
    assert not Selection(until="2024-02").wants(turn())


def test_date_filters_leave_out_turns_without_timestamp():
    assert not Selection(since="2000").wants(turn(timestamp=None))
    assert Selection().wants(turn(timestamp=None))


def test_select_keeps_in_order_exactly_the_turns_each_filter_wants():
    turns = [turn(role=role, model=model, timestamp=stamp)
             for role in Role for model in ("claude-3-opus", "gpt-4", None)
             for stamp in ("2024-03-05T10:00:00Z", "", None)]
    selections = [Selection(), Selection(roles=frozenset(Role)), Selection(models=("gpt*",)),
                  Selection(since=""), Selection(since="2024-03", until="2024-03")]
    for selection in selections:
        assert selection.select(turns) == [t for t in turns if selection.wants(t)]


def test_a_pattern_without_wildcards_selects_values_containing_it():
    assert Selection(models=("claude-3-opus",)).wants(turn())
    assert Selection(models=("OPUS",)).wants(turn())
    assert not Selection(models=("claude-3-opus",)).wants(turn(model="claude-3-sonnet"))


def test_a_glob_must_match_the_whole_value():
    assert not Selection(models=("claude-3-opus*2023",)).wants(turn())
    assert Selection(models=("claude-3-[o]pus-*",)).wants(turn())


def test_values_seen_are_those_of_filtered_fields_in_wanted_roles():
    turns = [turn(), turn(model="gpt-4o", speaker="sim"), turn(role=Role.SYSTEM, model="hidden")]
    assert Selection(models=("x",)).values_seen(turns) == {("model", "claude-3-opus-20240229"),
                                                           ("model", "gpt-4o")}
    assert Selection().values_seen(turns) == set()
