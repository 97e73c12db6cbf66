"""The fake's Starlette application: routing, auth, faults, recording, and the API's behaviour.

Each API call goes through :func:`_dispatch`: it consumes the fault plan for the operation, records
the request, checks the key, runs the operation and renders its outcome in the configured error
style. Faults of kind ``code`` and ``rate_limit`` answer instead of the operation (nothing is
created); ``drop`` with ``when="after_read"`` and ``malformed`` run the operation first (a
createTask creates and bills its task) and then break the answer.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from sora2_characters._fake import schema
from sora2_characters._fake.callbacks import run_scheduler
from sora2_characters._fake.faults import UPLOAD_OPERATIONS, Fault, FaultPlan
from sora2_characters._fake.responses import (
    DropResponse,
    default_message,
    envelope,
    malformed,
    spring_error,
)
from sora2_characters._fake.routes import FILES_PREFIX, OPERATION_PATHS, UPLOAD_API_MOUNT
from sora2_characters._fake.state import FakeState, PlannedFailure, RecordedRequest, StoredFile
from sora2_characters._fake.uploads import (
    UploadParseError,
    decode_base64,
    file_name_for,
    mime_type_for,
    parse_multipart,
    url_file_name,
)
from sora2_characters._fake.videos import MAX_VIDEO_BYTES, VIDEO_FAIL_CODE, video_problem
from sora2_characters._tls import LazyTrustContext
from sora2_characters._validation import is_loopback_host

#: The largest request body the jobs API reads (its bodies are a few kilobytes).
MAX_JOBS_BODY_BYTES = 1024 * 1024
#: The largest request body the upload API reads (a 10 MB video, base64-encoded, with room to spare).
MAX_UPLOAD_BODY_BYTES = 32 * 1024 * 1024
#: The sibling model: a character from a segment of an earlier task of this fake.
PRO_MODEL = "sora-2-characters-pro"


@dataclass
class Outcome:
    """What an operation answers: the body ``code``, ``msg`` and ``data``."""

    code: int
    msg: str
    data: Any = None


@dataclass
class Context:
    """What the handlers share: the state, the fault plan and the fake's own base URL."""

    state: FakeState
    faults: FaultPlan
    base_url: Callable[[], str]

    def own_file(self, url: str) -> StoredFile | bool | None:
        """Return the stored file ``url`` names; ``False`` when ``url`` is not one of this fake's files."""
        base = urlsplit(self.base_url())
        try:
            parts = urlsplit(url)
            port, host = parts.port, parts.hostname or ""
        except ValueError:  # unparsable, or a port outside 0-65535: not ours
            return False
        same_port = port == base.port and (is_loopback_host(host) or host == base.hostname)
        if not same_port or not parts.path.startswith(FILES_PREFIX):
            return False
        return self.state.file(unquote(parts.path[len(FILES_PREFIX) :]))

    def file_url(self, file_path: str) -> str:
        """Return the download URL of a stored file."""
        return f"{self.base_url()}{FILES_PREFIX}{quote(file_path)}"


async def fetch_loopback(url: str, timeout: float) -> bytes:
    """GET a loopback URL (bounded in time and to 10 MB + 1 byte); raise ``httpx.HTTPError``."""
    async with (
        httpx.AsyncClient(timeout=timeout, trust_env=False, verify=LazyTrustContext()) as client,
        client.stream("GET", url) as response,
    ):
        response.raise_for_status()
        content = bytearray()
        async for chunk in response.aiter_bytes():
            content += chunk
            if len(content) > MAX_VIDEO_BYTES:
                break
        return bytes(content)


def _header_dict(request: Request) -> dict[str, str]:
    """Return ``dict(request.headers)`` (lower-case names, the first of repeated ones) in one pass.

    Starlette's mapping looks each name up anew: quadratic in the number of headers.
    """
    headers: dict[str, str] = {}
    for name, value in request.scope["headers"]:
        headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return headers


def _redacted(headers: dict[str, str]) -> dict[str, str]:
    if "authorization" in headers:
        scheme = headers["authorization"].split(" ", 1)[0]
        headers["authorization"] = f"{scheme} <redacted>" if " " in headers["authorization"] else "<redacted>"
    return headers


def _authorized(ctx: Context, request: Request) -> bool:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        return False
    settings = ctx.state.settings
    return settings.accept_any_key or key in settings.api_keys


Handler = Callable[[Context, Request, bytes], Awaitable[Outcome]]


async def _dispatch(ctx: Context, request: Request, operation: str, handler: Handler) -> Response:
    upload = operation in UPLOAD_OPERATIONS
    latency, fault = ctx.faults.take(operation)
    if latency:
        await asyncio.sleep(latency)
    if fault is not None and fault.delay and fault.kind != "latency":
        await asyncio.sleep(fault.delay)
    body: bytes | None = None
    status: int | None = None
    try:
        if fault is not None and fault.kind == "drop" and fault.when == "before_read":
            return DropResponse()
        style = ctx.state.settings.error_style
        answering_fault = fault is not None and fault.kind != "latency"
        if not answering_fault and not _authorized(ctx, request):
            # The key is checked before the body is read: a stranger cannot make the fake read anything.
            response = envelope(401, default_message(401, style, upload=upload), style=style, upload=upload)
            status = response.status_code
            return response
        try:
            body = await _read_body(request, MAX_UPLOAD_BODY_BYTES if upload else MAX_JOBS_BODY_BYTES)
        except ClientDisconnect:  # the client gave up (its timeout) while we slept: nobody to answer
            return DropResponse()
        except BodyTooLargeError as exc:
            response = envelope(413, str(exc), style=style, upload=upload)
            response.status_code = status = 413  # refused at the HTTP level in both styles
            return response
        response = await _answer(
            ctx, request, operation=operation, handler=handler, fault=fault, body=body, upload=upload
        )
        status = (
            None if isinstance(response, DropResponse) or response.status_code == 0 else response.status_code
        )
        return response
    finally:
        _record(ctx, request, body, operation=operation, fault=fault, status=status)


class BodyTooLargeError(Exception):
    """A request body over the fake's limit (announced by Content-Length, or counted as it arrived)."""


async def _read_body(request: Request, limit: int) -> bytes:
    """Read the body, refusing one over ``limit`` bytes before reading it when Content-Length says so.

    A body without a usable Content-Length (chunked) is counted as it arrives and refused as soon as
    it passes the limit, so memory stays bounded by the limit.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(f"body: at most {limit} bytes; Content-Length says {int(declared)}")
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise BodyTooLargeError(f"body: at most {limit} bytes")
    return bytes(received)


def _record(
    ctx: Context,
    request: Request,
    body: bytes | None,
    *,
    operation: str | None,
    fault: Fault | None,
    status: int | None,
) -> None:
    """Record one request for the tests' assertions, its key redacted."""
    ctx.state.record(
        RecordedRequest(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers=_redacted(_header_dict(request)),
            body=body,
            operation=operation,
            fault=None if fault is None else fault.describe(),
            status=status,
            time=ctx.state.now(),
        )
    )


async def _answer(
    ctx: Context,
    request: Request,
    *,
    operation: str,
    handler: Handler,
    fault: Fault | None,
    body: bytes,
    upload: bool,
) -> Response:
    style = ctx.state.settings.error_style
    if fault is not None and fault.kind == "code":
        assert fault.code is not None  # noqa: S101 - Fault.__post_init__ guarantees it
        http_status = fault.http_status
        message = fault.msg or default_message(fault.code, style, upload=upload)
        response = envelope(fault.code, message, style=style, upload=upload)
        if http_status is not None:
            response.status_code = http_status
        return response
    if fault is not None and fault.kind == "rate_limit":
        response = envelope(429, fault.msg or default_message(429, style), style=style, upload=upload)
        response.status_code = 429  # a rate limit is an HTTP 429 in both styles
        if fault.retry_after is not None:
            response.headers["Retry-After"] = fault.retry_after
        return response
    if not _authorized(ctx, request):
        outcome = Outcome(401, default_message(401, style, upload=upload))
    else:
        outcome = await handler(ctx, request, body)
    response = envelope(outcome.code, outcome.msg, outcome.data, style=style, upload=upload)
    if fault is not None and fault.kind == "drop":
        return DropResponse()
    if fault is not None and fault.kind == "malformed":
        return malformed(fault.malformed, bytes(response.body), upload=upload)
    return response


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise UploadParseError("body: not valid JSON") from None
    except RecursionError:  # a document nested thousands deep: refused, never a 500
        raise UploadParseError("body: JSON nested too deeply") from None


# ---- the jobs API ----------------------------------------------------------------------------


async def _video_failure(ctx: Context, url: str) -> PlannedFailure | None:
    settings = ctx.state.settings
    if not settings.validate_media:
        return None
    stored = ctx.own_file(url)
    content: bytes | None
    if isinstance(stored, StoredFile) and stored.content is not None:
        content = stored.content
    elif stored is None:
        return PlannedFailure("404", "character_file_url: no file is stored at this URL")
    elif schema.is_loopback_url(url) and stored is False:
        try:
            content = await fetch_loopback(url, settings.fetch_timeout)
        except httpx.HTTPError as exc:
            return PlannedFailure(
                VIDEO_FAIL_CODE, f"character_file_url: the video could not be downloaded ({exc})"
            )
    else:
        if settings.remote_videos == "accept":
            return None
        return PlannedFailure(
            VIDEO_FAIL_CODE, "character_file_url: remote videos are refused (remote_videos='fail')"
        )
    problem = await run_in_threadpool(video_problem, content)
    return None if problem is None else PlannedFailure(VIDEO_FAIL_CODE, problem)


def _create_problem(payload: Any, style: str) -> Outcome | None:
    problem = schema.validate(payload, schema.request_schema("createTask"))
    if problem is None and "input" not in payload:
        problem = schema.Problem("input", "required", "input: is required")
    if problem is None:
        return None
    if style == "live" and problem.keyword == "required":
        return Outcome(500, "This field is required")  # as captured: a missing field is a 500
    if style == "live" and problem.field == "model" and problem.keyword == "enum":
        return Outcome(422, "The model is not supported")
    return Outcome(422, problem.message)


async def _create_task(ctx: Context, request: Request, body: bytes) -> Outcome:
    style = ctx.state.settings.error_style
    try:
        payload = _json_body(body)
    except UploadParseError as exc:
        return Outcome(400, str(exc))
    refused = _create_problem(payload, style)
    if refused is not None:
        return refused
    if payload.get("model") == PRO_MODEL:
        # sora-2-characters-pro cuts its character from an earlier task, which must have succeeded.
        origin = payload["input"]["origin_task_id"]
        view = ctx.state.view_task(origin)
        if view is None or view.get("state") != "success":
            return Outcome(422, f"origin_task_id: no successful task {origin}")
        failure = None
    else:
        failure = await _video_failure(ctx, payload["input"]["character_file_url"][0])
    task = ctx.state.create_task(payload, failure)  # checks the balance and bills in one step
    if task is None:
        return Outcome(402, default_message(402, style))
    data = {"taskId": task.task_id}
    if style == "live":
        data["recordId"] = task.task_id  # as captured: the same id again
    return Outcome(200, "success", data)


async def _record_info(ctx: Context, request: Request, body: bytes) -> Outcome:
    for name, (required, param_schema) in schema.query_schema("recordInfo").items():
        value = request.query_params.get(name)
        if value is None:
            if required:
                return Outcome(400, f"{name} is required")
            continue
        problem = schema.validate(value, param_schema, name)
        if problem is not None:
            return Outcome(400, problem.message)
    view = ctx.state.view_task(request.query_params["taskId"])
    if view is None:
        return Outcome(422, "recordInfo is null")
    return Outcome(200, "success", view)


async def _credits(ctx: Context, request: Request, body: bytes) -> Outcome:
    return Outcome(200, "success", ctx.state.credits)


async def _download_url(ctx: Context, request: Request, body: bytes) -> Outcome:
    try:
        payload = _json_body(body)
    except UploadParseError as exc:
        return Outcome(400, str(exc))
    problem = schema.validate(payload, schema.request_schema("downloadUrl"))
    if problem is not None:
        return Outcome(422, problem.message)
    stored = ctx.own_file(payload["url"])
    if not isinstance(stored, StoredFile):
        live = ctx.state.settings.error_style == "live"
        return Outcome(422, "url is wrong" if live else "url: not a file stored by this server")
    return Outcome(200, "success", f"{ctx.file_url(stored.file_path)}?token={secrets.token_urlsafe(12)}")


# ---- the upload API ----------------------------------------------------------------------------


def _store(
    ctx: Context,
    fields: dict[str, Any],
    content: bytes | None,
    *,
    name_hint: str | None,
    declared: str | None,
    source_url: str | None = None,
) -> Outcome:
    file_name = file_name_for(fields.get("fileName"), name_hint)
    file_path = f"{fields['uploadPath']}/{file_name}"
    stored = StoredFile(
        file_name=file_name,
        file_path=file_path,
        mime_type=mime_type_for(content, file_name, declared),
        uploaded_at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        content=content,
        source_url=source_url,
    )
    ctx.state.store_file(stored)
    data = {
        "fileName": file_name,
        "filePath": file_path,
        "downloadUrl": ctx.file_url(file_path),
        "fileSize": stored.size,
        "mimeType": stored.mime_type,
        "uploadedAt": stored.uploaded_at,
    }
    return Outcome(200, "File uploaded successfully", data)


def _upload_fields(ctx: Context, operation: str, fields: Any) -> None:
    problem = schema.validate(fields, schema.request_schema(operation))
    if problem is None:
        return
    if ctx.state.settings.error_style == "live" and problem.keyword == "required":
        raise UploadParseError(f"Missing required parameter: {problem.field}")  # the docs' wording
    raise UploadParseError(problem.message)


async def _stream_upload(ctx: Context, request: Request, body: bytes) -> Outcome:
    try:
        parts = parse_multipart(request.headers.get("content-type", ""), body)
        fields: dict[str, Any] = {
            name: part.content.decode("utf-8", "replace") for name, part in parts.items() if name != "file"
        }
        if "file" in parts:
            fields["file"] = "<binary>"
        _upload_fields(ctx, "fileStreamUpload", fields)
    except UploadParseError as exc:
        return Outcome(400, str(exc))
    file = parts["file"]
    return _store(ctx, fields, file.content, name_hint=file.filename, declared=file.content_type)


async def _base64_upload(ctx: Context, request: Request, body: bytes) -> Outcome:
    try:
        fields = _json_body(body)
        _upload_fields(ctx, "fileBase64Upload", fields)
        content, declared = decode_base64(fields["base64Data"])
    except (UploadParseError, binascii.Error) as exc:
        return Outcome(400, str(exc))
    return _store(ctx, fields, content, name_hint=None, declared=declared)


async def _url_upload(ctx: Context, request: Request, body: bytes) -> Outcome:
    try:
        fields = _json_body(body)
        _upload_fields(ctx, "fileUrlUpload", fields)
    except UploadParseError as exc:
        return Outcome(400, str(exc))
    url: str = fields["fileUrl"]
    if urlsplit(url).scheme not in {"http", "https"}:
        return Outcome(400, "fileUrl: must be an http or https URL")
    name_hint = url_file_name(url)
    if not schema.is_loopback_url(url):
        # The fake never leaves the machine: remember the URL, unfetched.
        return _store(ctx, fields, None, name_hint=name_hint, declared=None, source_url=url)
    try:
        content = await fetch_loopback(url, ctx.state.settings.fetch_timeout)
    except httpx.HTTPError as exc:
        return Outcome(500, f"Upload failed: fileUrl could not be downloaded ({type(exc).__name__})")
    return _store(ctx, fields, content, name_hint=name_hint, declared=None, source_url=url)


# ---- routing -----------------------------------------------------------------------------------


async def _serve_file(ctx: Context, request: Request) -> Response:
    file_path = request.path_params["file_path"]
    stored = ctx.state.file(file_path)
    status = 200 if stored is not None and stored.content is not None else 404
    _record(ctx, request, b"", operation=None, fault=None, status=status)
    if stored is None or stored.content is None:
        return Response(b"not found", status_code=404, media_type="text/plain")
    return Response(stored.content, media_type=stored.mime_type)


async def _not_found(ctx: Context, request: Request) -> Response:
    body = await request.body()
    path = request.url.path
    operation_paths = {each for _, each in OPERATION_PATHS}
    known = path in operation_paths or path.removeprefix(UPLOAD_API_MOUNT) in operation_paths
    style = ctx.state.settings.error_style
    if style == "live":  # Spring answers a wrong path or method itself, outside the envelope
        response = spring_error(path, round(ctx.state.now() * 1000), 405 if known else 404)
    else:
        upload = known and path.removeprefix(UPLOAD_API_MOUNT).startswith("/api/file-")
        code = 405 if upload else 404
        message = "Method not allowed" if upload else default_message(404)
        response = envelope(code, message, style=style, upload=upload)
    _record(ctx, request, body, operation=None, fault=None, status=response.status_code)
    return response


_HANDLERS: dict[str, Handler] = {
    "createTask": _create_task,
    "recordInfo": _record_info,
    "credits": _credits,
    "downloadUrl": _download_url,
    "fileStreamUpload": _stream_upload,
    "fileBase64Upload": _base64_upload,
    "fileUrlUpload": _url_upload,
}


def build_app(ctx: Context) -> Starlette:
    """Build the ASGI app of one fake (uploads answer under ``/file-upload`` and at the bare paths)."""

    def endpoint(operation: str) -> Callable[[Request], Awaitable[Response]]:
        async def call(request: Request) -> Response:
            return await _dispatch(ctx, request, operation, _HANDLERS[operation])

        return call

    routes: list[Route] = []
    for (method, path), operation in OPERATION_PATHS.items():
        paths = [path, UPLOAD_API_MOUNT + path] if operation in UPLOAD_OPERATIONS else [path]
        routes += [Route(each, endpoint(operation), methods=[method.upper()]) for each in paths]

    async def serve_file(request: Request) -> Response:
        return await _serve_file(ctx, request)

    async def not_found(request: Request) -> Response:
        return await _not_found(ctx, request)

    routes.append(Route(FILES_PREFIX + "{file_path:path}", serve_file, methods=["GET"]))
    routes.append(Route("/{rest:path}", not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        scheduler = asyncio.create_task(run_scheduler(ctx.state))
        try:
            yield
        finally:
            scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scheduler

    return Starlette(routes=routes, lifespan=lifespan)


__all__ = ["Context", "build_app"]
