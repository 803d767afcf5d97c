"""Freezing the startup heap."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.process.heap import freeze_startup_heap


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_what_is_alive_is_frozen_and_garbage_is_collected_first(unfrozen: None) -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    kept = Node()
    Node()  # a cycle that is already garbage
    frozen = freeze_startup_heap()
    assert frozen == gc.get_freeze_count() > 0
    assert gc.is_tracked(kept)
    assert not [o for o in gc.get_objects() if type(o) is Node]  # frozen objects are not listed
    gc.unfreeze()
    assert [o for o in gc.get_objects() if type(o) is Node] == [kept]
