"""How a scan request is read from the command line and its environment."""

from __future__ import annotations

import pytest
from mock_environment import mock_environment

from backrooms_scan.commands import RequestError, ScanRequest

DEFAULTS = {
    "input_format": None, "exact": False, "word": False, "role": "spoken", "models": (),
    "speakers": (), "scenarios": (), "since": None, "until": None, "count_replays": False,
    "output_format": None, "count_only": False, "quiet": False, "include_hits": False,
    "by": (), "context": 60, "max_snippets": 3, "no_snippets": False, "chart": False,
    "fail_if": (), "jobs": None, "shard": None, "engine": "auto", "no_fix_text": False,
    "output": None, "color": "auto", "verbose": False,
}


def request(environ=None, stdout_tty=True, stderr_tty=True, **options) -> ScanRequest:
    env = mock_environment(tty=stdout_tty, stderr_tty=stderr_tty, environ=environ)
    return ScanRequest.from_cli(["dump"], [], {**DEFAULTS, **options}, env)


def test_a_terminal_gets_a_coloured_table():
    made = request()
    assert (made.output_format, made.report.color) == ("table", True)


def test_a_pipe_gets_plain_text():
    made = request(stdout_tty=False)
    assert (made.output_format, made.report.color) == ("plain", False)


def test_no_color_keeps_the_table_on_a_terminal_without_colour():
    made = request(environ={"NO_COLOR": "1"})
    assert (made.output_format, made.report.color) == ("table", False)


def test_force_color_colours_a_pipe_and_color_never_wins_over_it():
    assert request(stdout_tty=False, environ={"FORCE_COLOR": "1"}).report.color is True
    assert request(environ={"FORCE_COLOR": "1"}, color="never").report.color is False
    assert request(stdout_tty=False, color="always").report.color is True


def test_an_output_file_gets_plain_text_without_colour():
    made = request(output="report.txt")
    assert (made.output_format, made.report.color) == ("plain", False)
    assert request(output="-").output_format == "table"


def test_a_terminal_table_is_as_wide_as_the_terminal():
    assert request().report.width == 80
    assert request(stdout_tty=False).report.width is None


@pytest.mark.parametrize(("environ", "stderr_tty", "quiet", "shown"), [
    ({}, True, False, True),
    ({"CI": "true"}, True, False, False),
    ({}, False, False, False),
    ({}, True, True, False),
])
def test_progress_only_on_a_terminal_outside_ci(environ, stderr_tty, quiet, shown):
    assert request(environ=environ, stderr_tty=stderr_tty, quiet=quiet).progress is shown


def test_default_breakdowns_are_model_and_speaker():
    assert request().report.by == ("model", "speaker")
    assert request(by=("month", "month", "file")).report.by == ("month", "file")


def test_bad_values_are_refused_with_one_line():
    with pytest.raises(RequestError) as refused:
        request(since="March 2024")
    assert str(refused.value) == "--since 'March 2024': expected YYYY, YYYY-MM or YYYY-MM-DD"
