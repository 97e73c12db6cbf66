"""Upload memory: streaming a 10 MB file must raise the process's peak RSS by less than 5 MB.

The file is ``examples/character.mp4`` (a real 2 s mp4) followed by one ISO-BMFF ``free`` box that
pads it to exactly 10 MiB (the API's limit), so it stays a valid mp4 that passes the client's
content checks. Each measurement runs in a fresh interpreter (``python -m benchmarks.upload_memory``)
against the local server, which discards the body. The child first uploads the small example once
(imports, hachoir and the connection are warm), then measures the upload of the big file: the
figure is the larger of two deltas, the ``ru_maxrss`` high-water mark after minus before, and the
peak RSS sampled every millisecond by a thread minus the RSS just before. A control run uploads the
same file read whole into ``bytes`` first (as a naive upload would), to show the method sees it.
"""

from __future__ import annotations

import gc
import json
import resource
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]  # no stubs for the pinned psutil

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "character.mp4"
SIZE = 10 * 1024 * 1024
MB = 1024 * 1024


def build_video(path: Path, size: int = SIZE) -> Path:
    """Write the example mp4 padded with a ``free`` box to exactly ``size`` bytes; return ``path``."""
    head = EXAMPLE.read_bytes()
    pad = size - len(head)
    if pad < 8:
        raise ValueError(f"size {size} leaves no room for a free box after {len(head)} bytes")
    with path.open("wb") as out:
        out.write(head)
        out.write(struct.pack(">I", pad) + b"free")
        left = pad - 8
        block = b"\0" * MB
        while left:
            chunk = block[: min(left, MB)]
            out.write(chunk)
            left -= len(chunk)
    return path


class _Sampler:
    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(timeout=5)
        return int(self.peak)


def _child(video: str, base_url: str, mode: str) -> dict[str, Any]:
    from sora2_characters import Client

    with Client("bench-key", base_url=base_url, upload_base_url=base_url + "/file-upload") as client:
        client.upload_video(str(EXAMPLE))  # warm: imports, hachoir, the connection
        gc.collect()
        process = psutil.Process()
        rss_before = process.memory_info().rss
        max_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        sampler = _Sampler()
        # The control reads the whole file first, as a naive upload would; it is part of the measure.
        client.upload_video(Path(video).read_bytes() if mode == "bytes" else video)
        peak_sampled = sampler.stop()
        max_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "mode": mode,
        "file_size": Path(video).stat().st_size,
        "rss_before": rss_before,
        "sampled_peak_delta": peak_sampled - rss_before,
        "ru_maxrss_delta": max_after - max_before,
        "delta": max(peak_sampled - rss_before, max_after - max_before),
    }


def measure(video: Path, base_url: str, mode: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; return its figures."""
    proc = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "benchmarks.upload_memory", str(video), base_url, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the upload child failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def run(video: Path, base_url: str, repetitions: int) -> dict[str, Any]:
    """Measure the streamed upload ``repetitions`` times, plus one in-memory control run."""
    runs = [measure(video, base_url, "path") for _ in range(repetitions)]
    control = measure(video, base_url, "bytes")
    worst = max(r["delta"] for r in runs)
    return {
        "file_size_bytes": video.stat().st_size,
        "repetitions": repetitions,
        "streamed_delta_mb": [r["delta"] / MB for r in runs],
        "streamed_worst_delta_mb": worst / MB,
        "control_bytes_delta_mb": control["delta"] / MB,
        "runs": runs,
        "control": control,
        "target_mb": 5.0,
        "met": worst < 5 * MB,
    }


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1], sys.argv[2], sys.argv[3])))
