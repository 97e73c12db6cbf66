"""Decide, like the live service would, whether a task's source video can become a character.

The limits and the duration rule are the client's own (:mod:`sora2_characters._validation`), with
one difference: when the duration cannot be read from the container's header, the client lets the
clip through (the service has the last word) while the fake fails the task, as a service that
cannot measure a clip would. Otherwise a clip the client accepts for upload is one the fake accepts
for a task.
"""

from __future__ import annotations

from sora2_characters._media import inspect_video
from sora2_characters._validation import (
    MAX_DURATION_S,
    MAX_VIDEO_BYTES,
    MIN_DURATION_S,
    duration_in_range,
)

__all__ = ["MAX_VIDEO_BYTES", "VIDEO_FAIL_CODE", "video_problem"]

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
    if not duration_in_range(info.duration):
        return (
            f"character_file_url: the video lasts {info.duration:.2f} s, "
            f"outside {MIN_DURATION_S:g}-{MAX_DURATION_S:g} s"
        )
    return None
