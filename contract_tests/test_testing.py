"""``sora2_characters.testing``: the ``FakeApikley`` facade (start, stop, options) and the
SDK's clients on it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from contract_tests.support import DATA, VIDEO_MP4
from sora2_characters import APIConnectionError, AsyncClient, Client, TaskFailedError
from sora2_characters.testing import FakeApikley


def test_upload_create_and_wait(sora2_client: Client, fake_apikley: FakeApikley) -> None:
    video = sora2_client.upload_video(VIDEO_MP4)
    task = sora2_client.create_character_and_wait(video.download_url, character_prompt="a fox")
    assert task.character_id is not None
    assert task.character_id.startswith("char_")
    assert fake_apikley.tasks[0].body["input"]["character_prompt"] == "a fox"
    assert sora2_client.get_credits() == 97.5


def test_a_bad_video_ends_in_task_failed(sora2_client: Client, fake_apikley: FakeApikley) -> None:
    url = f"{fake_apikley.base_url}/files/never/uploaded.mp4"
    with pytest.raises(TaskFailedError):
        sora2_client.create_character_and_wait(url)


def test_a_dropped_create_task_is_never_repeated(sora2_client: Client, fake_apikley: FakeApikley) -> None:
    video = sora2_client.upload_video(VIDEO_MP4)
    fake_apikley.drop_connection_next("createTask", when="after_read")
    with pytest.raises(APIConnectionError):
        sora2_client.create_character(video.download_url)
    assert len(fake_apikley.tasks) == 1
    assert len(fake_apikley.requests_for("createTask")) == 1


@pytest.mark.anyio
async def test_the_async_client(async_sora2_client: AsyncClient, fake_apikley: FakeApikley) -> None:
    video = await async_sora2_client.upload_video(DATA / "clip-2s.webm")
    task = await async_sora2_client.create_character_and_wait(video.download_url)
    assert task.character_id is not None
    assert video.file_path is not None
    assert fake_apikley.uploaded_files[video.file_path].mime_type == "video/webm"


@pytest.mark.anyio
async def test_the_fake_hands_out_clients_bound_to_it(fake_apikley: FakeApikley) -> None:
    fake_apikley.credits = 42.0
    with fake_apikley.client(max_retries=0) as client:
        assert (client.base_url, client.upload_base_url) == (
            fake_apikley.base_url,
            fake_apikley.upload_base_url,
        )
        assert client.get_credits() == 42.0
    async with fake_apikley.async_client(max_retries=0) as async_client:
        assert await async_client.get_credits() == 42.0
    assert [request.headers["authorization"] for request in fake_apikley.requests] == [
        "Bearer <redacted>"
    ] * 2


def is_running(fake: FakeApikley) -> bool:
    return fake.running


def test_start_reads_back_a_real_port_and_stop_frees_it() -> None:
    fake = FakeApikley()
    fake.start()
    try:
        assert is_running(fake)
        assert fake.port > 0
        assert fake.base_url == f"http://127.0.0.1:{fake.port}"
        assert fake.upload_base_url == f"{fake.base_url}/file-upload"
        with pytest.raises(RuntimeError, match="already running"):
            fake.start()
    finally:
        fake.stop()
    assert not is_running(fake)
    with pytest.raises(httpx.ConnectError):
        httpx.get(fake.base_url + "/api/v1/chat/credit", timeout=2)
    fake.stop()  # twice is fine


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"error_style": "loud"}, "error_style"),
        ({"remote_videos": "fetch"}, "remote_videos"),
        ({"time_scale": -1}, "time_scale"),
        ({"api_key": ""}, "api_key"),
        ({"task_duration": 3, "task_durations": {"waiting": 1}}, "not both"),
        ({"task_durations": {"done": 1}}, "task_durations"),
    ],
)
def test_constructor_rejects_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FakeApikley(**options)
