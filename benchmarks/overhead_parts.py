"""Where the wrapper's per-call overhead goes: each part alone, then each layer in context.

``python -m benchmarks.overhead_parts`` prints two tables (not part of ``benchmarks.run``; no target):

* **parts**: each piece of one ``get_task`` / ``create_character`` timed alone with ``timeit`` (best
  of 5): the argument checks, the request builders, the envelope decoder and ``json.loads`` it
  contains, ``TaskInfo.from_data``, and the core's whole flow driven without I/O.
* **layers**: over the local server (``_local_server``, its own process), interleaved rounds of CPU
  time per call (``time.process_time``, median of 15 rounds of 500 calls): bare httpx +
  ``json.loads``; our pool sending the request and reading the body; ``Client._send`` (the shell);
  the whole ``get_task``; and ``get_task`` with ``TaskInfo.from_data`` answered from a cache, which
  shows what the typed decode of the record costs in context.

Figures from a shared machine swing with its load: compare rows of one run, not runs.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
import timeit
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from sora2_characters import Client, _api, _models, _validation
from sora2_characters._core import Received, Send
from sora2_characters._transport import deadline_scope, read_body

from ._local_server import CREATE_TASK, RECORD_INFO, TASK_ID, local_server
from .overhead import API_KEY, AUTH, PROMPT, TASK_PATH, VIDEO_URL


def _best_us(work: Callable[[], object], number: int = 20_000) -> float:
    return min(timeit.repeat(work, number=number, repeat=5)) / number * 1e6


def _drive(flow: Any, received: Received) -> Any:
    """Run a core flow that sends one request, answering it with ``received``."""
    try:
        flow.send(None)
        flow.send(received)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("the flow sent more than one request")


def parts() -> dict[str, float]:
    """Each piece of one call alone, in microseconds."""
    client = Client(API_KEY, base_url="http://127.0.0.1:9")
    core = client._core
    headers = httpx.Headers({"content-type": "application/json"})
    record = Received(200, headers, RECORD_INFO)
    created = Received(200, headers, CREATE_TASK)
    data = json.loads(RECORD_INFO)["data"]
    try:
        return {
            "check_task_id": _best_us(lambda: _validation.check_task_id(TASK_ID)),
            "check_url": _best_us(lambda: _validation.check_url("video_url", VIDEO_URL)),
            "build_task_query": _best_us(lambda: _api.build_task_query(TASK_ID)),
            "build_create_task": _best_us(lambda: _api.build_create_task(VIDEO_URL, PROMPT, None, None)),
            "decode_envelope (task record)": _best_us(lambda: _api.decode_envelope(200, RECORD_INFO)),
            "  of which json.loads": _best_us(lambda: json.loads(RECORD_INFO)),
            "TaskInfo.from_data": _best_us(lambda: _models.TaskInfo.from_data(data, task_id=TASK_ID)),
            "Send(...)": _best_us(
                lambda: Send("GET", "u", core.headers, core.config.timeout, 30.0, {"taskId": TASK_ID})
            ),
            "core get_task flow, no I/O": _best_us(lambda: _drive(core.get_task(TASK_ID), record)),
            "core create_character flow, no I/O": _best_us(
                lambda: _drive(
                    core.create_character(
                        VIDEO_URL, character_prompt=PROMPT, safety_instruction=None, callback_url=None
                    ),
                    created,
                )
            ),
        }
    finally:
        client.close()


def _interleave(blocks: dict[str, Callable[[int], None]], calls: int, rounds: int) -> dict[str, float]:
    for block in blocks.values():
        block(calls // 2)
    times: dict[str, list[float]] = {name: [] for name in blocks}
    names = list(blocks)
    for round_no in range(rounds):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            start = time.process_time()
            blocks[name](calls)
            times[name].append((time.process_time() - start) / calls * 1e6)
    return {name: statistics.median(values) for name, values in times.items()}


@contextmanager
def _from_data_cached(info: _models.TaskInfo) -> Iterator[None]:
    original = _models.TaskInfo.__dict__["from_data"]
    _models.TaskInfo.from_data = classmethod(lambda cls, data, task_id=None: info)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        _models.TaskInfo.from_data = original  # type: ignore[method-assign]


def layers(*, calls: int = 500, rounds: int = 15) -> dict[str, float]:
    """Each layer of a blocking ``get_task`` over the local server, CPU microseconds per call."""
    with local_server() as base_url:
        bare = httpx.Client(base_url=base_url, headers=AUTH)
        client = Client(API_KEY, base_url=base_url, upload_base_url=base_url + "/file-upload")
        core = client._core
        url = base_url + TASK_PATH
        effect = Send("GET", url, core.headers, core.config.timeout, 30.0, {"taskId": TASK_ID})
        info = client.get_task(TASK_ID)
        try:

            def bare_get(n: int) -> None:
                for _ in range(n):
                    json.loads(bare.get(TASK_PATH, params={"taskId": TASK_ID}).content)

            def pool(n: int) -> None:
                http = client._http
                for _ in range(n):
                    deadline = time.monotonic() + 30.0
                    with deadline_scope(deadline):
                        request = http.build_request("GET", url, params={"taskId": TASK_ID})
                        response = http.send(request, stream=True)
                        read_body(response, 1 << 20, deadline)
                        response.close()

            def shell(n: int) -> None:
                for _ in range(n):
                    client._send(effect, core.config.timeout)

            def get_task(n: int) -> None:
                for _ in range(n):
                    client.get_task(TASK_ID)

            def get_task_cached_record(n: int) -> None:
                with _from_data_cached(info):
                    for _ in range(n):
                        client.get_task(TASK_ID)

            return _interleave(
                {
                    "bare httpx get + json.loads": bare_get,
                    "our pool: send, read the body": pool,
                    "Client._send (the shell)": shell,
                    "Client.get_task": get_task,
                    "Client.get_task, from_data cached": get_task_cached_record,
                },
                calls,
                rounds,
            )
        finally:
            client.close()
            bare.close()


def main() -> None:
    """Print both tables."""
    print("parts (timeit, best of 5), us per call")
    for name, value in parts().items():
        print(f"  {name:40s} {value:7.2f}")
    print("layers (local server, CPU time, median of 15 rounds of 500 calls), us per call")
    figures = layers()
    floor = next(iter(figures.values()))
    for name, value in figures.items():
        print(f"  {name:40s} {value:7.1f}  {value / floor:.3f}x")


if __name__ == "__main__":
    main()
