"""A read-only sequence whose items are made when they are read, not stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class MadeOnRead(Sequence[T]):
    """Indexing and slicing as a list's, for a class that gives `__len__` and `_item(i)`
    for 0 <= i < len(self)."""

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self._item(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._item(index)

    def _item(self, index: int) -> T:
        raise NotImplementedError
