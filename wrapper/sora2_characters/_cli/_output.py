"""Everything the command line writes goes through here: one JSON object, or human lines.

Every string is passed through :class:`Redactor` before it is written, so the API key never shows,
whatever an error message or a URL happens to contain.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, TextIO

from .._exceptions import APIError, InvalidInputError, TaskFailedError, WaitTimeoutError

__all__ = ["Output", "Redactor", "cli_hint", "error_payload", "jsonable"]

_MASK = "***"
# Shorter strings are not masked: they would mangle ordinary words, and no real key is that short.
_MIN_SECRET = 4


class Redactor:
    """Replaces every registered secret with ``***``."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Register ``secret`` (and its stripped form); ``None`` and very short strings are ignored."""
        if secret is None:
            return
        for form in (secret, secret.strip()):
            if len(form) >= _MIN_SECRET:
                self._secrets.add(form)

    def __call__(self, text: str) -> str:
        """``text`` with every secret masked, the longest first."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, _MASK)
        return text


def jsonable(value: Any) -> Any:
    """Turn datetimes, enums and mappings into plain JSON values."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


def error_payload(error: BaseException, *, task_id: str | None = None) -> dict[str, Any]:
    """Build the ``{"error": {...}}`` object for ``error`` (with ``task_id`` on top when known)."""
    if isinstance(error, KeyboardInterrupt):
        message = "interrupted"
    else:
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        hint = getattr(error, "hint", None)
        if isinstance(hint, str) and hint and message.endswith(f". {hint}"):
            message = message[: -len(hint) - 2]  # the hint is said apart, in CLI terms (cli_hint)
    body: dict[str, Any] = {
        "type": type(error).__name__,
        "code": error.code if isinstance(error, APIError) else None,
        "message": message,
    }
    if isinstance(error, APIError):
        body["http_status"] = error.http_status
    field = getattr(error, "field", None)
    if isinstance(error, InvalidInputError) or isinstance(field, str):
        body["field"] = field
    payload: dict[str, Any] = {"error": body}
    if isinstance(error, TaskFailedError):
        body["fail_code"] = error.fail_code
        body["transient"] = error.transient
        payload["task_id"] = error.task_id
        payload["state"] = "fail"
    elif isinstance(error, WaitTimeoutError):
        payload["task_id"] = error.task_id
        payload["state"] = None if error.last_state is None else error.last_state.value
    if task_id is not None:
        payload.setdefault("task_id", task_id)
    return payload


# "client.wait('t') or `sora2-characters wait t`": the library's hints name both ways; the CLI keeps its own.
_LIBRARY_CALL = re.compile(r"client\.\w+\([^()]*\) or ")


def cli_hint(error: BaseException) -> str | None:
    """Return the library's hint on ``error`` (how to resume, where to look) without its Python calls."""
    hint = getattr(error, "hint", None)
    if not isinstance(hint, str) or not hint:
        return None
    return _LIBRARY_CALL.sub("", hint)


class Output:
    """Writes results and errors in the mode the command was given (``--json`` or human).

    In JSON mode exactly one object reaches stdout (:meth:`result` or :meth:`error`, once);
    notices and progress always go to stderr. In quiet mode (``--quiet``) stdout holds only the
    result's value (a character_id, a task id...) and stderr only errors: no notices, no progress.
    """

    def __init__(
        self,
        redact: Redactor,
        *,
        json_mode: bool,
        quiet: bool = False,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.redact = redact
        self.json_mode = json_mode
        self.quiet = quiet
        self._stdout = stdout
        self._stderr = stderr
        self._emitted = False

    @property
    def stdout(self) -> TextIO:
        """The stream results go to (``sys.stdout`` unless given)."""
        return self._stdout or sys.stdout

    @property
    def stderr(self) -> TextIO:
        """The stream notices, progress and human errors go to (``sys.stderr`` unless given)."""
        return self._stderr or sys.stderr

    def _write(self, stream: TextIO, text: str) -> None:
        stream.write(self.redact(text))
        stream.flush()

    def notice(self, text: str) -> None:
        """Write a line on stderr (both modes, not when quiet): the backend used, how to resume..."""
        if not self.quiet:
            self._write(self.stderr, text + "\n")

    def result(
        self,
        payload: Mapping[str, Any],
        human: Iterable[tuple[str, Any]] | None = None,
        *,
        value: Any = None,
    ) -> None:
        """Write the result: ``payload`` as JSON, ``value`` alone when quiet, else ``human`` lines.

        ``human`` defaults to the payload's items; ``value`` to nothing (quiet prints an empty line).
        """
        if self.json_mode:
            self._emit_json(payload)
            return
        if self.quiet:
            self._write(self.stdout, ("" if value is None else _human_value(value)) + "\n")
            return
        rows = [(key, value) for key, value in (human if human is not None else payload.items())]
        width = max((len(key) for key, _ in rows), default=0) + 1
        lines = [f"{key + ':':<{width}} {_human_value(value)}" for key, value in rows]
        self._write(self.stdout, "".join(line.rstrip() + "\n" for line in lines))

    def error(self, error: BaseException, *, task_id: str | None = None, hint: str | None = None) -> None:
        """Report ``error``: the error object in JSON mode, an ``error:`` line on stderr otherwise."""
        payload = error_payload(error, task_id=task_id)
        if self.json_mode:
            self._emit_json(payload)
        else:
            kind = payload["error"]["type"]
            field = payload["error"].get("field")
            message = payload["error"]["message"]
            where = f"{field}: " if field and not message.startswith(f"{field}:") else ""
            self._write(self.stderr, f"error: {kind}: {where}{message}\n")
        hint = hint or cli_hint(error)
        if hint:  # part of the error report: shown even when quiet
            self._write(self.stderr, hint + "\n")

    def _emit_json(self, payload: Mapping[str, Any]) -> None:
        if self._emitted:  # pragma: no cover - a programming error, never two objects on stdout
            raise RuntimeError("a JSON result was already written")
        self._emitted = True
        # Redacted value by value before encoding: JSON escaping could hide a key from a text search.
        self._write(
            self.stdout,
            json.dumps(self._redact_tree(jsonable(payload)), ensure_ascii=False, sort_keys=True) + "\n",
        )

    def _redact_tree(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(str(key)): self._redact_tree(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._redact_tree(item) for item in value]
        return value


def _human_value(value: Any) -> str:
    value = jsonable(value)
    if value is None:
        return "-"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
