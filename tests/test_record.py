"""rescue.record behaves as dataclasses does for the features the project uses.

The reference is the standard library itself: each case defines the same
class body twice, once with ``dataclasses.dataclass`` and once with
``rescue.record.record``, and the two must agree on construction, repr,
equality, hashing, immutability, pickling, ``replace`` and ``asdict``.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rescue import record as rec


def twins(
    body: dict[str, object], annotations: dict[str, str], **options: bool
) -> tuple[type, type]:
    def make(decorate, fieldspec):  # type: ignore[no-untyped-def]
        namespace = {
            k: (fieldspec(**v.kwargs) if isinstance(v, Spec) else v) for k, v in body.items()
        }
        namespace["__annotations__"] = dict(annotations)
        namespace["__module__"] = __name__
        return decorate(**options)(type("Thing", (), namespace))

    return make(dataclasses.dataclass, dataclasses.field), make(rec.record, rec.field)


class Spec:
    def __init__(self, **kwargs: object) -> None:
        self.kwargs = kwargs


LAYOUT = (
    {"note": "", "tags": Spec(default_factory=list), "hidden": Spec(default=0, repr=False)},
    {"name": "str", "size": "int", "note": "str", "tags": "list[str]", "hidden": "int"},
)


@pytest.mark.parametrize("options", [{}, {"frozen": True}, {"frozen": True, "slots": True}])
def test_construction_repr_and_equality_match_dataclasses(options: dict[str, bool]) -> None:
    std, ours = twins(*LAYOUT, **options)
    for args, kwargs in [
        (("a", 1), {}),
        (("a",), {"size": 2, "note": "n"}),
        ((), {"name": "b", "size": 3}),
    ]:
        a, b = std(*args, **kwargs), ours(*args, **kwargs)
        assert repr(a) == repr(b)
        assert dataclasses.asdict(a) == rec.asdict(b)
        assert ours(*args, **kwargs) == b and ours("other", 9) != b
        assert b.tags == [] and b.tags is not ours(*args, **kwargs).tags  # a fresh list each time
    assert [f.name for f in dataclasses.fields(std)] == [f.name for f in rec.fields(ours)]
    assert ours.__match_args__ == std.__match_args__


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((), {}),
        (("a", 1, "n", [], 0, "extra"), {}),
        (("a",), {"name": "b", "size": 1}),
        (("a", 1), {"colour": "red"}),
    ],
)
def test_bad_calls_fail_as_dataclasses_do(args: tuple, kwargs: dict) -> None:
    std, ours = twins(*LAYOUT)
    with pytest.raises(TypeError):
        std(*args, **kwargs)
    with pytest.raises(TypeError):
        ours(*args, **kwargs)


def test_frozen_records_refuse_assignment_and_hash_by_value() -> None:
    _, ours = twins({"size": 0}, {"name": "str", "size": "int"}, frozen=True)
    thing = ours("a", 1)
    with pytest.raises(AttributeError):
        thing.size = 2
    with pytest.raises(rec.FrozenRecordError):
        del thing.name
    assert hash(thing) == hash(ours("a", 1))
    assert len({thing, ours("a", 1), ours("a", 2)}) == 2


def test_mutable_records_are_unhashable_and_assignable() -> None:
    std, ours = twins({}, {"name": "str"})
    assert std.__hash__ is None and ours.__hash__ is None
    thing = ours("a")
    thing.name = "b"
    assert thing == ours("b")


@pytest.mark.parametrize("options", [{"frozen": True}, {"frozen": True, "slots": True}, {}])
def test_pickle_and_copy_round_trip(options: dict[str, bool]) -> None:
    thing = Pickled[str(options)]("a", [1, 2])  # type: ignore[index]
    for twin in (pickle.loads(pickle.dumps(thing)), copy.copy(thing), copy.deepcopy(thing)):
        assert twin == thing and twin is not thing


@rec.record(frozen=True)
class FrozenPickled:
    name: str
    items: list[int]


@rec.record(frozen=True, slots=True)
class SlottedPickled:
    name: str
    items: list[int]


@rec.record
class PlainPickled:
    name: str
    items: list[int]


Pickled = {
    str({"frozen": True}): FrozenPickled,
    str({"frozen": True, "slots": True}): SlottedPickled,
    str({}): PlainPickled,
}


def test_slots_leave_no_instance_dict() -> None:
    thing = SlottedPickled("a", [])
    assert not hasattr(thing, "__dict__")
    assert SlottedPickled.__slots__ == ("name", "items")


@rec.record(frozen=True)
class Base:
    kind: str
    size: int = 0


@rec.record(frozen=True)
class Derived(Base):
    label: str = ""
    shared: ClassVar[int] = 7

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError("size must not be negative")


def test_inheritance_class_vars_and_post_init() -> None:
    assert [f.name for f in rec.fields(Derived)] == ["kind", "size", "label"]
    assert Derived("k", 2, "x") == Derived(kind="k", size=2, label="x")
    assert Derived("k") != Base("k")  # different classes never compare equal
    assert Derived.shared == 7
    with pytest.raises(ValueError):
        Derived("k", -1)
    with pytest.raises(ValueError):
        rec.replace(Derived("k"), size=-5)  # replace runs __post_init__ again
    assert rec.replace(Derived("k", 1), label="y") == Derived("k", 1, "y")
    with pytest.raises(TypeError):
        rec.replace(Derived("k"), colour="red")


@rec.record(frozen=True)
class Outer:
    inner: Base
    more: tuple[Base, ...] = ()
    table: dict[str, Base] = rec.field(default_factory=dict)


def test_asdict_recurses_into_records_and_containers() -> None:
    value = Outer(Base("a", 1), (Base("b"),), {"c": Base("c", 3)})
    assert rec.asdict(value) == {
        "inner": {"kind": "a", "size": 1},
        "more": ({"kind": "b", "size": 0},),
        "table": {"c": {"kind": "c", "size": 3}},
    }
    with pytest.raises(TypeError):
        rec.fields(object())


def test_compare_false_fields_are_left_out_of_equality() -> None:
    std, ours = twins(
        {"cache": Spec(default=None, compare=False)}, {"name": "str", "cache": "object"}
    )
    assert std("a", 1) == std("a", 2)
    assert ours("a", 1) == ours("a", 2) and ours("a", 1) != ours("b", 1)


@pytest.mark.parametrize(
    "body, annotations, error",
    [
        ({"items": []}, {"items": "list"}, ValueError),  # one mutable default shared by all
        ({"a": 1}, {"a": "int", "b": "int"}, TypeError),
    ],  # a field without a default after one with
)
def test_definition_errors_match_dataclasses(body: dict, annotations: dict, error: type) -> None:
    for decorate in (dataclasses.dataclass, rec.record):
        namespace = {**body, "__annotations__": annotations}
        with pytest.raises(error):
            decorate(type("Bad", (), namespace))
    with pytest.raises(ValueError):
        rec.field(default=1, default_factory=int)


@given(st.text(max_size=8), st.integers(), st.text(max_size=8))
def test_any_values_agree_with_dataclasses(name: str, size: int, note: str) -> None:
    std, ours = twins({"note": ""}, {"name": "str", "size": "int", "note": "str"}, frozen=True)
    a, b = std(name, size, note), ours(name, size, note)
    assert repr(a) == repr(b)
    assert (hash(a) == hash(std(name, size, note))) and (hash(b) == hash(ours(name, size, note)))
    assert (b == ours(name, size + 1, note)) is False
