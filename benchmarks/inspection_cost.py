"""The cost of inspecting a crafted video: CPU seconds and peak traced memory per file.

Usage: ``python -m benchmarks.inspection_cost [--unbounded]``. Each crafted file (at most 10 MB:
100,000 empty boxes or elements, deep nesting, a huge declared size) goes through
``inspect_video`` once for CPU time (``resource.getrusage``, user + system) and once more under
``tracemalloc`` for the peak of Python allocations. The target: each under 1 s of CPU and 50 MB.

``--unbounded`` also runs hachoir alone on the 100,000-box files, without the inspection budget:
the figures the budget exists for (minutes of CPU on the largest one, so it is left out).
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import struct
import sys
import tracemalloc
from collections.abc import Callable, Sequence

from sora2_characters._media import VideoInfo, inspect_video

CPU_TARGET_S = 1.0
MEMORY_TARGET_MB = 50.0


def box(kind: bytes, payload: bytes = b"") -> bytes:
    """An ISO-BMFF box with a 32-bit size."""
    return struct.pack(">I", 8 + len(payload)) + kind + payload


FTYP = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41")


def nested(kind: bytes, depth: int, inner: bytes = b"") -> bytes:
    """``depth`` boxes of ``kind``, each inside the previous one."""
    for _ in range(depth):
        inner = box(kind, inner)
    return inner


def ebml(element_id: bytes, payload: bytes) -> bytes:
    """An EBML element with an 8-byte size."""
    return element_id + b"\x01" + len(payload).to_bytes(7, "big") + payload


WEBM_HEAD = ebml(b"\x1a\x45\xdf\xa3", ebml(b"\x42\x82", b"webm"))
SEGMENT = b"\x18\x53\x80\x67"
VOID = b"\xec\x80"  # an empty Void element


def riff_avi(chunks: bytes) -> bytes:
    """A RIFF AVI file around ``chunks``."""
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"AVI " + chunks


JUNK = b"JUNK" + struct.pack("<I", 0)
EMPTY_LIST = b"LIST" + struct.pack("<I", 4) + b"hdrl"


#: Hostile inputs of at most 10 MB: each name with the function that builds the file.
CRAFTED_BUILDERS: dict[str, Callable[[], bytes]] = {
    "mp4: 100,000 empty boxes": lambda: FTYP + box(b"free") * 100_000,
    "mp4: 1,250,000 empty boxes (10 MB)": lambda: FTYP + box(b"free") * 1_250_000,
    "mp4: 100,000 empty boxes in moov": lambda: FTYP + box(b"moov", box(b"free") * 100_000),
    "mp4: 100,000 trak in moov": lambda: FTYP + box(b"moov", box(b"trak") * 100_000),
    "mp4: moov nested 100,000 deep": lambda: FTYP + nested(b"moov", 100_000),
    "mp4: huge declared sizes": lambda: (
        FTYP + struct.pack(">I4sQ", 1, b"moov", 2**63) + struct.pack(">I4sQ", 1, b"trak", 2**64 - 1) * 1000
    ),
    "mp4: a trun declaring 2**32-1 samples": lambda: (
        FTYP + box(b"moof", box(b"traf", box(b"trun", struct.pack(">II", 0x100, 2**32 - 1) + b"\x00" * 4096)))
    ),
    "webm: 100,000 empty elements": lambda: WEBM_HEAD + ebml(SEGMENT, VOID * 100_000),
    "webm: 1,000,000 empty elements": lambda: WEBM_HEAD + ebml(SEGMENT, VOID * 1_000_000),
    "avi: 100,000 empty chunks": lambda: riff_avi(JUNK * 100_000),
    "avi: 100,000 empty lists": lambda: riff_avi(EMPTY_LIST * 100_000),
}


def crafted_files() -> dict[str, bytes]:
    """Hostile inputs of at most 10 MB, by name."""
    return {name: build() for name, build in CRAFTED_BUILDERS.items()}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(inspect: Callable[[bytes], object], data: bytes) -> tuple[float, float, object]:
    """CPU seconds, peak traced MB, and the result (or the exception) of ``inspect(data)``."""
    start = _cpu()
    try:
        result: object = inspect(data)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        result = exc
    cpu = _cpu() - start
    tracemalloc.start()
    with contextlib.suppress(Exception):  # the outcome was recorded above
        inspect(data)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return cpu, peak, result


def _strict(data: bytes) -> VideoInfo:
    return inspect_video(data, strict=True)


def _hachoir_alone(data: bytes) -> object:
    from hachoir.core import config
    from hachoir.metadata import extractMetadata
    from hachoir.metadata.metadata_item import QUALITY_FASTEST
    from hachoir.parser.container import MkvFile, MP4File, RiffFile
    from hachoir.stream import StringInputStream

    config.quiet = True
    parser = {b"ftyp": MP4File, b"\xdf\xa3": MkvFile, b"AVI ": RiffFile}
    kind = next(cls for magic, cls in parser.items() if magic in data[:12])
    return extractMetadata(kind(StringInputStream(data), validate=True), quality=QUALITY_FASTEST)


def main(argv: Sequence[str] | None = None) -> int:
    """Print one line per crafted file: size, CPU, peak memory, verdict."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inspection_cost")
    parser.add_argument("--unbounded", action="store_true", help="also time hachoir without the budget")
    args = parser.parse_args(argv)
    runs: list[tuple[str, Callable[[bytes], object], bytes]] = [
        (name, _strict, data) for name, data in crafted_files().items()
    ]
    if args.unbounded:
        runs += [
            (f"hachoir alone, {name}", _hachoir_alone, data)
            for name, data in crafted_files().items()
            if "100,000 empty" in name
        ]
    worst = 0.0
    print(f"{'file':52} {'MB':>6} {'CPU s':>7} {'peak MB':>8}  result")
    for name, inspect, data in runs:
        cpu, peak, result = measure(inspect, data)
        if inspect is _strict:
            worst = max(worst, cpu)
        verdict = f"{type(result).__name__}: {result}" if isinstance(result, Exception) else repr(result)
        print(f"{name:52} {len(data) / 1e6:6.2f} {cpu:7.3f} {peak:8.2f}  {verdict[:90]}", flush=True)
    print(f"worst CPU with the budget: {worst:.3f} s (target < {CPU_TARGET_S:g} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
