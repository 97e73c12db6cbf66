"""Helpers for the client's respx tests: a fake clock that sleeps instantly, envelopes, clients."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import httpx

from sora2_characters import AsyncClient, Client

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
VIDEO_MP4 = ROOT / "examples" / "character.mp4"
BASE = "https://api.apikley.ru"
UPLOAD_BASE = "https://api.apikley.ru/file-upload"
CREATE_URL = f"{BASE}/api/v1/jobs/createTask"
QUERY_URL = f"{BASE}/api/v1/jobs/recordInfo"
CREDITS_URL = f"{BASE}/api/v1/chat/credit"
UPLOAD_URL = f"{UPLOAD_BASE}/api/file-stream-upload"
KEY = "sk-test-DO-NOT-LEAK-1234567890"
VIDEO_URL = "https://files.example.com/character.mp4"


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def envelope(data: Any = None, *, code: int = 200, msg: str = "success") -> dict[str, Any]:
    return {"code": code, "msg": msg, "data": data}


def ok(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=envelope(data))


def error(
    code: int, *, status: int = 200, msg: str = "nope", headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=envelope(None, code=code, msg=msg), headers=headers)


def task(state: str, task_id: str = "task_1", **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "taskId": task_id,
        "model": "sora-2-characters",
        "state": state,
        "param": json.dumps({"model": "sora-2-characters", "input": {"character_file_url": [VIDEO_URL]}}),
        "resultJson": json.dumps({"character_id": "char_1"}) if state == "success" else "",
        "failCode": "",
        "failMsg": "",
        "createTime": 1765174270120,
        "updateTime": 1765174285120,
    }
    record.update(extra)
    return record


_MADE: list[Client] = []


def make_client(fake: FakeTime | None = None, **kwargs: Any) -> Client:
    """A client on a fake clock; closed after the test by ``conftest``'s ``_close_made_clients``."""
    fake = fake or FakeTime()
    kwargs.setdefault("rng", random.Random(7))
    client = Client(KEY, sleep=fake.sleep, clock=fake.clock, **kwargs)
    _MADE.append(client)
    return client


def made_client_count() -> int:
    """How many clients :func:`make_client` has made and not yet closed through this module."""
    return len(_MADE)


def close_clients_made_since(count: int) -> None:
    """Close the clients :func:`make_client` made after ``count`` (closing twice is harmless)."""
    made = _MADE[count:]
    del _MADE[count:]
    for client in made:
        client.close()


def make_async_client(fake: FakeTime | None = None, **kwargs: Any) -> AsyncClient:
    """An async client on a fake clock; closing needs its loop, so use it as ``async with``."""
    fake = fake or FakeTime()
    kwargs.setdefault("rng", random.Random(7))
    return AsyncClient(KEY, sleep=fake.async_sleep, clock=fake.clock, **kwargs)
