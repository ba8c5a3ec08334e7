"""The breakdowns a summary can give (`--by`), and those it gives unless asked."""

DIMENSIONS = ("model", "speaker", "scenario", "month", "conversation", "file", "relation")
DEFAULT_BY = ("model", "speaker")
