"""The README's "Running at scale" recipes that can run here, run as written."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

from sora2_characters.testing import FakeApikley

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120


def scale_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Running at scale")
    return readme[start : readme.index("\n## ", start + 1)]


def test_the_multiprocessing_recipe_runs_one_client_per_process(tmp_path: Path) -> None:
    (block,) = [
        code
        for code in re.findall(r"```python\n(.*?)```", scale_section(), re.DOTALL)
        if "multiprocessing" in code
    ]
    script = tmp_path / "recipe.py"
    script.write_text(block)
    with FakeApikley(time_scale=0, initial_credits=1000) as fake:
        env = {key: value for key, value in os.environ.items() if not key.startswith("APIKLEY_")}
        env.update(
            APIKLEY_BASE_URL=fake.base_url,
            APIKLEY_UPLOAD_BASE_URL=fake.upload_base_url,
            APIKLEY_API_KEY=fake.api_key,
        )
        urls = [
            f"https://example.com/clip-{index}.mp4" for index in range(4)
        ]  # one per process: each waits one poll interval
        result = subprocess.run(
            [sys.executable, str(script), *urls],
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert len(fake.tasks) == 4
        ids = {task.character_id for task in fake.tasks}
    printed = set(re.findall(r"char_[0-9a-f]+", result.stdout))
    assert printed == ids


def test_the_shard_one_liner_keeps_the_header_and_every_row_once(tmp_path: Path) -> None:
    (line,) = [text for text in scale_section().splitlines() if text.startswith("`python -c")]
    command = line.strip("`.").removeprefix("python -c ").strip('"')
    with (tmp_path / "clips.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["video", "prompt"])
        writer.writerows([f"https://example.com/{index}.mp4", f"p{index}"] for index in range(10))
    subprocess.run([sys.executable, "-c", command], cwd=tmp_path, check=True, timeout=TIMEOUT)
    rows = []
    for index in range(4):
        with (tmp_path / f"shard{index}.csv").open(newline="") as handle:
            shard = list(csv.reader(handle))
        assert shard[0] == ["video", "prompt"]
        rows += shard[1:]
    assert sorted(row[1] for row in rows) == sorted(f"p{index}" for index in range(10))
