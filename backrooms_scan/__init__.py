"""Count what language models say to each other in transcript dumps."""

__version__ = "0.1.0"
