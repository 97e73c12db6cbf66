"""Video inspection has a bounded cost, times fragmented mp4s, and agrees with the fake.

The bound is tested by what the inspection does, never by time: on crafted files of at most 10 MB
(``benchmarks/inspection_cost.py`` builds them and measures CPU and memory) it visits a bounded
number of boxes and reads a bounded number of bytes, then answers with a clear
:class:`InvalidInputError` (``strict=True``, as uploads use it) or a plain ``duration=None``.
"""

from __future__ import annotations

import functools
import io
import re
import struct
from pathlib import Path

import pytest

from benchmarks.inspection_cost import CRAFTED_BUILDERS, FTYP, box
from sora2_characters import InvalidInputError
from sora2_characters._fake.videos import video_problem
from sora2_characters._media import (
    _HEAD_SIZE,
    MAX_BOXES,
    MAX_HACHOIR_READS,
    MAX_HEADER_BYTES,
    inspect_video,
)
from sora2_characters._uploads import prepare_upload

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parent.parent
CLIPS = [
    *sorted(path for path in DATA.iterdir() if path.suffix != ".md"),
    ROOT / "examples" / "character.mp4",
]


@functools.cache
def crafted(name: str) -> bytes:
    """The crafted file ``name``, built on first use (some take a second; collection stays fast)."""
    return CRAFTED_BUILDERS[name]()


class CountingFile(io.BytesIO):
    """A file object that counts the ``read`` calls made on it and the bytes they return."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0
        self.bytes_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.reads += 1
        self.bytes_read += len(chunk)
        return chunk


# --- crafted files: bounded work, a clear answer ----------------------------------------------------


@pytest.mark.parametrize("name", list(CRAFTED_BUILDERS))
def test_crafted_file_gets_a_clear_answer_after_bounded_work(name: str) -> None:
    data = crafted(name)
    assert len(data) <= 10 * 1024 * 1024
    counted = CountingFile(data)

    refusal: InvalidInputError | None = None
    try:
        info = inspect_video(counted, strict=True)
    except InvalidInputError as exc:
        refusal = exc
    if refusal is not None:
        assert refusal.field == "source"
        assert "too complex to inspect" in refusal.message
    else:
        assert info.size == len(data)
        assert info.duration is None

    # One read per box visited (plus the sniffed head), or one per hachoir read: never one per box.
    assert counted.reads <= max(MAX_BOXES, MAX_HACHOIR_READS) + 10
    assert counted.bytes_read <= _HEAD_SIZE + MAX_BOXES * 16 + MAX_HEADER_BYTES


@pytest.mark.parametrize("name", list(CRAFTED_BUILDERS))
def test_without_strict_a_crafted_file_has_no_duration(name: str) -> None:
    info = inspect_video(crafted(name))

    assert info.container in {"mp4", "webm", "avi"}
    assert info.duration is None


def test_the_upload_check_refuses_a_box_flood_naming_the_limit() -> None:
    with pytest.raises(InvalidInputError) as caught:
        prepare_upload(crafted("mp4: 100,000 empty boxes"))

    assert caught.value.field == "source"
    assert f"more than {MAX_BOXES:,} boxes" in str(caught.value)


def test_a_box_flood_below_the_budget_is_inspected_normally() -> None:
    data = FTYP + box(b"free") * (MAX_BOXES - 10)

    info = inspect_video(data, strict=True)

    assert (info.container, info.duration) == ("mp4", None)


# --- fragmented mp4: the duration comes from mehd or the fragments -----------------------------------


def full_box(kind: bytes, version: int, flags: int, payload: bytes) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


def mvhd(scale: int, duration: int, *, version: int = 0) -> bytes:
    times = (
        struct.pack(">QQIQ", 0, 0, scale, duration)
        if version
        else struct.pack(">IIII", 0, 0, scale, duration)
    )
    return full_box(b"mvhd", version, 0, times + bytes(80))


def trak(track_id: int, scale: int) -> bytes:
    tkhd = full_box(b"tkhd", 0, 3, struct.pack(">IIII", 0, 0, track_id, 0) + bytes(64))
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIII", 0, 0, scale, 0) + bytes(4))
    return box(b"trak", tkhd + box(b"mdia", mdhd))


def moov(*children: bytes) -> bytes:
    return box(b"moov", b"".join(children))


def trex(track_id: int, default_duration: int) -> bytes:
    return full_box(b"trex", 0, 0, struct.pack(">IIIII", track_id, 1, default_duration, 0, 0))


def moof(
    track_id: int,
    samples: int,
    *,
    per_sample: int | None = None,
    default: int | None = None,
    start: int | None = None,
) -> bytes:
    tfhd_flags = 0x08 if default is not None else 0
    tfhd = full_box(
        b"tfhd",
        0,
        tfhd_flags,
        struct.pack(">I", track_id) + (struct.pack(">I", default) if default is not None else b""),
    )
    tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", start)) if start is not None else b""
    if per_sample is not None:
        trun = full_box(
            b"trun",
            0,
            0x100 | 0x200,
            struct.pack(">I", samples) + struct.pack(">II", per_sample, 99) * samples,
        )
    else:
        trun = full_box(b"trun", 0, 0, struct.pack(">I", samples))
    return box(b"moof", box(b"mfhd", bytes(8)) + box(b"traf", tfhd + tfdt + trun))


@pytest.mark.parametrize(
    ("content", "seconds"),
    [
        pytest.param(FTYP + moov(mvhd(1000, 2500)), 2.5, id="mvhd"),
        pytest.param(FTYP + moov(mvhd(1000, 3_000, version=1)), 3.0, id="mvhd-version-1"),
        pytest.param(
            FTYP
            + moov(
                mvhd(1000, 0), trak(1, 90_000), box(b"mvex", full_box(b"mehd", 0, 0, struct.pack(">I", 1500)))
            ),
            1.5,
            id="mehd",
        ),
        pytest.param(
            FTYP + moov(mvhd(1000, 0), trak(1, 1000), box(b"mvex", trex(1, 40))) + moof(1, 25) + moof(1, 25),
            2.0,
            id="trex-default-durations",
        ),
        pytest.param(
            FTYP + moov(mvhd(1000, 0), trak(1, 1000), box(b"mvex", trex(1, 40))) + moof(1, 30, default=100),
            3.0,
            id="tfhd-default-wins",
        ),
        pytest.param(
            FTYP
            + moov(mvhd(1000, 0), trak(1, 12_800))
            + moof(1, 8, per_sample=512)
            + moof(1, 8, per_sample=512),
            0.64,
            id="per-sample-durations",
        ),
        pytest.param(
            FTYP + moov(mvhd(1000, 0), trak(1, 1000)) + moof(1, 10, per_sample=100, start=1500),
            2.5,
            id="tfdt-start",
        ),
        pytest.param(
            FTYP
            + moov(mvhd(1000, 0), trak(1, 1000), trak(2, 48_000))
            + moof(1, 10, per_sample=200)
            + moof(2, 10, per_sample=48_000 * 3 // 10),
            3.0,
            id="longest-track",
        ),
        pytest.param(FTYP + moov(mvhd(0, 2500)), None, id="zero-time-scale"),
        pytest.param(FTYP + moov(mvhd(1000, 0xFFFFFFFF)), None, id="unknown-duration"),
        pytest.param(FTYP + moov(mvhd(1000, 0), trak(1, 1000)) + moof(1, 10), None, id="no-default-duration"),
    ],
)
def test_mp4_duration_from_movie_header_or_fragments(content: bytes, seconds: float | None) -> None:
    info = inspect_video(content, strict=True)

    assert info.container == "mp4"
    assert info.duration == (pytest.approx(seconds) if seconds is not None else None)


def test_the_fragmented_sample_is_timed() -> None:
    info = inspect_video(DATA / "clip-2s-fragmented.mp4")

    assert info.duration == pytest.approx(2.0, abs=0.15)


# --- the client and the fake agree on every clip in the test data ---------------------------------------


@pytest.mark.parametrize("clip", CLIPS, ids=lambda path: path.name)
def test_a_clip_the_client_accepts_is_one_the_fake_accepts(clip: Path) -> None:
    try:
        prepare_upload(clip)
    except InvalidInputError:
        client_accepts = False
    else:
        client_accepts = True

    assert client_accepts == (video_problem(clip.read_bytes()) is None)


def test_a_quicktime_clip_gets_a_remux_hint() -> None:
    with pytest.raises(InvalidInputError) as caught:
        prepare_upload(DATA / "clip-2s.mov")

    assert caught.value.field == "source"
    assert "ffmpeg -i in.mov -c copy out.mp4" in str(caught.value)


def test_a_matroska_clip_gets_a_remux_hint() -> None:
    with pytest.raises(InvalidInputError, match=re.escape("ffmpeg -i in.mkv -c copy out.mp4")):
        prepare_upload(DATA / "clip-2s.mkv")
