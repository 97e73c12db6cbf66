"""``python -m sora2_characters.testing``: serve a fake Apikley until Ctrl-C or SIGTERM.

Every :class:`~sora2_characters.testing.FakeApikley` option that makes sense from a shell is an
option here; the serving itself is :func:`sora2_characters.testing.serve`, shared with
``sora2-characters mock``. A taken port exits with mock's code for it (20) and suggests
``--port 0``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sora2_characters._cli._exits import EXIT_PORT_IN_USE
from sora2_characters._fake.state import OPTIONAL_RECORD_FIELDS
from sora2_characters.testing import DEFAULT_API_KEY, FakeApikley, PortInUseError, serve

__all__ = ["build_parser", "fake_from_args", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Return the options of ``python -m sora2_characters.testing``."""
    parser = argparse.ArgumentParser(
        prog="python -m sora2_characters.testing", description="Run a fake Apikley server."
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4010, help="TCP port, 0 for any free one (default 4010)")
    parser.add_argument(
        "--api-key", default=DEFAULT_API_KEY, help=f"accepted key (default {DEFAULT_API_KEY})"
    )
    parser.add_argument("--accept-any-key", action="store_true", help="accept any non-empty bearer key")
    parser.add_argument("--error-style", choices=["live", "http"], default="live")
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="wall seconds per fake second (default 1)"
    )
    parser.add_argument("--task-duration", type=float, default=None, help="total fake seconds of a task")
    parser.add_argument("--credits", type=float, default=100.0, help="starting balance (default 100)")
    parser.add_argument("--credits-per-task", type=float, default=2.5)
    parser.add_argument("--webhook-secret", default=None, help="sign callbacks with this HMAC key")
    parser.add_argument("--no-validate-media", action="store_true", help="do not inspect source videos")
    parser.add_argument("--remote-videos", choices=["accept", "fail"], default="accept")
    parser.add_argument(
        "--record-field",
        action="append",
        choices=sorted(OPTIONAL_RECORD_FIELDS),
        default=[],
        help="add an optional task-record field the live service leaves out (repeatable)",
    )
    return parser


def fake_from_args(args: argparse.Namespace) -> FakeApikley:
    """Build a :class:`FakeApikley` from parsed :func:`build_parser` options."""
    return FakeApikley(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        accept_any_key=args.accept_any_key,
        error_style=args.error_style,
        time_scale=args.time_scale,
        task_duration=args.task_duration,
        initial_credits=args.credits,
        credits_per_task=args.credits_per_task,
        webhook_secret=args.webhook_secret,
        validate_media=not args.no_validate_media,
        remote_videos=args.remote_videos,
        record_fields=tuple(args.record_field),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sora2_characters.testing``; SIGTERM stops it like Ctrl-C."""
    try:
        serve(fake_from_args(build_parser().parse_args(argv)))
    except PortInUseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PORT_IN_USE
    return 0


if __name__ == "__main__":
    sys.exit(main())
