"""``sora2-characters listen``: serve :class:`~sora2_characters.webhooks.CallbackApp` with uvicorn.

Each first-seen task outcome becomes one JSON line (the fields of ``status --json``, with
``backend`` ``"callback"``) appended to ``--out`` or written to stdout. With ``--workers`` above 1,
uvicorn runs that many processes on one socket; they share the ``--store`` (``sqlite:`` or
``redis://``), so each outcome is written once whichever worker receives it.

The worker processes build their app from the ``SORA2_CHARACTERS_LISTEN`` environment variable (a
JSON object this command sets); the secret itself stays in the variable ``--secret-env`` names.
"""

from __future__ import annotations

import json
import os
import socket
from typing import TYPE_CHECKING, Any, Final

import click

from .._exceptions import StoreError
from ._exits import EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE, exit_code_for
from ._output import Output, jsonable

if TYPE_CHECKING:
    from .._models import TaskInfo
    from .._receiver import CallbackApp

__all__ = ["CONFIG_ENV", "app_from_environment", "listen", "outcome_line"]

#: The environment variable that carries the command's options to uvicorn's worker processes.
CONFIG_ENV: Final = "SORA2_CHARACTERS_LISTEN"
_APP: Final = "sora2_characters._cli._listen:app_from_environment"


def outcome_line(info: TaskInfo) -> bytes:
    """One JSON line for an outcome: the fields of ``status --json`` (``backend`` is ``callback``)."""
    row = {
        "task_id": info.task_id,
        "state": info.state.value,
        "progress": info.progress,
        "fail_code": info.fail_code,
        "fail_message": info.fail_message,
        "created_at": info.created_at,
        "completed_at": info.completed_at,
        "credits_consumed": info.credits_consumed,
        "backend": "callback",
        "character_id": info.character_id,
    }
    text = json.dumps(jsonable(row), ensure_ascii=True, sort_keys=True) + "\n"
    return text.encode("ascii")


class _LineWriter:
    """Appends whole lines with one ``write`` each, so lines of several processes never interleave."""

    def __init__(self, out: str | None) -> None:
        self._fd = 1 if out is None else os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def __call__(self, info: TaskInfo) -> None:
        line = outcome_line(info)
        written = os.write(self._fd, line)
        while written < len(line):  # only a pipe or a full disk writes part of a line
            written += os.write(self._fd, line[written:])


def app_from_environment() -> CallbackApp:
    """Build the worker's app from :data:`CONFIG_ENV` (uvicorn calls this in each worker process)."""
    from .._receiver import CallbackApp  # noqa: PLC0415
    from .._stores import store_from_url  # noqa: PLC0415

    config = json.loads(os.environ[CONFIG_ENV])
    secret_env = config.get("secret_env")
    secret = os.environ.get(secret_env) if secret_env else None
    return CallbackApp(
        _LineWriter(config.get("out")),
        secret=secret or None,
        store=store_from_url(config["store"]),
        tolerance=float(config["tolerance"]),
        path=config["path"],
    )


def _can_bind(host: str, port: int) -> bool:
    """Whether ``host:port`` is free (as uvicorn binds it: with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@click.command(short_help="Receive Apikley's callbacks: verify, deduplicate, one JSON line per outcome.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0: any free port."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="uvicorn worker processes (above 1 needs a shared --store: sqlite: or redis://).",
)
@click.option(
    "--secret-env",
    metavar="NAME",
    help="The environment variable holding the webhook secret; signatures are then required.",
)
@click.option(
    "--store",
    "store_url",
    default="memory:",
    show_default=True,
    metavar="URL",
    help="Where handled outcomes are remembered: memory:, sqlite:PATH or redis://HOST:PORT/DB.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Append one JSON line per new outcome to this file (default: stdout).",
)
@click.option("--path", "url_path", default="/", show_default=True, help="The path callbacks are POSTed to.")
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="How far a signature's timestamp may be from now.",
)
@click.pass_obj
def listen(  # noqa: PLR0917 - click passes options as arguments
    glob: Any,
    host: str,
    port: int,
    workers: int,
    secret_env: str | None,
    store_url: str,
    out: str | None,
    url_path: str,
    tolerance: float,
) -> int:
    r"""Serve a callback receiver until Ctrl-C: each task outcome is written once, as a JSON line.

    \b
    Point callBackUrl (create --callback-url) at it. For example, four workers on one machine:
      sora2-characters listen --workers 4 --store sqlite:callbacks.sqlite --secret-env WEBHOOK_SECRET
    """
    output = Output(glob.redact, json_mode=False)
    try:
        config = _prepare(workers, secret_env, store_url, out, url_path, tolerance, output)
    except click.UsageError as exc:
        output.notice(f"error: UsageError: {exc.format_message()}")
        return EXIT_USAGE
    except StoreError as exc:
        output.error(exc)
        return exit_code_for(exc)
    try:
        import uvicorn  # noqa: PLC0415 - the 'server' extra

        from .._h11 import NoDelayH11Protocol  # noqa: PLC0415 - needs uvicorn
    except ImportError as exc:
        output.error(exc, hint="listen needs uvicorn: pip install 'sora2-characters[server]'")
        return EXIT_UNEXPECTED
    if port == 0:
        port = _free_port(host)
    elif not _can_bind(host, port):
        from .._fake.errors import PortInUseError  # noqa: PLC0415 - the one "port taken" error

        taken = PortInUseError(host, port)
        output.error(taken)
        return exit_code_for(taken)
    os.environ[CONFIG_ENV] = json.dumps(config)
    shown = "" if config["secret_env"] else " (no --secret-env: signatures are NOT checked)"
    output.notice(
        f"listening on http://{host}:{port}{url_path} with {workers} worker(s), store {_shown(store_url)}"
        f"{shown}; Ctrl-C stops"
    )
    try:
        uvicorn.run(
            _APP,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            lifespan="on",
            http=NoDelayH11Protocol,  # uvicorn's socket for several workers has protocol 0: no TCP_NODELAY
        )
    except SystemExit as exc:  # uvicorn exits when it cannot bind or a worker cannot start
        output.notice(f"error: the server stopped (port {port} taken, or the app failed to start): {exc}")
        return EXIT_UNEXPECTED
    return EXIT_OK


def _shown(store_url: str) -> str:
    from .._stores import _without_password  # noqa: PLC0415

    return _without_password(store_url)


def _prepare(  # noqa: PLR0917 - the command's options, checked in one place
    workers: int,
    secret_env: str | None,
    store_url: str,
    out: str | None,
    url_path: str,
    tolerance: float,
    output: Output,
) -> dict[str, Any]:
    """Check every option before serving; the store is reached now, not at the first callback."""
    from .._stores import store_from_url  # noqa: PLC0415

    if workers > 1 and store_url == "memory:":
        raise click.UsageError(
            "--store memory: is one process's memory; with --workers above 1 use sqlite:PATH or redis://..."
        )
    if not url_path.startswith("/"):
        raise click.UsageError(f"--path must start with '/', got {url_path!r}")
    if secret_env is not None:
        secret = os.environ.get(secret_env)
        if not secret:
            raise click.UsageError(f"--secret-env {secret_env}: that environment variable is unset or empty")
        output.redact.add(secret)
    if out is not None:
        try:
            os.close(os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
        except OSError as exc:
            raise click.UsageError(f"--out {out}: cannot append to it ({exc.strerror})") from exc
    store = store_from_url(store_url)
    try:
        store.check()
    finally:
        store.close()
    return {
        "store": store_url,
        "secret_env": secret_env,
        "out": out,
        "path": url_path,
        "tolerance": tolerance,
    }
