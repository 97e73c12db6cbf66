"""The public surface: documentation, sync/async parity, a light import.

What ``__all__`` holds is derived from the modules by ``test_exported_members.py``.
"""

from __future__ import annotations

import inspect
import subprocess
import sys

import sora2_characters
from sora2_characters import AsyncClient, Client, webhooks


def test_every_public_name_is_importable_and_documented() -> None:
    for name in sora2_characters.__all__:
        obj = getattr(sora2_characters, name)
        if name != "__version__":
            assert inspect.getdoc(obj), name
    for name in webhooks.__all__:
        assert getattr(webhooks, name) is not None
    for func in (webhooks.sign, webhooks.verify_signature, webhooks.parse_callback):
        assert inspect.getdoc(func)


def test_exceptions_share_one_root() -> None:
    for name in sora2_characters.__all__:
        obj = getattr(sora2_characters, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, sora2_characters.Sora2CharactersError), name


def _public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and callable(member)
    }


def _shape(signature: inspect.Signature) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


def test_sync_and_async_clients_have_the_same_methods_and_signatures() -> None:
    sync = _public_methods(Client)
    asynchronous = _public_methods(AsyncClient)
    sync["aclose"] = sync.pop("close")
    assert sync.keys() == asynchronous.keys()
    for name, signature in sync.items():
        assert _shape(signature) == _shape(asynchronous[name]), name
        assert inspect.iscoroutinefunction(getattr(AsyncClient, name)), name
        assert not inspect.iscoroutinefunction(getattr(Client, "close" if name == "aclose" else name)), name
    assert _shape(inspect.signature(Client.__init__)) == _shape(inspect.signature(AsyncClient.__init__))
    assert {"base_url", "upload_base_url"} <= {
        n for n, _ in inspect.getmembers(AsyncClient) if not n.startswith("_")
    }


def test_import_is_light() -> None:
    code = (
        "import sys, sora2_characters, sora2_characters.webhooks;"
        "heavy = {'httpx', 'hachoir', 'click', 'rich', 'starlette', 'uvicorn', 'anyio',"
        " 'sora2_characters_api'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_sync_client_import_leaves_the_async_machinery_attrs_and_the_generated_client_unloaded() -> None:
    # They load with the first request (the generated client, attrs, httpcore) or the first async
    # one (asyncio, anyio, sniffio); ``from sora2_characters import Client`` costs none of them.
    code = (
        "import sys; from sora2_characters import Client;"
        "later = {'asyncio', 'anyio', 'sniffio', 'attr', 'attrs', 'httpcore', 'sora2_characters_api'};"
        "print(sorted(later & {m.split('.')[0] for m in sys.modules}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
