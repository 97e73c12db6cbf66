"""The public result models and their tolerant decoders (frozen, slotted; see ``_records``).

Decoders take the already-parsed JSON ``data`` of an envelope and never raise anything but
:class:`~sora2_characters.MalformedResponseError`: unknown fields are kept in ``raw``, unknown states
become :class:`TaskState` values, unreadable optional fields become ``None``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from ._exceptions import MalformedResponseError
from ._records import Record, setter

__all__ = ["CreatedTask", "TaskInfo", "TaskState", "UploadedFile"]

_TERMINAL_VALUES = frozenset({"success", "fail"})


class TaskState(StrEnum):
    """A task's state; ``success`` and ``fail`` are final.

    A value the service invents later is kept as a pseudo-member (``TaskState("paused").value ==
    "paused"``, its ``name`` is ``"UNKNOWN"``), is never final, and :attr:`is_known` is ``False``.
    """

    WAITING = "waiting"
    QUEUING = "queuing"
    GENERATING = "generating"
    SUCCESS = "success"
    FAIL = "fail"

    @classmethod
    def _missing_(cls, value: object) -> TaskState | None:
        if not isinstance(value, str):
            return None
        lowered = value.strip().lower()
        known = cls._value2member_map_.get(lowered)
        if known is not None:
            return known  # type: ignore[return-value]
        member = str.__new__(cls, value)
        member._name_ = "UNKNOWN"
        member._value_ = value
        return member

    @property
    def is_terminal(self) -> bool:
        """Whether the task has ended (``success`` or ``fail``); unknown states are not final."""
        return self._value_ in _TERMINAL_VALUES and self._name_ != "UNKNOWN"

    @property
    def is_known(self) -> bool:
        """Whether this is one of the five documented states."""
        return self._name_ != "UNKNOWN"


_STATE_CACHE: dict[object, TaskState] = {member.value: member for member in TaskState}


def _state(value: object) -> TaskState:
    try:
        cached = _STATE_CACHE.get(value)
    except TypeError:  # unhashable (a list or an object)
        cached = None
    if cached is not None:
        return cached
    if value is None:
        return TaskState("")
    if isinstance(value, str):
        return TaskState(value)
    return TaskState(json.dumps(value, default=str) if not isinstance(value, (int, float)) else str(value))


def _opt_str(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _id_str(value: object) -> str | None:
    """Return a task id: a non-empty string, or an int (never a float, a bool or an object)."""
    if isinstance(value, str):
        return value or None
    if type(value) is int:
        return str(value)
    return None


def _opt_float(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _opt_int(value: object) -> int | None:
    number = _opt_float(value)
    return None if number is None else int(number)


def _timestamp(value: object) -> datetime | None:
    """Unix milliseconds (the documented unit; values under 1e11 are taken as seconds) or ISO 8601."""
    if type(value) is int and 1e11 <= value < 1e14:  # the usual case, fast
        return datetime.fromtimestamp(value / 1000.0, tz=UTC)
    if isinstance(value, str) and value and not value.lstrip("-").replace(".", "", 1).isdigit():
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    number = _opt_float(value)
    if number is None:
        return None
    seconds = number / 1000.0 if abs(number) >= 1e11 else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _decode_json_text(value: object) -> Any:
    """Decode a JSON-encoded string field; objects pass through; undecodable text is kept as is."""
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            return value
    return value


def _decode_param(value: object) -> Any:
    """Decode ``param``, and its ``input`` too when the service sent it as a JSON string inside it."""
    param = _decode_json_text(value)
    if isinstance(param, dict) and isinstance(param.get("input"), str):
        inner = _decode_json_text(param["input"])
        if isinstance(inner, (dict, list)):
            param = {**param, "input": inner}
    return param


def _result_urls(result: Any) -> tuple[str, ...]:
    """Return ``resultUrls`` of a decoded ``resultJson`` (the sibling models' result), as strings."""
    if not isinstance(result, Mapping):
        return ()
    urls = result.get("resultUrls")
    if isinstance(urls, str):
        return (urls,) if urls else ()
    if not isinstance(urls, list):
        return ()
    return tuple(url for url in urls if isinstance(url, str) and url)


def _character_id(result: Any) -> str | None:
    if not isinstance(result, Mapping):
        return None
    for key in ("character_id", "character_id_list", "characterId"):
        value = result.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str) and item:
                    return item
    return None


class TaskInfo(Record):
    """One task as the task query (or a callback) describes it.

    Attributes:
        task_id: the task's id.
        model: the model name (``sora-2-characters``), or ``None``.
        state: a :class:`TaskState`; an unknown value is kept and is not final.
        character_id: the result, decoded from ``resultJson`` (``character_id`` or the first of
            ``character_id_list``); ``None`` until the task succeeds.
        result: the whole decoded ``resultJson`` (``None`` when absent or empty).
        result_urls: the ``resultUrls`` of ``resultJson`` (what the sibling models return; empty
            for a character task).
        fail_code: ``failCode`` as a string (``None`` when empty).
        fail_message: ``failMsg`` (``None`` when empty).
        created_at: ``createTime`` as a timezone-aware UTC datetime.
        updated_at: ``updateTime`` likewise.
        completed_at: ``completeTime`` likewise.
        progress: ``progress`` (0-100) when sent.
        credits_consumed: ``creditsConsumed`` (or ``consumeCredits``, as some pages spell it) when sent.
        cost_time: ``costTime`` as sent: seconds on the live service (154 for a 155 s task), though
            the docs say milliseconds.
        param: the decoded ``param`` (the original createTask body; its ``input`` decoded too when
            the service nests it as a JSON string).
        raw: the ``data`` object exactly as received, unknown fields included.

    """

    # The fields decoded from ``resultJson`` and the three times live in underscored slots behind
    # properties: from_data leaves them unset and they are decoded on first access (a status poll
    # that only reads ``state`` skips a JSON parse and three datetimes, 40 % of a decode).
    __slots__ = (
        "__weakref__",
        "_character_id",
        "_completed_at",
        "_created_at",
        "_param",
        "_result",
        "_result_urls",
        "_updated_at",
        "cost_time",
        "credits_consumed",
        "fail_code",
        "fail_message",
        "model",
        "progress",
        "raw",
        "state",
        "task_id",
    )
    __match_args__ = (
        "task_id",
        "model",
        "state",
        "character_id",
        "result",
        "result_urls",
        "fail_code",
        "fail_message",
        "created_at",
        "updated_at",
        "completed_at",
        "progress",
        "credits_consumed",
        "cost_time",
        "raw",
    )
    _not_compared: ClassVar[frozenset[str]] = frozenset({"raw"})
    _not_hashed: ClassVar[frozenset[str]] = frozenset({"result"})
    _not_shown: ClassVar[frozenset[str]] = frozenset({"raw"})

    task_id: str
    model: str | None
    state: TaskState
    fail_code: str | None
    fail_message: str | None
    progress: int | None
    credits_consumed: float | None
    cost_time: float | None
    raw: Mapping[str, Any]
    # Set by __init__, or on first access when made by from_data.
    _result: Any
    _character_id: str | None
    _result_urls: tuple[str, ...]
    _created_at: datetime | None
    _updated_at: datetime | None
    _completed_at: datetime | None
    _param: Any

    def __init__(  # noqa: PLR0917 - positional, as the attrs class was
        self,
        task_id: str,
        model: str | None,
        state: TaskState,
        character_id: str | None = None,
        result: Any = None,
        result_urls: tuple[str, ...] = (),
        fail_code: str | None = None,
        fail_message: str | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        completed_at: datetime | None = None,
        progress: int | None = None,
        credits_consumed: float | None = None,
        cost_time: float | None = None,
        raw: Mapping[str, Any] | None = None,
    ) -> None:
        put = setter(self)
        put("task_id", task_id)
        put("model", model)
        put("state", state)
        put("_character_id", character_id)
        put("_result", result)
        put("_result_urls", result_urls)
        put("fail_code", fail_code)
        put("fail_message", fail_message)
        put("_created_at", created_at)
        put("_updated_at", updated_at)
        put("_completed_at", completed_at)
        put("progress", progress)
        put("credits_consumed", credits_consumed)
        put("cost_time", cost_time)
        put("raw", {} if raw is None else raw)

    def _decode_result(self) -> None:
        result = _decode_json_text(self.raw.get("resultJson"))
        put = setter(self)
        put("_character_id", _character_id(result))
        put("_result_urls", _result_urls(result))
        put("_result", result)

    @property
    def result(self) -> Any:
        """The whole decoded ``resultJson`` (``None`` when absent or empty)."""
        try:
            return self._result
        except AttributeError:
            self._decode_result()
            return self._result

    @property
    def character_id(self) -> str | None:
        """The result's ``character_id`` (or the first of ``character_id_list``); ``None`` until success."""
        try:
            return self._character_id
        except AttributeError:
            self._decode_result()
            return self._character_id

    @property
    def result_urls(self) -> tuple[str, ...]:
        """The ``resultUrls`` of ``resultJson`` (empty for a character task)."""
        try:
            return self._result_urls
        except AttributeError:
            self._decode_result()
            return self._result_urls

    def _time(self, slot: str, key: str) -> datetime | None:
        try:
            value: datetime | None = getattr(self, slot)
        except AttributeError:
            value = _timestamp(self.raw.get(key))
            setter(self)(slot, value)
        return value

    @property
    def created_at(self) -> datetime | None:
        """``createTime`` as a timezone-aware UTC datetime."""
        return self._time("_created_at", "createTime")

    @property
    def updated_at(self) -> datetime | None:
        """``updateTime`` as a timezone-aware UTC datetime."""
        return self._time("_updated_at", "updateTime")

    @property
    def completed_at(self) -> datetime | None:
        """``completeTime`` as a timezone-aware UTC datetime."""
        return self._time("_completed_at", "completeTime")

    @property
    def param(self) -> Any:
        """The original createTask body, decoded from ``param`` on first access (it can be long)."""
        try:
            return self._param
        except AttributeError:
            param = _decode_param(self.raw.get("param"))
            setter(self)("_param", param)
            return param

    @property
    def is_terminal(self) -> bool:
        """Whether the task has ended (success or fail)."""
        return self.state.is_terminal

    @classmethod
    def from_data(cls, data: object, *, task_id: str | None = None) -> TaskInfo:
        """Decode a task record (the ``data`` of a task query or callback).

        ``task_id`` is the id asked for, used when the record omits it. Raises
        :class:`~sora2_characters.MalformedResponseError` when ``data`` is not an object or has no
        ``state`` (a ``null`` or unknown state is kept as an unknown, non-final state).
        """
        if not isinstance(data, dict):
            if isinstance(data, Mapping):
                data = dict(data)
            else:
                raise MalformedResponseError(
                    f"expected the task record object in 'data', got {type(data).__name__}"
                )
        get = data.get
        found = get("taskId")
        if found is None:
            found = get("task_id")
        found_id = _id_str(found) or task_id
        if found_id is None:
            raise MalformedResponseError("the task record has no taskId")
        if "state" not in data:
            raise MalformedResponseError("the task record has no state")
        model = get("model")
        credits = get("creditsConsumed")
        info = cls.__new__(cls)  # the result and the times are decoded from raw on first access
        put = setter(info)
        put("task_id", found_id)
        put("model", model if isinstance(model, str) else None)
        put("state", _state(get("state")))
        put("fail_code", _opt_str(get("failCode")))
        put("fail_message", _opt_str(get("failMsg")))
        put("progress", _opt_int(get("progress")))
        put("credits_consumed", _opt_float(credits if credits is not None else get("consumeCredits")))
        put("cost_time", _opt_float(get("costTime")))
        put("raw", data)
        return info


class CreatedTask(Record):
    """The answer of createTask.

    Attributes:
        task_id: the new task's id; pass it to ``get_task`` or ``wait``.
        raw: the ``data`` object as received.

    """

    __slots__ = ("__weakref__", "raw", "task_id")
    __match_args__ = ("task_id", "raw")
    _not_compared: ClassVar[frozenset[str]] = frozenset({"raw"})
    _not_shown: ClassVar[frozenset[str]] = frozenset({"raw"})

    task_id: str
    raw: Mapping[str, Any]

    def __init__(self, task_id: str, raw: Mapping[str, Any] | None = None) -> None:
        put = setter(self)
        put("task_id", task_id)
        put("raw", {} if raw is None else raw)

    @classmethod
    def from_data(cls, data: object) -> CreatedTask:
        """Decode createTask's ``data``; raises MalformedResponseError without a usable ``taskId``."""
        if isinstance(data, Mapping):
            task_id = _id_str(data.get("taskId", data.get("task_id")))
            if task_id:
                return cls(task_id=task_id, raw=data)
        raise MalformedResponseError("createTask answered success without a taskId")


class UploadedFile(Record):
    """A file stored by the File Upload API (temporary: 3 to 14 days; do not cache the URL long).

    Attributes:
        download_url: the URL to pass to ``create_character``.
        file_name: the stored name.
        file_path: the stored path (upload path and name).
        size: the size in bytes.
        mime_type: the MIME type the service recorded.
        uploaded_at: when it was stored (timezone-aware), or ``None`` if unreadable.
        raw: the ``data`` object as received.

    """

    __slots__ = (
        "__weakref__",
        "download_url",
        "file_name",
        "file_path",
        "mime_type",
        "raw",
        "size",
        "uploaded_at",
    )
    __match_args__ = ("download_url", "file_name", "file_path", "size", "mime_type", "uploaded_at", "raw")
    _not_compared: ClassVar[frozenset[str]] = frozenset({"raw"})
    _not_shown: ClassVar[frozenset[str]] = frozenset({"raw"})

    download_url: str
    file_name: str | None
    file_path: str | None
    size: int | None
    mime_type: str | None
    uploaded_at: datetime | None
    raw: Mapping[str, Any]

    def __init__(  # noqa: PLR0917 - positional, as the attrs class was
        self,
        download_url: str,
        file_name: str | None,
        file_path: str | None,
        size: int | None,
        mime_type: str | None,
        uploaded_at: datetime | None,
        raw: Mapping[str, Any] | None = None,
    ) -> None:
        put = setter(self)
        put("download_url", download_url)
        put("file_name", file_name)
        put("file_path", file_path)
        put("size", size)
        put("mime_type", mime_type)
        put("uploaded_at", uploaded_at)
        put("raw", {} if raw is None else raw)

    @classmethod
    def from_data(cls, data: object) -> UploadedFile:
        """Decode the upload ``data``; raises MalformedResponseError without a ``downloadUrl``."""
        if not isinstance(data, Mapping):
            raise MalformedResponseError("the upload answered success without a 'data' object")
        url = data.get("downloadUrl")
        if not isinstance(url, str) or not url:
            raise MalformedResponseError("the upload answered success without a downloadUrl")
        uploaded = data.get("uploadedAt")
        return cls(
            download_url=url,
            file_name=_opt_str(data.get("fileName")),
            file_path=_opt_str(data.get("filePath")),
            size=_opt_int(data.get("fileSize")),
            mime_type=_opt_str(data.get("mimeType")),
            uploaded_at=_timestamp(uploaded) if isinstance(uploaded, (str, int, float)) else None,
            raw=data,
        )
