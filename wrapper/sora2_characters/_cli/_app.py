"""The ``sora2-characters`` commands (click), their error handling and exit codes."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import click

from .._exceptions import (
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    Sora2CharactersError,
    WaitTimeoutError,
)
from .._polling import DEFAULT_MAX_WAIT_S, NOT_FOUND_GRACE_S
from ._backend import EMBEDDED_NOTICE, FAKE_TASK_SECONDS, Backend, Settings, open_client
from ._batch import batch
from ._contracts import contracts
from ._exits import EXIT_INTERRUPTED, EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE, exit_code_for, exit_code_table
from ._listen import listen
from ._messages import KeySource, auth_hint, for_cli
from ._output import Output, Redactor
from ._progress import make_reporter

if TYPE_CHECKING:
    from .._models import TaskInfo
    from ..testing import FakeApikley

__all__ = ["cli", "run"]

PROG = "sora2-characters"
_RESOURCE_HINT = "pip install 'sora2-characters[cli]'"


_HELP = (
    "Turn a 1-4 s character video into a reusable Apikley character_id.\n\n"
    "\b\nThe whole job in one command (against the embedded fake when no key is set):\n"
    "  sora2-characters create --video examples/character.mp4 --wait\n\n"
    "Every command takes --json: stdout then holds exactly one JSON object, also on errors."
)


def _epilog() -> str:
    lines = ["\b", "Exit codes:"]
    lines += [f"  {code:>3}  {name:<26} {meaning}" for code, name, meaning in exit_code_table()]
    lines += [
        "",
        "\b",
        "With no API key and no base URL configured, every command runs against an embedded",
        "fake Apikley (started on loopback for the command, and said so on stderr).",
        "",
        "\b",
        "Scripts: --quiet prints only the result (the character_id, or the task id without --wait).",
        "Shell completion (bash; zsh_source and fish_source for the others):",
        '  eval "$(_SORA2_CHARACTERS_COMPLETE=bash_source sora2-characters)"',
    ]
    return "\n".join(lines)


@attrs.define
class _Global:
    """What the group parsed, handed to every command."""

    settings: Settings
    redact: Redactor
    explicit_globals: bool
    key_source: KeySource = None


@attrs.define
class _Run:
    """One command's run: its output, and the task it is about (for Ctrl-C and error reports)."""

    output: Output
    backend: Backend | None = None
    task_id: str | None = None


def _json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--json", "as_json", is_flag=True, help="Write exactly one JSON object to stdout (also on errors)."
    )(func)


def _quiet_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        return click.option(
            "--quiet",
            "-q",
            is_flag=True,
            help=f"Print only {what} on stdout, for scripts; stderr gets errors only.",
        )(func)

    return decorate


@click.group(
    name=PROG,
    help=_HELP,
    epilog=_epilog(),
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
)
@click.option(
    "--api-key",
    envvar="APIKLEY_API_KEY",
    metavar="KEY",
    help="Apikley API key [env: APIKLEY_API_KEY]. Never printed. Without a key and a base URL, "
    "the embedded fake is used.",
)
@click.option(
    "--base-url",
    envvar="APIKLEY_BASE_URL",
    metavar="URL",
    help="Jobs API base URL [env: APIKLEY_BASE_URL; default https://api.apikley.ru].",
)
@click.option(
    "--upload-base-url",
    envvar="APIKLEY_UPLOAD_BASE_URL",
    metavar="URL",
    help="File Upload API base URL [env: APIKLEY_UPLOAD_BASE_URL; default https://api.apikley.ru/file-upload].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Per-request timeout in seconds (default: the SDK's, 30 s; 120 s for uploads).",
)
@click.option(
    "--max-retries",
    type=click.IntRange(0, 20),
    default=2,
    show_default=True,
    help="Retries of safe requests on 429, 455, 5xx and connection errors.",
)
@click.version_option(package_name="sora2-characters", prog_name=PROG)
@click.pass_context
def cli(  # noqa: PLR0917 - click passes options as arguments
    ctx: click.Context,
    api_key: str | None,
    base_url: str | None,
    upload_base_url: str | None,
    timeout: float | None,
    max_retries: int,
) -> None:
    """Parse the global options (the help text is ``_HELP``)."""
    redact = Redactor([api_key, os.environ.get("APIKLEY_API_KEY")])
    settings = Settings(
        api_key=api_key or None,
        base_url=base_url or None,
        upload_base_url=upload_base_url or None,
        timeout=timeout,
        max_retries=max_retries,
    )
    explicit = any(
        ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        for name in ("api_key", "base_url", "upload_base_url")
    )
    key_source: KeySource = None
    if api_key:
        from_env = ctx.get_parameter_source("api_key") is click.core.ParameterSource.ENVIRONMENT
        key_source = "environment" if from_env else "option"
    ctx.obj = _Global(settings=settings, redact=redact, explicit_globals=explicit, key_source=key_source)


def _resume_hint(glob: _Global, backend: Backend | None, task_id: str) -> str:
    options = " [the same --api-key/--base-url options]" if glob.explicit_globals else ""
    hint = f"The task {task_id} keeps running. Resume with: {PROG}{options} wait {task_id}"
    if backend is not None and backend.embedded:
        hint += " (not possible here: the embedded fake stopped with this command)"
    return hint


def _error_hint(glob: _Global, run: _Run, error: BaseException) -> str | None:
    if isinstance(error, (KeyboardInterrupt, WaitTimeoutError)) and run.task_id is not None:
        return _resume_hint(glob, run.backend, run.task_id)
    if isinstance(error, NotFoundError) and run.backend is not None and run.backend.embedded:
        return (
            "note: the embedded fake starts empty for every command and forgets its tasks; "
            "set APIKLEY_API_KEY to query Apikley, or point --base-url at a running 'sora2-characters mock'."
        )
    if isinstance(error, AuthenticationError):
        return auth_hint(glob.key_source)
    return None


def _execute(
    glob: _Global,
    as_json: bool,
    action: Callable[[_Run, Backend], int],
    *,
    task_id: str | None = None,
    quiet: bool = False,
    precheck: Callable[[], object] | None = None,
    fields: Mapping[str, str] | None = None,
) -> int:
    """Run ``action`` with an open client; render any error and return the exit code.

    ``precheck`` validates the command's options before any client, fake or request exists; an
    :class:`InvalidInputError` is reported in CLI terms (``fields`` names this command's options).
    """
    output = Output(glob.redact, json_mode=as_json, quiet=quiet)
    run = _Run(output=output, task_id=task_id)
    try:
        if precheck is not None:
            precheck()
        with open_client(glob.settings) as backend:
            run.backend = backend
            if backend.embedded:
                output.notice(EMBEDDED_NOTICE.format(base_url=backend.base_url))
            return action(run, backend)
    except KeyboardInterrupt as exc:
        output.error(exc, task_id=run.task_id, hint=_error_hint(glob, run, exc))
        return EXIT_INTERRUPTED
    except InvalidInputError as exc:
        output.error(for_cli(exc, key_source=glob.key_source, fields=fields), task_id=run.task_id)
        return exit_code_for(exc)
    except Sora2CharactersError as exc:
        output.error(exc, task_id=run.task_id, hint=_error_hint(glob, run, exc))
        return exit_code_for(exc)
    except ImportError as exc:
        output.error(exc, hint=f"a dependency is missing; install the CLI extra: {_RESOURCE_HINT}")
        return EXIT_UNEXPECTED
    except Exception as exc:  # noqa: BLE001 - the CLI reports every failure, with exit code 1
        output.error(exc, task_id=run.task_id)
        return EXIT_UNEXPECTED


def _task_rows(info: TaskInfo, backend: Backend) -> dict[str, Any]:
    return {
        "task_id": info.task_id,
        "state": info.state.value,
        "progress": info.progress,
        "fail_code": info.fail_code,
        "fail_message": info.fail_message,
        "created_at": info.created_at,
        "completed_at": info.completed_at,
        "credits_consumed": info.credits_consumed,
        "backend": backend.kind,
        "character_id": info.character_id,
    }


def _backend_label(backend: Backend) -> str:
    if backend.embedded:
        return "embedded-fake (NOT Apikley: a local fake started for this command)"
    return f"{backend.kind} ({backend.base_url})"


def _human(payload: dict[str, Any], backend: Backend) -> list[tuple[str, Any]]:
    rows = [(key, value) for key, value in payload.items() if key not in {"backend", "character_id"}]
    rows.append(("backend", _backend_label(backend)))
    if "character_id" in payload:
        rows.append(("character_id", payload["character_id"]))
    return [(key, value) for key, value in rows if value is not None or key == "character_id"]


def _wait_for(run: _Run, backend: Backend, task_id: str, max_wait: float, poll_interval: float | None) -> int:
    run.task_id = task_id
    interval = poll_interval if poll_interval is not None else backend.poll_interval
    reporter = make_reporter(task_id, run.output)
    with reporter:
        info = backend.client.wait(task_id, max_wait=max_wait, poll_interval=interval, on_update=reporter)
    payload = _task_rows(info, backend)
    run.output.result(payload, _human(payload, backend), value=info.character_id)
    if backend.embedded:
        run.output.notice("note: this character_id came from the embedded fake, not from Apikley.")
    return EXIT_OK


def _find_task(run: _Run, backend: Backend, task_id: str, poll_interval: float | None) -> None:
    """Look for ``task_id`` during the grace period, saying so; raise NotFoundError once it ends.

    A task just created can take a moment to show in queries, so ``wait`` keeps looking for
    ``NOT_FOUND_GRACE_S`` seconds and shows it is doing so. The embedded fake starts empty for every
    command: there an unknown id is reported at once.
    """
    started = time.monotonic()
    interval = poll_interval if poll_interval is not None else 2.0
    while True:
        try:
            backend.client.get_task(task_id)
        except NotFoundError as exc:
            if backend.embedded:
                raise
            elapsed = time.monotonic() - started
            if elapsed >= NOT_FOUND_GRACE_S:
                raise NotFoundError(
                    f"no task {task_id} (still not found after {elapsed:.0f} s): check the id, and that the "
                    "key and base URL are those of the account that created it",
                    code=exc.code,
                    http_status=exc.http_status,
                ) from exc
            run.output.notice(
                f"[{elapsed:6.1f}s] {task_id} not found yet; a new task can take a few seconds to show, "
                f"looking again for up to {NOT_FOUND_GRACE_S - elapsed:.0f} s"
            )
            time.sleep(min(interval, max(0.0, NOT_FOUND_GRACE_S - elapsed)))
        else:
            return


_MAX_WAIT = click.option(
    "--max-wait",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_MAX_WAIT_S,
    show_default=True,
    metavar="SECONDS",
    help="Give up waiting after this many seconds (exit 11; the task keeps running).",
)
_POLL = click.option(
    "--poll-interval",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Fixed poll interval (default: the documented 2-30 s schedule; 0.25 s on the embedded fake).",
)


@cli.command(short_help="Create a character from a video; with --wait, print its character_id.")
@click.option(
    "--video",
    type=click.Path(exists=True, dir_okay=False, readable=True),
    help="A local mp4/webm/avi clip (1-4 s, at most 10 MB): validated, uploaded, then submitted.",
)
@click.option("--video-url", metavar="URL", help="A public http(s) URL of the clip (no upload).")
@click.option(
    "--from-task",
    metavar="TASK_ID",
    help="sora-2-characters-pro: cut the character from this completed video task (with --start, --end).",
)
@click.option("--start", type=float, metavar="SECONDS", help="With --from-task: the segment's start.")
@click.option("--end", type=float, metavar="SECONDS", help="With --from-task: its end (1-4 s after --start).")
@click.option("--name", metavar="NAME", help="With --from-task: character_user_name (at most 40 characters).")
@click.option("--prompt", metavar="TEXT", help="character_prompt (at most 5000 characters).")
@click.option("--safety", metavar="TEXT", help="safety_instruction (at most 5000 characters).")
@click.option("--callback-url", metavar="URL", help="Apikley POSTs the finished task here.")
@click.option(
    "--wait", "wait_", is_flag=True, help="Wait for the task, showing progress, and print the character_id."
)
@_MAX_WAIT
@_POLL
@_json_option
@_quiet_option("the character_id (with --wait) or the task id")
@click.pass_obj
def create(  # noqa: PLR0917 - click passes options as arguments
    glob: _Global,
    video: str | None,
    video_url: str | None,
    from_task: str | None,
    start: float | None,
    end: float | None,
    name: str | None,
    prompt: str | None,
    safety: str | None,
    callback_url: str | None,
    wait_: bool,
    max_wait: float,
    poll_interval: float | None,
    as_json: bool,
    quiet: bool,
) -> int:
    """Create a character from --video, --video-url or --from-task; with --wait, print its character_id."""
    if from_task is not None:
        if video is not None or video_url is not None:
            raise click.UsageError("give exactly one of --video PATH, --video-url URL or --from-task TASK_ID")
        if start is None or end is None or prompt is None:
            raise click.UsageError("--from-task needs --start SECONDS, --end SECONDS and --prompt TEXT")
        return _create_from_task(
            glob,
            from_task,
            start,
            end,
            prompt,
            name,
            safety,
            callback_url,
            wait_,
            max_wait,
            poll_interval,
            as_json,
        )
    if start is not None or end is not None or name is not None:
        raise click.UsageError("--start, --end and --name go with --from-task TASK_ID")
    if (video is None) == (video_url is None):
        raise click.UsageError("give exactly one of --video PATH or --video-url URL")

    def precheck() -> None:
        # Every option, before the clip is uploaded or anything is sent (the clip is checked next).
        from .._validation import check_text, check_url  # noqa: PLC0415 - keeps --help fast

        if video_url is not None:
            check_url("video_url", video_url)
        check_text("character_prompt", prompt)
        check_text("safety_instruction", safety)
        if callback_url is not None:
            check_url("callback_url", callback_url)

    def action(run: _Run, backend: Backend) -> int:
        url = video_url
        if video is not None:
            # The client validates the clip by content before sending a byte; one inspection.
            uploaded = backend.client.upload_video(video)
            run.output.notice(
                f"validated and uploaded {video}: {uploaded.mime_type}, {uploaded.size} bytes"
                f" -> {uploaded.download_url}"
            )
            url = uploaded.download_url
        assert url is not None  # noqa: S101 - one of the two is given
        created = backend.client.create_character(
            url, character_prompt=prompt, safety_instruction=safety, callback_url=callback_url
        )
        run.task_id = created.task_id
        run.output.notice(f"submitted task {created.task_id}")
        if wait_:
            return _wait_for(run, backend, created.task_id, max_wait, poll_interval)
        payload = {
            "task_id": created.task_id,
            "state": "submitted",
            "video_url": url,
            "backend": backend.kind,
        }
        run.output.result(payload, _human(payload, backend), value=created.task_id)
        if backend.embedded:
            run.output.notice(
                f"note: this task lives only as long as this command: the embedded fake stopped with it, "
                f"so '{PROG} status {created.task_id}' afterwards cannot find it. Add --wait to get the "
                f"character_id now, or run '{PROG} mock' in another terminal and point APIKLEY_BASE_URL "
                "at it to keep tasks between commands."
            )
        return EXIT_OK

    source = {"source": f"--video {video}", "file_name": f"--video {video}"} if video else None
    return _execute(glob, as_json, action, quiet=quiet, precheck=precheck, fields=source)


def _create_from_task(  # noqa: PLR0917 - the create command's options, passed on
    glob: _Global,
    origin_task_id: str,
    start: float,
    end: float,
    prompt: str,
    name: str | None,
    safety: str | None,
    callback_url: str | None,
    wait_: bool,
    max_wait: float,
    poll_interval: float | None,
    as_json: bool,
) -> int:
    """``create --from-task``: the same output, --json and exit codes as ``create --video``."""

    def action(run: _Run, backend: Backend) -> int:
        created = backend.client.create_character_from_task(
            origin_task_id,
            start=start,
            end=end,
            character_prompt=prompt,
            character_user_name=name,
            safety_instruction=safety,
            callback_url=callback_url,
        )
        run.task_id = created.task_id
        run.output.notice(f"submitted task {created.task_id}")
        if wait_:
            return _wait_for(run, backend, created.task_id, max_wait, poll_interval)
        payload = {
            "task_id": created.task_id,
            "state": "submitted",
            "origin_task_id": origin_task_id,
            "backend": backend.kind,
        }
        run.output.result(payload, _human(payload, backend))
        return EXIT_OK

    return _execute(glob, as_json, action)


@cli.command(short_help="Show a task's state and character_id.")
@click.argument("task_id")
@_json_option
@_quiet_option("the state")
@click.pass_obj
def status(glob: _Global, task_id: str, as_json: bool, quiet: bool) -> int:
    """Show a task's state once (and its character_id once it succeeded)."""

    def action(run: _Run, backend: Backend) -> int:
        info = backend.client.get_task(task_id)
        payload = _task_rows(info, backend)
        run.output.result(payload, _human(payload, backend), value=info.state.value)
        return EXIT_OK

    return _execute(glob, as_json, action, task_id=task_id, quiet=quiet)


@cli.command(short_help="Wait for a task to end; print its character_id.")
@click.argument("task_id")
@_MAX_WAIT
@_POLL
@_json_option
@_quiet_option("the character_id")
@click.pass_obj
def wait(  # noqa: PLR0917 - click passes options as arguments
    glob: _Global, task_id: str, max_wait: float, poll_interval: float | None, as_json: bool, quiet: bool
) -> int:
    """Wait for a task to end, showing progress; print its character_id."""

    def action(run: _Run, backend: Backend) -> int:
        _find_task(run, backend, task_id, poll_interval)
        return _wait_for(run, backend, task_id, max_wait, poll_interval)

    return _execute(glob, as_json, action, task_id=task_id, quiet=quiet)


@cli.command(short_help="Validate and upload a clip; print its download_url.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, readable=True))
@_json_option
@_quiet_option("the download_url")
@click.pass_obj
def upload(glob: _Global, path: str, as_json: bool, quiet: bool) -> int:
    """Validate and upload a local clip; print its temporary download_url."""

    def action(run: _Run, backend: Backend) -> int:
        uploaded = backend.client.upload_video(path)
        payload = {
            "download_url": uploaded.download_url,
            "file_name": uploaded.file_name,
            "size": uploaded.size,
            "mime_type": uploaded.mime_type,
            "uploaded_at": uploaded.uploaded_at,
            "backend": backend.kind,
        }
        run.output.result(payload, _human(payload, backend), value=uploaded.download_url)
        return EXIT_OK

    return _execute(glob, as_json, action, quiet=quiet, fields={"source": path, "file_name": path})


@cli.command(short_help="Show the remaining credit balance.")
@_json_option
@_quiet_option("the balance")
@click.pass_obj
def credits(glob: _Global, as_json: bool, quiet: bool) -> int:
    """Show the remaining credit balance."""

    def action(run: _Run, backend: Backend) -> int:
        balance = backend.client.get_credits()
        payload = {"credits": balance, "backend": backend.kind}
        run.output.result(payload, _human(payload, backend), value=balance)
        return EXIT_OK

    return _execute(glob, as_json, action, quiet=quiet)


@cli.command(short_help="Serve the fake Apikley until Ctrl-C.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (loopback).")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=4010, show_default=True, help="0: any free port."
)
@click.option(
    "--key",
    "fake_key",
    default="test-key",
    show_default=True,
    help="The key the fake accepts (a throwaway, not an Apikley key).",
)
@click.option("--accept-any-key", is_flag=True, help="Accept any non-empty bearer key.")
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help=f"Wall seconds per fake second (a task takes {FAKE_TASK_SECONDS:g} fake seconds).",
)
@click.option("--credits", "initial_credits", type=float, default=100.0, show_default=True)
@click.option(
    "--error-style",
    type=click.Choice(["live", "http"]),
    default="live",
    show_default=True,
    help="live: HTTP 200 with the code in the body; http: HTTP status = code.",
)
@_json_option
@click.pass_obj
def mock(  # noqa: PLR0917 - click passes options as arguments
    glob: _Global,
    host: str,
    port: int,
    fake_key: str,
    accept_any_key: bool,
    time_scale: float,
    initial_credits: float,
    error_style: str,
    as_json: bool,
) -> int:
    """Serve the fake Apikley until interrupted (Ctrl-C), printing the base URLs and a key to use."""
    output = Output(glob.redact, json_mode=as_json)

    def announce(fake: FakeApikley) -> None:
        urls = {"base_url": fake.base_url, "upload_base_url": fake.upload_base_url, "api_key": fake.api_key}
        output.result(urls, list(urls.items()))
        output.notice(
            "Serving the fake Apikley. Point the CLI or the SDK at it with:\n"
            f"  export APIKLEY_BASE_URL={fake.base_url} APIKLEY_UPLOAD_BASE_URL={fake.upload_base_url}"
            f" APIKLEY_API_KEY={fake.api_key}\n"
            "Press Ctrl-C to stop."
        )

    try:
        from ..testing import FakeApikley, PortInUseError, serve  # noqa: PLC0415 - keeps --help fast
    except ImportError as exc:
        output.error(exc, hint=f"the fake needs starlette and uvicorn: {_RESOURCE_HINT}")
        return EXIT_UNEXPECTED
    try:
        fake = FakeApikley(
            host=host,
            port=port,
            api_key=fake_key,
            accept_any_key=accept_any_key,
            time_scale=time_scale,
            initial_credits=initial_credits,
            error_style="http" if error_style == "http" else "live",
        )
    except ValueError as exc:  # e.g. an empty --key
        output.error(exc)
        return EXIT_USAGE
    try:
        serve(fake, out=output.stderr, announce=announce)
    except PortInUseError as exc:  # its message suggests --port 0
        output.error(exc)
        return exit_code_for(exc)
    except Exception as exc:  # noqa: BLE001 - e.g. the server died
        output.error(exc)
        return EXIT_UNEXPECTED
    return EXIT_OK


cli.add_command(listen)
cli.add_command(batch)
cli.add_command(contracts)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` and return the exit code (never raises SystemExit)."""
    args = list(argv) if argv is not None else None
    seen = args if args is not None else sys.argv[1:]
    as_json = "--json" in seen
    redact = Redactor([os.environ.get("APIKLEY_API_KEY"), *_api_keys_in(seen)])
    output = Output(redact, json_mode=as_json)
    try:
        result = cli.main(args=args, prog_name=PROG, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        output.error(KeyboardInterrupt())
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        if as_json:
            output.error(_UsageError(exc.format_message(), field=_option_of(exc)))
        else:
            output.stderr.write(redact(_usage_text(exc)))
        return exc.exit_code if exc.exit_code != 1 else EXIT_USAGE
    except KeyboardInterrupt as exc:
        output.error(exc)
        return EXIT_INTERRUPTED
    return int(result) if isinstance(result, int) else EXIT_OK


class _UsageError(Exception):
    """Stands for click's usage errors in the JSON error object (type ``UsageError``, with ``field``)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _option_of(exc: click.ClickException) -> str | None:
    """Return the option (or argument) a click error is about (``--max-wait``, ``PATH``), or ``None``."""
    param = getattr(exc, "param", None)
    if param is None:
        return None
    if isinstance(param, click.Option) and param.opts:
        return max(param.opts, key=len)
    name: str = param.human_readable_name
    return name


_UsageError.__name__ = "UsageError"


def _usage_text(exc: click.ClickException) -> str:
    ctx = getattr(exc, "ctx", None)
    usage = f"{ctx.get_usage()}\nTry '{ctx.command_path} --help' for help.\n\n" if ctx is not None else ""
    return f"{usage}Error: {exc.format_message()}\n"


def _api_keys_in(args: Sequence[str]) -> list[str]:
    keys = []
    for index, arg in enumerate(args):
        if arg == "--api-key" and index + 1 < len(args):
            keys.append(args[index + 1])
        elif arg.startswith("--api-key="):
            keys.append(arg.split("=", 1)[1])
    return keys
