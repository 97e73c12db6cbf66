"""Decide, like the live service would, whether a task's source video can become a character."""

from __future__ import annotations

from sora2_characters._media import inspect_video

MAX_VIDEO_BYTES = 10 * 1024 * 1024
MIN_SECONDS = 1.0
MAX_SECONDS = 4.0
VIDEO_FAIL_CODE = "422"


def video_problem(content: bytes) -> str | None:
    """Why ``content`` is not an acceptable character video (mp4/webm/avi, <= 10 MB, 1-4 s), or None."""
    if len(content) > MAX_VIDEO_BYTES:
        return f"character_file_url: the video is {len(content)} bytes, over the 10 MB limit"
    info = inspect_video(content)
    if info.container is None:
        return "character_file_url: the file is not an mp4, webm or avi video"
    if info.duration is None:
        return f"character_file_url: the duration of the {info.container} video could not be read"
    if not MIN_SECONDS <= info.duration <= MAX_SECONDS:
        return f"character_file_url: the video lasts {info.duration:.2f} s, outside 1-4 s"
    return None
