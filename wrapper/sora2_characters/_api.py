"""The API surface: request builders and the envelope decoder.

This is the only module that imports the generated client (``sora2_characters_api``). The jobs API's
requests are built here as plain dicts exactly as the generated operations' ``_get_kwargs`` and body
models build them (the models cost more per call than the rest of the request building), and
``contract_tests/test_generated_client.py`` compares each builder with its generated operation for
arbitrary arguments: a regeneration that changes a request fails there and is followed in this file
alone. The upload is built with the generated operation itself. Responses are decoded here with a tolerant
decoder working on ``json.loads`` of the body (the generated models are strict and slow on the hot
path).

The generated package is imported on the first upload, not with this module: its ``models``
package loads every model at once, which would more than double the cost of
``from sora2_characters import Client``.
"""

from __future__ import annotations

import json
import math
from typing import IO, Any

from ._exceptions import (
    APIError,
    InsufficientCreditsError,
    MalformedResponseError,
    NotFoundError,
    error_class_for_code,
)
from ._records import Record, setter

__all__ = [
    "RequestSpec",
    "build_create_task",
    "build_create_task_from_task",
    "build_credits",
    "build_task_query",
    "build_upload_stream",
    "decode_credits",
    "decode_envelope",
    "decode_upload_envelope",
    "not_found_from_task_query",
]


class RequestSpec(Record):
    """What to send, relative to a base URL; no credentials."""

    __slots__ = ("files", "json", "method", "params", "path")
    __match_args__ = ("method", "path", "params", "json", "files")

    method: str
    path: str
    params: dict[str, str] | None
    json: Any
    files: Any

    def __init__(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        json: Any = None,
        files: Any = None,
    ) -> None:
        put = setter(self)
        put("method", method)
        put("path", path)
        put("params", params)
        put("json", json)
        put("files", files)


#: The jobs API's paths, as the generated operations' ``_get_kwargs`` give them.
_CREATE_TASK_PATH = "/api/v1/jobs/createTask"
_TASK_QUERY_PATH = "/api/v1/jobs/recordInfo"
_CREDITS_PATH = "/api/v1/chat/credit"


def build_create_task(
    video_url: str,
    character_prompt: str | None,
    safety_instruction: str | None,
    callback_url: str | None,
) -> RequestSpec:
    """Build createTask (already validated arguments) as the generated ``Sora2CharactersBody`` would.

    The body is built as the dict the generated model's ``to_dict`` returns, in its key order, not
    through the model: the model, its input and ``to_dict`` cost more than the rest of the wrapper's
    request building. ``test_generated_client`` compares every builder here with the generated
    operation for arbitrary arguments, so a regeneration that changes a request fails there.
    """
    inputs: dict[str, Any] = {"character_file_url": [video_url]}
    if character_prompt is not None:
        inputs["character_prompt"] = character_prompt
    if safety_instruction is not None:
        inputs["safety_instruction"] = safety_instruction
    return _create_task("sora-2-characters", inputs, callback_url)


def build_create_task_from_task(
    origin_task_id: str,
    *,
    timestamps: str,
    character_prompt: str,
    character_user_name: str | None,
    safety_instruction: str | None,
    callback_url: str | None,
) -> RequestSpec:
    """Build a sora-2-characters-pro createTask (a segment of an earlier task; validated arguments).

    Built as the generated ``Sora2CharactersProBody`` would build it (see :func:`build_create_task`).
    """
    inputs: dict[str, Any] = {
        "origin_task_id": origin_task_id,
        "timestamps": timestamps,
        "character_prompt": character_prompt,
    }
    if character_user_name is not None:
        inputs["character_user_name"] = character_user_name
    if safety_instruction is not None:
        inputs["safety_instruction"] = safety_instruction
    return _create_task("sora-2-characters-pro", inputs, callback_url)


def _create_task(model: str, inputs: dict[str, Any], callback_url: str | None) -> RequestSpec:
    """Build the createTask request of either model, its keys in the generated ``to_dict`` order."""
    body: dict[str, Any] = {"model": model}
    if callback_url is not None:
        body["callBackUrl"] = callback_url
    body["input"] = inputs
    return RequestSpec("POST", _CREATE_TASK_PATH, json=body)


def build_task_query(task_id: str) -> RequestSpec:
    """Build the task query (``GET /api/v1/jobs/recordInfo?taskId=...``), as the generated one."""
    return RequestSpec("GET", _TASK_QUERY_PATH, params={"taskId": task_id})


def build_credits() -> RequestSpec:
    """Build the credit balance query, as the generated one."""
    return RequestSpec("GET", _CREDITS_PATH)


def build_upload_stream(
    stream: IO[bytes], *, upload_path: str, file_name: str, mime_type: str | None
) -> RequestSpec:
    """Build the multipart stream upload; httpx streams ``stream`` and writes the boundary itself."""
    from sora2_characters_api.api.default import upload_file_stream  # noqa: PLC0415 - lazy, see above
    from sora2_characters_api.models import UploadFileStreamBody  # noqa: PLC0415
    from sora2_characters_api.types import File  # noqa: PLC0415

    body = UploadFileStreamBody(
        file=File(payload=stream, file_name=file_name, mime_type=mime_type),  # type: ignore[arg-type]
        upload_path=upload_path,
        file_name=file_name,
    )
    kwargs = upload_file_stream._get_kwargs(body=body)
    # The generated kwargs hard-code "boundary=+++" in Content-Type; let httpx set the real one.
    return RequestSpec(method="POST", path=kwargs["url"], files=kwargs["files"])


_NOT_JSON: Any = object()


def _code_of(value: object) -> int | None:
    if type(value) is int:
        return value
    if isinstance(value, str) and 0 < len(value) <= 6 and value.isascii() and value.isdigit():
        return int(value)
    if type(value) is float and value.is_integer():
        return int(value)
    return None


def _message_of(body: dict[str, Any], fallback: str) -> str:
    message = body.get("msg")
    if message is None or message == "":
        message = body.get("message")
    if message is None or message == "":
        return fallback
    # Whole: the client blanks the key out first, then cuts it to length (ClientCore.redact).
    return message if isinstance(message, str) else str(message)


def decode_envelope(status: int, content: bytes, *, upload: bool = False) -> Any:
    """Return ``data`` of a successful envelope; raise the matching APIError subclass otherwise.

    A call succeeded only when HTTP is 2xx and the body code is 200. The body code picks the class
    whatever the HTTP status; without an envelope the HTTP status picks it (2xx without one is a
    :class:`MalformedResponseError`). ``upload`` also honours the upload envelope's ``success``.
    The body has no ``Retry-After``: the caller attaches the header's value to the error.
    """
    ok_http = 200 <= status < 300
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):
        body = _NOT_JSON
    if type(body) is dict:
        code = _code_of(body.get("code"))
        if code is not None:
            if code == 200:
                if ok_http:
                    if upload and body.get("success") is False:
                        raise MalformedResponseError(
                            _message_of(body, "the upload says success: false with code 200"),
                            code=code,
                            http_status=status,
                        )
                    return body.get("data")
                cls = error_class_for_code(status)
                raise cls(_message_of(body, f"HTTP {status}"), http_status=status)
            message = _message_of(body, f"the service answered code {code}")
            cls = error_class_for_code(code)
            if code == 429 and _speaks_of_insufficient_credits(message):
                cls = InsufficientCreditsError
            raise cls(message, code=code, http_status=status)
    if ok_http:
        what = "not the API envelope"
        if body is _NOT_JSON:
            what = "not JSON" if content.strip() else "empty"
        raise MalformedResponseError(f"the response body is {what}", http_status=status)
    cls = error_class_for_code(status)
    raise cls(f"HTTP {status} without the API's JSON envelope", http_status=status)


def _speaks_of_insufficient_credits(message: str) -> bool:
    """Whether a message says the balance is too low (a sibling family answers that with code 429)."""
    lowered = message.lower()
    return "credit" in lowered and any(word in lowered for word in ("insufficient", "not enough", "top up"))


def decode_upload_envelope(status: int, content: bytes) -> Any:
    """Like :func:`decode_envelope`, for the File Upload API's ``{success, code, msg, data}``."""
    return decode_envelope(status, content, upload=True)


def not_found_from_task_query(error: APIError) -> APIError:
    """Turn the task query's 422 ``recordInfo is null`` into :class:`NotFoundError`."""
    if error.code == 422 and "null" in error.message.lower():
        return NotFoundError(
            error.message, code=error.code, http_status=error.http_status, retry_after=error.retry_after
        )
    return error


def decode_credits(data: object) -> float:
    """Return the balance from the credits query's ``data`` (a number; numeric strings are accepted)."""
    if type(data) in (int, float) or isinstance(data, str):
        try:
            balance = float(data)  # type: ignore[arg-type]
        except (ValueError, OverflowError):
            balance = math.nan
        if math.isfinite(balance):
            return balance
    raise MalformedResponseError(f"expected the balance as a number in 'data', got {type(data).__name__}")
