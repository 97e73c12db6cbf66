"""Frozen, slotted value classes without attrs: the equality, hash, repr and pickling they share.

The public models, the core's effects and the configuration are plain classes with ``__slots__``
and a hand-written ``__init__`` rather than attrs classes: attrs costs a fifth of ``import httpx``
to import, and builds each class's methods with ``exec`` at import (about a millisecond a class),
which ``from sora2_characters import Client`` would pay before any request. attrs still loads with
the generated client, on the first request.

A subclass lists its fields in ``__slots__`` and in ``__match_args__`` (the ``__init__`` order),
sets them in ``__init__`` through :data:`setter`, and names the fields left out of
equality, hashing or the repr. What it gets matches ``attrs.frozen``: assignment and deletion raise
``AttributeError``, ``==`` compares the fields of two instances of the same class, ``hash`` hashes
the hashable ones, the repr reads ``Name(field=value, ...)``, and pickling rebuilds the instance
through ``__init__``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, NoReturn

__all__ = ["Record", "setter"]

#: ``setter(self)`` is ``object.__setattr__`` bound to ``self``: how an ``__init__`` sets its fields
#: past the frozen ``__setattr__`` (bound once, it is faster per field than attrs' own ``__init__``).
setter: Callable[[object], Callable[[str, Any], None]] = object.__setattr__.__get__


class Record:
    """The base of a frozen slotted record (see the module docstring)."""

    __slots__ = ()
    #: Every field, in ``__init__`` order (pattern matching and pickling use it).
    __match_args__: ClassVar[tuple[str, ...]] = ()
    #: Fields left out of ``==`` (and so of ``hash``), of ``hash`` alone, and of the repr.
    _not_compared: ClassVar[frozenset[str]] = frozenset()
    _not_hashed: ClassVar[frozenset[str]] = frozenset()
    _not_shown: ClassVar[frozenset[str]] = frozenset()
    _compared: ClassVar[tuple[str, ...]] = ()
    _hashed: ClassVar[tuple[str, ...]] = ()
    _shown: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        fields = cls.__match_args__
        cls._compared = tuple(f for f in fields if f not in cls._not_compared)
        cls._hashed = tuple(f for f in cls._compared if f not in cls._not_hashed)
        cls._shown = tuple(f for f in fields if f not in cls._not_shown)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._compared)

    def __hash__(self) -> int:
        return hash((type(self).__qualname__, *(getattr(self, f) for f in self._hashed)))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._shown)
        return f"{type(self).__name__}({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), tuple(getattr(self, f) for f in self.__match_args__))
