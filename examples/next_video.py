"""Pass character_ids on: create a sora-2 video task whose ``input.character_id_list`` names them.

The SDK covers the ``sora-2-characters`` model; the video models take its ``character_id`` in
``input.character_id_list`` (up to 5 ids) of their own createTask, on the same jobs API with the same
key. This script sends one such task with httpx and prints its task id (poll it like any task).

Usage::

    python examples/next_video.py --dry-run --prompt "The character waves" char_0123456789abcdef
    APIKLEY_API_KEY=... python examples/next_video.py --prompt "The character waves" CHARACTER_ID...

``--dry-run`` prints the request body and sends nothing (no key needed). A character_id lives only as
long as the video URL it was made from: when the service refuses an old id, upload the clip again and
make a new character.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import httpx

MAX_CHARACTERS = 5
DEFAULT_MODEL = "sora-2-text-to-video"
DEFAULT_BASE_URL = "https://api.apikley.ru"


def video_task_body(
    prompt: str, character_ids: Sequence[str], *, model: str = DEFAULT_MODEL
) -> dict[str, Any]:
    """Return the createTask body of a sora-2 video task featuring ``character_ids`` (1 to 5 ids)."""
    ids = [character_id.strip() for character_id in character_ids]
    if not 1 <= len(ids) <= MAX_CHARACTERS or not all(ids):
        raise ValueError(f"character_id_list: give 1 to {MAX_CHARACTERS} non-empty ids, got {len(ids)}")
    if not prompt.strip():
        raise ValueError("prompt: must not be empty")
    return {"model": model, "input": {"prompt": prompt, "character_id_list": ids}}


def create_video_task(body: dict[str, Any], *, api_key: str, base_url: str = DEFAULT_BASE_URL) -> str:
    """Send ``body`` to createTask once (a repeat could bill twice) and return the new task id."""
    response = httpx.post(
        f"{base_url.rstrip('/')}/api/v1/jobs/createTask",
        json=body,
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=30.0,
    )
    try:
        envelope = response.json()
    except ValueError as exc:
        raise RuntimeError(f"createTask answered HTTP {response.status_code} without JSON") from exc
    if response.status_code != 200 or envelope.get("code") != 200:
        raise RuntimeError(f"createTask refused: code {envelope.get('code')}: {envelope.get('msg')}")
    task_id: str = envelope["data"]["taskId"]
    return task_id


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, then print the body (``--dry-run``) or the created task's id."""
    parser = argparse.ArgumentParser(
        prog="python examples/next_video.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("character_ids", nargs="+", metavar="CHARACTER_ID", help="1 to 5 character_ids")
    parser.add_argument("--prompt", required=True, help="what the video shows")
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"a sora-2 video model (default {DEFAULT_MODEL})"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the request body; send nothing")
    args = parser.parse_args(argv)
    try:
        body = video_task_body(args.prompt, args.character_ids, model=args.model)
    except ValueError as exc:
        parser.error(str(exc))
    if args.dry_run:
        sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
        return 0
    api_key = os.environ.get("APIKLEY_API_KEY")
    if not api_key:
        parser.error("set APIKLEY_API_KEY (or use --dry-run)")
    base_url = os.environ.get("APIKLEY_BASE_URL", DEFAULT_BASE_URL)
    sys.stdout.write(create_video_task(body, api_key=api_key, base_url=base_url) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
