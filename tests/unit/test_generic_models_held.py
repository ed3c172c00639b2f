"""A replayed test leaves the SDKs' parametrized pydantic models alive for the next test: pydantic caches
``Model[T]`` weakly, and the garbage collector would drop it and the SDK rebuild it on its next call."""

from __future__ import annotations

import gc
import weakref
from typing import Generic, TypeVar

from pydantic import BaseModel

from harness.config import Settings
from harness.session import Session

T = TypeVar("T")


class Box(BaseModel, Generic[T]):
    item: T


def test_a_generic_model_parametrized_in_a_test_survives_a_collection(tmp_path) -> None:
    class Item(BaseModel):
        name: str

    session = Session(Settings(record_mode="once"), tmp_path / "c.json", "t::generic")
    session.start()
    built = weakref.ref(Box[Item])
    session.stop()
    gc.collect()
    assert built() is not None  # still alive: the next Box[Item] is this class, not a rebuilt one
    assert Box[Item] is built()
