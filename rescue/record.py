"""Value classes built without compiling code: rescue's stand-in for dataclasses.

Why not the standard library: ``dataclasses`` writes the source text of each
class's ``__init__``, ``__repr__``, ``__eq__`` (and ``__setattr__`` when
frozen) and compiles it when the class is defined, and it imports
``inspect`` (with ``ast``, ``dis`` and ``tokenize``) to do so. In the TCG
guest that cost about 17 ms a class and 0.13 s for the module: a short
scan's summed import time fell from 2.1 s to 1.3 s without them
(docs/performance.md, "A user's scan in the guest"). ``record`` builds the
same methods from closures over a tuple of field names, which costs about
what a plain ``class`` statement costs.

What it keeps of dataclasses' behaviour, the part this project uses: fields
in annotation order (a base record's first), defaults and
``field(default_factory=...)``, ``repr=False`` and ``compare=False``,
``frozen`` (``FrozenRecordError``, an AttributeError, on assignment),
``slots``, ``__post_init__``, ``__match_args__``, equality by class and
fields, and a hash for frozen records. ``fields``, ``asdict`` and
``replace`` work as their dataclasses namesakes do for these classes.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform

    T = TypeVar("T")
else:

    def dataclass_transform(**_: object) -> Callable[[Any], Any]:
        return lambda decorator: decorator


_MISSING: Any = object()
_FIELDS = "__record_fields__"


class FrozenRecordError(AttributeError):
    """An assignment to a field of a frozen record."""


class Field:
    """One field's name, default and roles, as ``fields()`` reports it."""

    __slots__ = ("name", "default", "default_factory", "repr", "compare")

    def __init__(
        self,
        default: Any = _MISSING,
        default_factory: Callable[[], Any] | Any = _MISSING,
        repr: bool = True,  # noqa: A002 - the dataclasses keyword
        compare: bool = True,
    ) -> None:
        if default is not _MISSING and default_factory is not _MISSING:
            raise ValueError("a field takes a default or a default_factory, not both")
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare

    def __repr__(self) -> str:
        return f"Field({self.name!r})"


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | Any = _MISSING,
    repr: bool = True,  # noqa: A002 - the dataclasses keyword
    compare: bool = True,
) -> Any:
    """A field with a factory for its default, or left out of repr or equality."""
    return Field(default, default_factory, repr, compare)


def _is_class_var(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _own_fields(cls: type) -> list[Field]:
    own = cls.__dict__
    found = []
    for name, annotation in own.get("__annotations__", {}).items():
        if _is_class_var(annotation):
            continue
        value = own.get(name, _MISSING)
        spec = value if isinstance(value, Field) else Field(value)
        if isinstance(spec.default, (list, dict, set, bytearray)):
            raise ValueError(f"{cls.__name__}.{name}: a mutable default needs default_factory")
        spec.name = name
        found.append(spec)
    return found


def _collect(cls: type) -> tuple[Field, ...]:
    merged: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for spec in base.__dict__.get(_FIELDS, ()):
            merged[spec.name] = spec
    for spec in _own_fields(cls):
        merged[spec.name] = spec
    specs = tuple(merged.values())
    seen_default = False
    for spec in specs:
        has_default = spec.default is not _MISSING or spec.default_factory is not _MISSING
        if seen_default and not has_default:
            raise TypeError(f"{cls.__name__}.{spec.name}: a field without a default after one with")
        seen_default = seen_default or has_default
    return specs


def _make_init(specs: tuple[Field, ...], frozen: bool, post_init: bool) -> Callable[..., None]:
    names = tuple([spec.name for spec in specs])
    plain = tuple([spec.default for spec in specs])
    factories = tuple([spec.default_factory for spec in specs])
    count = len(names)
    put = object.__setattr__ if frozen else setattr

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        given = len(args)
        if given > count:
            raise TypeError(f"{type(self).__name__}() takes {count} fields, {given} were given")
        for index in range(count):
            name = names[index]
            if index < given:
                value = args[index]
                if name in kwargs:
                    raise TypeError(f"{type(self).__name__}() got {name!r} twice")
            elif name in kwargs:
                value = kwargs.pop(name)
            elif plain[index] is not _MISSING:
                value = plain[index]
            elif factories[index] is not _MISSING:
                value = factories[index]()
            else:
                raise TypeError(f"{type(self).__name__}() is missing field {name!r}")
            put(self, name, value)
        if kwargs:
            raise TypeError(f"{type(self).__name__}() got no field {next(iter(kwargs))!r}")
        if post_init:
            self.__post_init__()

    return __init__


def _make_methods(cls: type, specs: tuple[Field, ...], frozen: bool, slots: bool) -> dict[str, Any]:
    """The methods ``cls`` does not define itself, as dataclasses would add them."""
    shown = tuple([spec.name for spec in specs if spec.repr])  # lists: no generator to run
    compared = tuple([spec.name for spec in specs if spec.compare])
    everything = tuple([spec.name for spec in specs])
    own = cls.__dict__

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{type(self).__qualname__}({inner})"

    def key(self: Any) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in compared)

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return key(self) == key(other)

    def __hash__(self: Any) -> int:
        return hash(key(self))

    def __setattr__(self: Any, name: str, value: object) -> None:
        raise FrozenRecordError(f"{type(self).__name__}.{name} cannot be assigned: frozen")

    def __delattr__(self: Any, name: str) -> None:
        raise FrozenRecordError(f"{type(self).__name__}.{name} cannot be deleted: frozen")

    def __getstate__(self: Any) -> tuple[Any, ...]:  # pickle and copy of a frozen slotted record
        return tuple(getattr(self, name) for name in everything)

    def __setstate__(self: Any, state: tuple[Any, ...]) -> None:
        for name, value in zip(everything, state, strict=True):
            object.__setattr__(self, name, value)

    methods: dict[str, Any] = {}
    if "__repr__" not in own:
        methods["__repr__"] = __repr__
    own_eq = "__eq__" in own
    if not own_eq:
        methods["__eq__"] = __eq__
    # A class body that defines __eq__ gets __hash__ = None from Python itself: not its own choice.
    explicit_hash = "__hash__" in own and not (own["__hash__"] is None and own_eq)
    if not explicit_hash:
        methods["__hash__"] = __hash__ if frozen else None
    if frozen:
        methods["__setattr__"] = __setattr__
        methods["__delattr__"] = __delattr__
        if slots:
            methods["__getstate__"] = __getstate__
            methods["__setstate__"] = __setstate__
    if "__match_args__" not in own:
        methods["__match_args__"] = everything
    return methods


def _build(cls: type, frozen: bool, slots: bool) -> type:
    specs = _collect(cls)
    methods = _make_methods(cls, specs, frozen, slots)
    methods["__init__"] = _make_init(specs, frozen, hasattr(cls, "__post_init__"))
    qualname = cls.__qualname__
    for name, method in methods.items():
        if callable(method):
            method.__qualname__ = f"{qualname}.{name}"
    methods[_FIELDS] = specs
    if slots:  # a new class, made with its methods (setting a method on a class costs more)
        namespace = {k: v for k, v in cls.__dict__.items() if k not in ("__dict__", "__weakref__")}
        for spec in specs:
            namespace.pop(spec.name, None)
        inherited = {n for base in cls.__mro__[1:] for n in getattr(base, "__slots__", ())}
        namespace["__slots__"] = tuple([s.name for s in specs if s.name not in inherited])
        return type(cls)(cls.__name__, cls.__bases__, namespace | methods)
    for spec in specs:
        if isinstance(cls.__dict__.get(spec.name), Field):
            if spec.default is _MISSING:
                delattr(cls, spec.name)
            else:
                setattr(cls, spec.name, spec.default)
    for name, method in methods.items():
        setattr(cls, name, method)
    return cls


@dataclass_transform(field_specifiers=(field,))
def record(cls: type[T] | None = None, *, frozen: bool = False, slots: bool = False) -> Any:
    """Make ``cls`` a value class from its annotations: ``@record`` or ``@record(frozen=True)``."""
    if cls is None:
        return lambda inner: _build(inner, frozen, slots)
    return _build(cls, frozen, slots)


def fields(value: object) -> tuple[Field, ...]:
    """The fields of a record class or instance, in order."""
    try:
        return getattr(value, _FIELDS)  # type: ignore[no-any-return]
    except AttributeError:
        raise TypeError(f"{type(value).__name__} is not a record") from None


def is_record(value: object) -> bool:
    return hasattr(type(value), _FIELDS)


def asdict(value: object) -> dict[str, Any]:
    """A record as plain dicts, lists and values, nested records included."""
    return {spec.name: _plain(getattr(value, spec.name)) for spec in fields(value)}


def _plain(value: Any) -> Any:
    if is_record(value):
        return asdict(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {_plain(key): _plain(item) for key, item in value.items()}
    return value


def replace(value: T, **changes: Any) -> T:
    """A copy of a record with some fields changed (``__post_init__`` runs again)."""
    current = {spec.name: getattr(value, spec.name) for spec in fields(value)}
    unknown = set(changes) - set(current)
    if unknown:
        raise TypeError(f"{type(value).__name__} has no field {sorted(unknown)[0]!r}")
    return type(value)(**(current | changes))
