"""The package exports exactly what its modules define as public, derived, never listed by hand.

As httpx's ``tests/test_exported_members.py`` does: the expected names come from the modules
themselves (every public name bound in the package, the lazily loaded clients, every exception of
the tree and every model), so a new class cannot be forgotten in ``__all__`` and a stale name cannot
linger there.
"""

from __future__ import annotations

import inspect
import types

import sora2_characters
from sora2_characters import _client, _exceptions, _models


def _bound_public_names() -> set[str]:
    """Every public name bound in the package's namespace (submodules are not exports)."""
    return {
        name
        for name, value in vars(sora2_characters).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }


def _defined_here(module: types.ModuleType) -> set[str]:
    """The public classes a private module defines (not those it imports)."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and inspect.isclass(value) and value.__module__ == module.__name__
    }


def test_all_is_sorted_and_names_every_bound_public_name_and_the_version() -> None:
    exported = set(sora2_characters.__all__)
    assert list(sora2_characters.__all__) == sorted(sora2_characters.__all__)
    assert len(exported) == len(sora2_characters.__all__)
    lazy = set(_client.__all__)  # loaded on first access by the package's __getattr__
    assert exported == _bound_public_names() | lazy | {"__version__"}


def test_every_exception_of_the_tree_is_exported() -> None:
    errors = {
        name
        for name in _defined_here(_exceptions)
        if issubclass(getattr(_exceptions, name), sora2_characters.Sora2CharactersError)
    }
    assert errors
    assert errors <= set(sora2_characters.__all__)
    assert set(_exceptions.__all__) - errors == {"error_class_for_code", "is_transient_failure"}


def test_every_model_and_client_is_exported_and_is_the_defining_object() -> None:
    for module in (_models, _client):
        public = set(module.__all__)
        assert public == _defined_here(module)
        assert public <= set(sora2_characters.__all__)
        for name in public:
            assert getattr(sora2_characters, name) is getattr(module, name), name


def test_every_export_resolves_and_is_listed_by_dir() -> None:
    listed = set(dir(sora2_characters))
    for name in sora2_characters.__all__:
        assert name in listed, name
        assert getattr(sora2_characters, name) is not None, name
