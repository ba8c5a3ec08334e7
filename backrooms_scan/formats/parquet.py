"""Parquet datasets: one conversation per row, read row group by row group with pyarrow.

Hugging Face serves conversation datasets as Parquet: a ShareGPT `conversations` or
OpenAI `messages` column of message records, other columns (model, id, time) beside
it. Each row is read as the JSON reader reads one object (chatjson's conversation
rules), so speakers, roles and models come out the same as from the equivalent JSONL.
pyarrow is the optional extra `parquet`; without it such a file is skipped, saying so.
A hit's `line` is its row (from 1), its `column` 1.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import io
from collections.abc import Iterator

from backrooms_scan.decode import Document
from backrooms_scan.formats import Format
from backrooms_scan.formats.chatjson import conversation_from_object
from backrooms_scan.records import Conversation, SkipFile

NAME = "parquet"
MAGIC = "PAR1"
ROWS_PER_BATCH = 64
NEEDS_PYARROW = "Parquet needs pyarrow: pip install 'backrooms-scan[parquet]'"


def sniff(name: str, head_text: str) -> float:
    """Certain for content opening with the Parquet magic bytes."""
    return 1.0 if head_text.startswith(MAGIC) else 0.0


def load(doc: Document) -> Iterator[Conversation]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise SkipFile(NEEDS_PYARROW) from None
    stream = doc.stream
    if not stream.seekable():  # compressed or in an archive: Parquet is read from its end
        stream = io.BytesIO(stream.read())
    try:
        table = pq.ParquetFile(stream)
    except Exception as error:  # noqa: BLE001 - pyarrow's errors are of many kinds
        raise SkipFile(f"not a readable Parquet file: {error}") from None
    found = False
    row = 0
    for batch in table.iter_batches(batch_size=ROWS_PER_BATCH):
        for record in batch.to_pylist():
            row += 1
            conversation = conversation_from_object(
                json_ready(record), f"{doc.path}#{row}", doc.path, line=row)
            if conversation is not None:
                found = True
                yield conversation
    if not found:
        raise SkipFile("not a transcript (no row holds a conversation)")


def json_ready(value: object) -> object:
    """A row as JSON would give it: times as ISO strings, bytes as text, decimals as numbers."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


FORMATS = [Format(NAME, sniff, load, (__doc__ or "").strip().split("\n")[0], binary=True)]
