"""Content-based video inspection (``sora2_characters._media``) against real, tiny encoded files.

The fixtures in ``contract_tests/data`` and ``examples/character.mp4`` were made with FFmpeg (the
commands are in the READMEs next to them); the synthetic byte strings below only cover headers that
no encoder at hand writes (foreign ``ftyp`` brands, a bare EBML header).
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.support import DATA, ROOT
from sora2_characters._media import MIME_TYPES, VideoInfo, inspect_video

EXAMPLE = ROOT / "examples" / "character.mp4"

WEBM = DATA / "clip-2s.webm"
AVI = DATA / "clip-2s.avi"
MP4_6S = DATA / "clip-6s.mp4"
MP4_HALF_S = DATA / "clip-0_5s.mp4"
MKV = DATA / "clip-2s.mkv"
MOV = DATA / "clip-2s.mov"
FRAGMENTED_MP4 = DATA / "clip-2s-fragmented.mp4"

REAL_VIDEOS = [
    pytest.param(EXAMPLE, "mp4", "video/mp4", 2.0, id="example-mp4-2s"),
    pytest.param(WEBM, "webm", "video/webm", 2.0, id="webm-2s"),
    pytest.param(AVI, "avi", "video/x-msvideo", 2.0, id="avi-2s"),
    pytest.param(MP4_6S, "mp4", "video/mp4", 6.0, id="mp4-6s"),
    pytest.param(MP4_HALF_S, "mp4", "video/mp4", 0.5, id="mp4-0.5s"),
]
RECOGNISED_FILES = [EXAMPLE, WEBM, AVI, MP4_6S, MP4_HALF_S, FRAGMENTED_MP4]
EMPTY = VideoInfo(container=None, mime_type=None, duration=None, size=0)


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    """An ISO-BMFF ``ftyp`` box followed by an empty ``mdat``: enough to recognise, nothing to time."""
    body = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08mdat"


def ebml_header(doctype: bytes) -> bytes:
    """A minimal EBML header (version, DocType, DocTypeVersion) as Matroska and WebM files start."""
    children = (
        b"\x42\x86\x81\x01" + b"\x42\x82" + bytes([0x80 | len(doctype)]) + doctype + b"\x42\x87\x81\x04"
    )
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(children)]) + children


def assert_nothing_printed(capfd: pytest.CaptureFixture[str]) -> None:
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


# --- real files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "container", "mime_type", "seconds"), REAL_VIDEOS)
def test_real_file_is_recognised_and_timed(
    path: Path, container: str, mime_type: str, seconds: float
) -> None:
    info = inspect_video(path)

    assert info.container == container
    assert info.mime_type == mime_type
    assert info.duration == pytest.approx(seconds, abs=0.15)
    assert info.size == path.stat().st_size


def test_example_clip_fits_the_api_limits() -> None:
    info = inspect_video(EXAMPLE)

    assert info.container == "mp4"
    assert info.duration is not None
    assert 1.0 <= info.duration <= 4.0
    assert 20_000 <= info.size <= 80_000


def test_mime_type_always_matches_the_container() -> None:
    for path in [*RECOGNISED_FILES, MKV, MOV]:
        info = inspect_video(path)
        assert info.mime_type == (MIME_TYPES[info.container] if info.container else None)


def test_matroska_file_is_not_webm() -> None:
    assert inspect_video(MKV) == VideoInfo(None, None, None, MKV.stat().st_size)


def test_quicktime_file_is_not_mp4() -> None:
    assert inspect_video(MOV) == VideoInfo(None, None, None, MOV.stat().st_size)


@pytest.mark.parametrize(
    ("milliseconds", "seconds"),
    [(3000.0, 3.0), (-2000.0, None), (0.0, None), (float("nan"), None), (float("inf"), None)],
)
def test_webm_duration_counts_only_if_positive(milliseconds: float, seconds: float | None) -> None:
    # Segment/Info/Duration (44 89) is an 8-byte float in milliseconds (the default TimecodeScale).
    data = WEBM.read_bytes()
    start = data.index(b"\x44\x89\x88") + 3
    patched = data[:start] + struct.pack(">d", milliseconds) + data[start + 8 :]

    info = inspect_video(patched)

    assert info.container == "webm"
    assert info.duration == (pytest.approx(seconds) if seconds is not None else None)


def test_fragmented_mp4_is_timed_from_its_fragments() -> None:
    # The moov of a fragmented file states no length; the samples live in moof fragments.
    info = inspect_video(FRAGMENTED_MP4)

    assert (info.container, info.mime_type) == ("mp4", "video/mp4")
    assert info.duration == pytest.approx(2.0, abs=0.15)


# --- content, never the name ----------------------------------------------------------------------


def test_webm_named_mp4_is_webm(tmp_path: Path) -> None:
    renamed = tmp_path / "character.mp4"
    shutil.copyfile(WEBM, renamed)

    info = inspect_video(renamed)

    assert (info.container, info.mime_type) == ("webm", "video/webm")
    assert info.duration == pytest.approx(2.0, abs=0.15)


def test_mp4_without_extension_is_mp4(tmp_path: Path) -> None:
    renamed = tmp_path / "upload"
    shutil.copyfile(MP4_6S, renamed)

    assert inspect_video(renamed).container == "mp4"


def test_text_named_mp4_is_not_a_video(tmp_path: Path) -> None:
    fake = tmp_path / "character.mp4"
    fake.write_text("this is a plain text file, not a video\n", encoding="utf-8")

    assert inspect_video(fake) == VideoInfo(None, None, None, fake.stat().st_size)


# --- synthetic headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "container"),
    [
        pytest.param(ftyp(b"isom", b"isom", b"iso2", b"mp41"), "mp4", id="isom"),
        pytest.param(ftyp(b"mp42", b"mp42", b"isom"), "mp4", id="mp42"),
        pytest.param(ftyp(b"M4V ", b"M4V ", b"M4A ", b"mp42", b"isom"), "mp4", id="apple-m4v"),
        pytest.param(ftyp(b"xyzw", b"xyzw", b"avc1"), "mp4", id="unknown-major-mp4-compatible"),
        pytest.param(ftyp(b"qt  ", b"qt  "), None, id="quicktime"),
        pytest.param(ftyp(b"qt  ", b"qt  ", b"isom"), None, id="quicktime-listing-isom"),
        pytest.param(ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), None, id="audio-only-m4a"),
        pytest.param(ftyp(b"3gp4", b"3gp4", b"isom"), None, id="3gpp"),
        pytest.param(ftyp(b"avif", b"avif", b"mif1", b"miaf", b"iso8"), None, id="avif-image"),
        pytest.param(ftyp(b"xyzw", b"xyzw"), None, id="unknown-brand-only"),
        pytest.param(b"\x00\x00\x00\x0cftypisom", None, id="ftyp-too-short-for-brands"),
        pytest.param(
            struct.pack(">I", 1) + b"ftyp" + struct.pack(">Q", 28) + b"xyzw\x00\x00\x00\x00mp41",
            "mp4",
            id="ftyp-64-bit-size",
        ),
        pytest.param(b"\x00\x00\x00\x00ftypxyzw\x00\x00\x00\x00xyzwiso6", "mp4", id="ftyp-size-to-eof"),
        pytest.param(ebml_header(b"webm"), "webm", id="ebml-webm"),
        pytest.param(ebml_header(b"webm\x00\x00"), "webm", id="ebml-webm-nul-padded"),
        pytest.param(ebml_header(b"matroska"), None, id="ebml-matroska"),
        pytest.param(ebml_header(b"webmx"), None, id="ebml-other-doctype"),
        pytest.param(ebml_header(b"webm")[:12], None, id="ebml-cut-before-doctype"),
        pytest.param(b"\x1a\x45\xdf\xa3\xff" + ebml_header(b"webm")[5:], "webm", id="ebml-unknown-size"),
        pytest.param(b"\x1a\x45\xdf\xa3\x88\x00\x00\x00\x00\x00\x00\x00\x00", None, id="ebml-zero-bytes"),
        pytest.param(b"\x1a\x45\xdf\xa3\x85\x42\x82\xffwebm", None, id="ebml-doctype-unknown-size"),
        pytest.param(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28), None, id="riff-wave"),
        pytest.param(b"RIFF\x04\x00\x00\x00AVI ", "avi", id="riff-avi-header-only"),
    ],
)
def test_container_comes_from_the_header(content: bytes, container: str | None) -> None:
    info = inspect_video(content)

    assert info.container == container
    assert info.size == len(content)


def test_bare_headers_have_no_duration(capfd: pytest.CaptureFixture[str]) -> None:
    for content in (ftyp(b"isom", b"isom"), ebml_header(b"webm"), b"RIFF\x04\x00\x00\x00AVI "):
        assert inspect_video(content).duration is None
    assert_nothing_printed(capfd)


def test_webm_doctype_patched_to_matroska_is_not_webm() -> None:
    data = WEBM.read_bytes()
    # The fixture's header holds DocType (42 82) with a 1-byte size 0x84 and "webm"; rebuild it
    # around an 8-byte "matroska" and fix the header's own 1-byte size.
    doctype = b"\x42\x82\x84webm"
    start = data.index(doctype)
    assert data[4] & 0x80  # 1-byte header size
    patched_header = (
        data[5:start] + b"\x42\x82\x88matroska" + data[start + len(doctype) : 5 + (data[4] & 0x7F)]
    )
    patched = data[:4] + bytes([0x80 | len(patched_header)]) + patched_header + data[5 + (data[4] & 0x7F) :]

    assert inspect_video(data).container == "webm"
    assert inspect_video(patched).container is None


# --- inputs: bytes, paths, file objects ---------------------------------------------------------------


@pytest.mark.parametrize("path", RECOGNISED_FILES, ids=lambda path: path.name)
def test_bytes_paths_and_file_objects_agree(path: Path) -> None:
    expected = inspect_video(path)
    with path.open("rb") as file:
        from_file = inspect_video(file)

    assert inspect_video(str(path)) == expected
    assert inspect_video(path.read_bytes()) == expected
    assert inspect_video(io.BytesIO(path.read_bytes())) == expected
    assert from_file == expected


@pytest.mark.parametrize("position", [0, 1, 100, -1])
def test_file_object_position_is_restored_and_content_read_from_the_start(position: int) -> None:
    data = WEBM.read_bytes()
    file = io.BytesIO(data)
    file.seek(position if position >= 0 else len(data))

    info = inspect_video(file)

    assert file.tell() == (position if position >= 0 else len(data))
    assert (info.container, info.size) == ("webm", len(data))
    assert info.duration == pytest.approx(2.0, abs=0.15)


def test_real_file_object_position_is_restored() -> None:
    with AVI.open("rb") as file:
        file.seek(1234)
        info = inspect_video(file)
        assert file.tell() == 1234
        assert not file.closed
    assert info.container == "avi"


class _RecordingReader(io.BytesIO):
    """A seekable stream that remembers the largest single read asked of it."""

    largest_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.largest_read = max(self.largest_read, len(chunk))
        return chunk


def test_large_stream_is_parsed_in_place() -> None:
    # A real mp4 followed by an 8 MiB top-level "free" box: still a valid file, and nothing
    # needs more than a few kilobytes of it at a time.
    padding = 8 * 1024 * 1024
    data = MP4_6S.read_bytes() + struct.pack(">I", padding) + b"free" + bytes(padding - 8)
    stream = _RecordingReader(data)

    info = inspect_video(stream)

    assert (info.container, info.size) == ("mp4", len(data))
    assert info.duration == pytest.approx(6.0, abs=0.15)
    assert 0 < stream.largest_read <= 64 * 1024


def test_unseekable_file_object_is_refused() -> None:
    class Unseekable(io.BytesIO):
        def seekable(self) -> bool:
            return False

    with pytest.raises(ValueError, match="seekable"):
        inspect_video(Unseekable(WEBM.read_bytes()))


def test_closed_file_object_is_refused() -> None:
    file = io.BytesIO(WEBM.read_bytes())
    file.close()

    with pytest.raises(ValueError, match="seekable"):
        inspect_video(file)


def test_missing_path_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        inspect_video(tmp_path / "absent.mp4")
    with pytest.raises(FileNotFoundError):
        inspect_video(str(tmp_path / "absent.webm"))


def test_str_is_a_path_never_content(tmp_path: Path) -> None:
    # Text that happens to start like a RIFF/AVI file is still taken as a file name.
    with pytest.raises(FileNotFoundError):
        inspect_video(str(tmp_path / "RIFF0000AVI "))


def test_empty_input_of_every_kind(tmp_path: Path) -> None:
    empty_file = tmp_path / "empty.mp4"
    empty_file.write_bytes(b"")

    assert inspect_video(b"") == EMPTY
    assert inspect_video(empty_file) == EMPTY
    assert inspect_video(str(empty_file)) == EMPTY
    assert inspect_video(io.BytesIO()) == EMPTY


def test_video_info_is_frozen() -> None:
    info = inspect_video(WEBM)

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        info.duration = 1.0  # type: ignore[misc]


# --- damaged input and silence -------------------------------------------------------------------------


def _cut_points(size: int) -> list[int]:
    return sorted({0, 1, 4, 8, 11, 12, 16, 40, 100, *range(0, size, max(1, size // 40)), size - 1})


@pytest.mark.parametrize("path", RECOGNISED_FILES, ids=lambda path: path.name)
def test_truncated_files_never_raise_nor_print(path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    data = path.read_bytes()
    expected = inspect_video(data).container

    for cut in _cut_points(len(data)):
        info = inspect_video(data[:cut])
        assert info.size == cut
        assert info.container in {expected, None}
        assert info.duration is None or info.duration > 0
    assert_nothing_printed(capfd)


def test_hachoir_output_is_silenced(capfd: pytest.CaptureFixture[str]) -> None:
    from hachoir.metadata import extractMetadata
    from hachoir.parser.container import MP4File
    from hachoir.stream import StringInputStream

    truncated = MP4_6S.read_bytes()[:6000]
    # Control: left alone, hachoir complains on stderr about this very input.
    extractMetadata(MP4File(StringInputStream(truncated), validate=True))
    assert capfd.readouterr().err != ""

    info = inspect_video(truncated)

    assert info.container == "mp4"
    assert_nothing_printed(capfd)


def test_hachoir_settings_are_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    from hachoir.core import config
    from hachoir.core.log import log

    for quiet, use_print in [(False, True), (True, False), (True, True)]:
        monkeypatch.setattr(config, "quiet", quiet)
        monkeypatch.setattr(log, "use_print", use_print)
        inspect_video(AVI.read_bytes()[:5000])
        assert (config.quiet, log.use_print) == (quiet, use_print)


def test_concurrent_inspections_restore_hachoir_settings(capfd: pytest.CaptureFixture[str]) -> None:
    from hachoir.core import config
    from hachoir.core.log import log

    before = (config.quiet, log.use_print)
    inputs = [path.read_bytes()[:cut] for path in RECOGNISED_FILES for cut in (3000, 5000, None)]

    def work() -> list[VideoInfo]:
        return [inspect_video(content) for _ in range(5) for content in inputs]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = [future.result() for future in [pool.submit(work) for _ in range(4)]]

    assert all(result == results[0] for result in results)
    assert (config.quiet, log.use_print) == before
    assert_nothing_printed(capfd)


_HEADS = [b"", ftyp(b"isom", b"isom")[:-8], ebml_header(b"webm"), b"RIFF\x00\x10\x00\x00AVI LIST"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096))
def test_random_bytes_never_raise_nor_print(data: bytes, capfd: pytest.CaptureFixture[str]) -> None:
    info = inspect_video(data)

    assert info.size == len(data)
    assert info.mime_type == (MIME_TYPES[info.container] if info.container else None)
    assert info.duration is None or info.duration > 0
    assert_nothing_printed(capfd)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=st.sampled_from(_HEADS), tail=st.binary(max_size=2048))
def test_garbage_behind_a_valid_header_never_raises_nor_prints(
    head: bytes, tail: bytes, capfd: pytest.CaptureFixture[str]
) -> None:
    info = inspect_video(head + tail)

    assert info.size == len(head) + len(tail)
    assert info.duration is None or info.duration > 0
    assert_nothing_printed(capfd)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(RECOGNISED_FILES), edits=st.lists(st.tuples(st.integers(0), st.integers(0, 255))))
def test_corrupted_real_files_never_raise_nor_print(
    path: Path, edits: list[tuple[int, int]], capfd: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(path.read_bytes())
    for offset, value in edits:
        data[offset % len(data)] = value

    info = inspect_video(bytes(data))

    assert info.size == len(data)
    assert info.duration is None or info.duration > 0
    assert_nothing_printed(capfd)


# --- import cost -------------------------------------------------------------------------------------------


def test_importing_the_module_does_not_import_hachoir() -> None:
    code = (
        "import sys, sora2_characters._media;"
        "print(sorted(name for name in sys.modules if name.startswith('hachoir')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"


def test_sniff_container_reads_only_the_magic() -> None:
    from sora2_characters._media import sniff_container

    assert sniff_container((DATA / "clip-2s.webm").read_bytes()) == "webm"
    assert sniff_container((DATA / "clip-2s.avi").read_bytes()[:64]) == "avi"
    assert sniff_container(b"") is None
    assert sniff_container(b"RIFF\x00\x00\x00\x00WAVE") is None
