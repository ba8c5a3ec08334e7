"""How a scan request is read from the command line and its environment."""

from __future__ import annotations

import pytest

from backrooms_scan.run import ScanRequest

DEFAULTS = {
    "input_format": None, "exact": False, "word": False, "role": "spoken", "models": (),
    "speakers": (), "scenarios": (), "since": None, "until": None, "count_replays": False,
    "output_format": None, "count_only": False, "quiet": False, "include_hits": False,
    "by": (), "context": 60, "max_snippets": 3, "no_snippets": False, "chart": False,
    "fail_if": (), "jobs": None, "shard": None, "engine": "auto", "no_fix_text": False,
    "output": None,
}


def request(environ=None, stdout_tty=True, stderr_tty=True, **options) -> ScanRequest:
    return ScanRequest.from_cli(["dump"], [], {**DEFAULTS, **options}, environ=environ or {},
                                stdout_is_tty=stdout_tty, stderr_is_tty=stderr_tty)


def test_a_terminal_gets_a_coloured_table():
    made = request()
    assert (made.output_format, made.report.color) == ("table", True)


def test_a_pipe_gets_plain_text():
    made = request(stdout_tty=False)
    assert (made.output_format, made.report.color) == ("plain", False)


def test_no_color_gets_plain_text_even_on_a_terminal():
    made = request(environ={"NO_COLOR": "1"})
    assert (made.output_format, made.report.color) == ("plain", False)


def test_an_output_file_gets_plain_text():
    assert request(output="report.txt").output_format == "plain"


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


def test_bad_values_exit_2(capsys):
    with pytest.raises(SystemExit) as exited:
        request(since="March 2024")
    assert exited.value.code == 2
    assert "--since 'March 2024': expected YYYY, YYYY-MM or YYYY-MM-DD" in capsys.readouterr().err
