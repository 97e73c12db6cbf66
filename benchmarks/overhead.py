"""Per-call overhead of Client/AsyncClient against a bare httpx call and the generated client.

All contenders talk to the same local server (:mod:`benchmarks._local_server`, in its own process),
over keep-alive connections, and get the same bytes back. The floor is a bare ``httpx`` request plus
``json.loads`` of the body; "generated" is the generated client's ``sync_detailed`` /
``asyncio_detailed`` (what a user without the wrapper would call); "wrapper" is our client, which
also validates its input and decodes the envelope into a typed result.

``run_async_without_sniffio`` repeats the async figures in a child interpreter where ``import
sniffio`` fails as it does when the package is missing (a meta-path finder scans ``sys.path`` for
it, as a missing module costs, then refuses it): httpcore retries that import on every async lock.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.abc
import importlib.machinery
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from sora2_characters import AsyncClient, Client
from sora2_characters_api.api.default import get_task_detail, sora_2_characters
from sora2_characters_api.client import AuthenticatedClient
from sora2_characters_api.models import Sora2CharactersBody, Sora2CharactersBodyInput

from ._local_server import CREATE_TASK, RECORD_INFO, TASK_ID
from ._stats import AsyncBlock, Block, interleave, interleave_async, summarize

API_KEY = "bench-key"
VIDEO_URL = "https://files.example.com/sora2-characters/x/character.mp4"
PROMPT = "A friendly cartoon character with expressive eyes"
TASK_PATH = "/api/v1/jobs/recordInfo"
CREATE_PATH = "/api/v1/jobs/createTask"
CREATE_BODY: dict[str, Any] = {
    "model": "sora-2-characters",
    "input": {"character_file_url": [VIDEO_URL], "character_prompt": PROMPT},
}
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def _generated_body() -> Sora2CharactersBody:
    return Sora2CharactersBody(
        input_=Sora2CharactersBodyInput(character_file_url=[VIDEO_URL], character_prompt=PROMPT)
    )


def run_sync(base_url: str, *, calls: int, rounds: int, warmup: int) -> dict[str, Any]:
    """Interleave the three sync contenders for ``get_task`` and ``create_character``."""
    bare = httpx.Client(base_url=base_url, headers=AUTH)
    generated = AuthenticatedClient(base_url=base_url, token=API_KEY)
    wrapper = Client(API_KEY, base_url=base_url, upload_base_url=base_url + "/file-upload")
    try:

        def bare_get(n: int) -> None:
            for _ in range(n):
                json.loads(bare.get(TASK_PATH, params={"taskId": TASK_ID}).content)

        def generated_get(n: int) -> None:
            for _ in range(n):
                get_task_detail.sync_detailed(client=generated, task_id=TASK_ID)

        def wrapper_get(n: int) -> None:
            for _ in range(n):
                wrapper.get_task(TASK_ID)

        def bare_create(n: int) -> None:
            for _ in range(n):
                json.loads(bare.post(CREATE_PATH, json=CREATE_BODY).content)

        def generated_create(n: int) -> None:
            for _ in range(n):
                sora_2_characters.sync_detailed(client=generated, body=_generated_body())

        def wrapper_create(n: int) -> None:
            for _ in range(n):
                wrapper.create_character(VIDEO_URL, character_prompt=PROMPT)

        results: dict[str, Any] = {}
        gets: dict[str, Block] = {"httpx": bare_get, "generated": generated_get, "wrapper": wrapper_get}
        creates: dict[str, Block] = {
            "httpx": bare_create,
            "generated": generated_create,
            "wrapper": wrapper_create,
        }
        for op, blocks in (("get_task", gets), ("create_character", creates)):
            per_call = interleave(blocks, calls=calls, rounds=rounds, warmup=warmup)
            results[op] = summarize(per_call, "httpx", calls, rounds, reference="generated")
        return results
    finally:
        wrapper.close()
        generated.get_httpx_client().close()
        bare.close()


def in_process_transport() -> httpx.MockTransport:
    """Answers from memory with the local server's bytes: no socket, no server, only client work."""
    bodies = {TASK_PATH: RECORD_INFO, CREATE_PATH: CREATE_TASK}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=bodies[request.url.path], headers={"Content-Type": "application/json"}
        )

    return httpx.MockTransport(answer)


async def _run_async(
    base_url: str, *, calls: int, rounds: int, warmup: int, transport: httpx.AsyncBaseTransport | None = None
) -> dict[str, Any]:
    bare = httpx.AsyncClient(base_url=base_url, headers=AUTH, transport=transport)
    generated = AuthenticatedClient(base_url=base_url, token=API_KEY)
    wrapper = AsyncClient(API_KEY, base_url=base_url, upload_base_url=base_url + "/file-upload")
    if transport is not None:  # every contender through one in-memory transport, pooled alike
        generated.set_async_httpx_client(
            httpx.AsyncClient(base_url=base_url, headers=AUTH, transport=transport)
        )
        wrapper._http = httpx.AsyncClient(
            headers=wrapper._core.headers,
            timeout=wrapper._core.config.timeout,
            transport=transport,
        )
    try:

        async def bare_get(n: int) -> None:
            for _ in range(n):
                json.loads((await bare.get(TASK_PATH, params={"taskId": TASK_ID})).content)

        async def generated_get(n: int) -> None:
            for _ in range(n):
                await get_task_detail.asyncio_detailed(client=generated, task_id=TASK_ID)

        async def wrapper_get(n: int) -> None:
            for _ in range(n):
                await wrapper.get_task(TASK_ID)

        async def bare_create(n: int) -> None:
            for _ in range(n):
                json.loads((await bare.post(CREATE_PATH, json=CREATE_BODY)).content)

        async def generated_create(n: int) -> None:
            for _ in range(n):
                await sora_2_characters.asyncio_detailed(client=generated, body=_generated_body())

        async def wrapper_create(n: int) -> None:
            for _ in range(n):
                await wrapper.create_character(VIDEO_URL, character_prompt=PROMPT)

        results: dict[str, Any] = {}
        gets: dict[str, AsyncBlock] = {"httpx": bare_get, "generated": generated_get, "wrapper": wrapper_get}
        creates: dict[str, AsyncBlock] = {
            "httpx": bare_create,
            "generated": generated_create,
            "wrapper": wrapper_create,
        }
        for op, blocks in (("get_task", gets), ("create_character", creates)):
            per_call = await interleave_async(blocks, calls=calls, rounds=rounds, warmup=warmup)
            results[op] = summarize(per_call, "httpx", calls, rounds, reference="generated")
        return results
    finally:
        await wrapper.aclose()
        await generated.get_async_httpx_client().aclose()
        await bare.aclose()


def run_async(base_url: str, *, calls: int, rounds: int, warmup: int) -> dict[str, Any]:
    """Interleave the three async contenders, on one event loop."""
    return asyncio.run(_run_async(base_url, calls=calls, rounds=rounds, warmup=warmup))


def run_async_in_process(*, calls: int, rounds: int, warmup: int) -> dict[str, Any]:
    """The async contenders on :func:`in_process_transport`: client-side work alone, without the
    socket and server time that dominates (and blurs) the figures of :func:`run_async`.
    """
    return asyncio.run(
        _run_async(
            "http://127.0.0.1:9", calls=calls, rounds=rounds, warmup=warmup, transport=in_process_transport()
        )
    )


class _HideSniffio(importlib.abc.MetaPathFinder):
    """Make ``import sniffio`` fail after the path scan a missing module costs."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "sniffio":
            return None
        importlib.machinery.PathFinder.find_spec(fullname, path)
        raise ModuleNotFoundError("No module named 'sniffio' (hidden by the benchmark)", name=fullname)


def run_async_without_sniffio(base_url: str, *, calls: int, rounds: int, warmup: int) -> dict[str, Any]:
    """:func:`run_async` in a child interpreter where ``import sniffio`` fails."""
    root = Path(__file__).resolve().parent.parent
    args = [base_url, str(calls), str(rounds), str(warmup)]
    proc = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-m", "benchmarks.overhead", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def main(argv: Sequence[str] | None = None) -> None:
    """The child of :func:`run_async_without_sniffio`: hide sniffio, run, print the JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.overhead")
    parser.add_argument("base_url")
    parser.add_argument("calls", type=int)
    parser.add_argument("rounds", type=int)
    parser.add_argument("warmup", type=int)
    args = parser.parse_args(argv)
    sys.modules.pop("sniffio", None)
    sys.meta_path.insert(0, _HideSniffio())
    result = run_async(args.base_url, calls=args.calls, rounds=args.rounds, warmup=args.warmup)
    assert "sniffio" not in sys.modules
    print(json.dumps(result))


if __name__ == "__main__":
    main()
