"""The provider-state vocabulary: what a pact may ask of the fake Apikley before an interaction.

Each state maps onto the fake's public controls (:class:`~sora2_characters.testing.FakeApikley`).
Setting a state up returns the values a pact can inject with ``fromProviderState`` generators
(``${taskId}``, ``${characterId}``); tearing it down restores the fake's starting point.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from ..testing import FakeApikley

__all__ = ["PROVIDER_STATES", "Baseline", "UnknownStateError", "apply_state"]

_RUNNING_STATES: Final[dict[str, Literal["waiting", "queuing", "generating"]]] = {
    "waiting": "waiting",
    "queuing": "queuing",
    "generating": "generating",
}

#: Every provider state a pact may name, with what it does and the params it reads.
PROVIDER_STATES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "the account has credits": "The balance is `credits` (param, a number; default 100).",
        "the account has no credits": "The balance is 0: createTask answers code 402.",
        "a task that succeeded": (
            "A task in state success with id `taskId` (param; made up and returned when absent) and"
            " character_id `characterId` (param; made up and returned when absent)."
        ),
        "a task that failed": (
            "A task in state fail with id `taskId` (param or returned), `failCode` and `failMsg`"
            ' (params; the fake\'s defaults "500" and "internal error, please try again later").'
        ),
        "a task that is still running": (
            "A task pinned in `state` (param: waiting, queuing or generating; default generating)"
            " with id `taskId` (param or returned)."
        ),
        "no task with this id": (
            "No task has id `taskId` (param; an unused id is made up and returned when absent):"
            " recordInfo answers code 422 'recordInfo is null'."
        ),
        "the key is invalid": "Every API key is refused: every call answers code 401.",
        "the service is under maintenance": "Every call answers code 455 (service unavailable).",
        "the rate limit is reached": "Every call answers HTTP 429 (body code 429).",
        "the service answers with an error code": (
            "Every call answers body code `code` (param, an integer such as 400, 433, 500, 505) with"
            " message `msg` (param; the fake's usual message when absent)."
        ),
    }
)


class UnknownStateError(ValueError):
    """A pact names a state outside :data:`PROVIDER_STATES`, or gives a param of the wrong type."""


class Baseline:
    """The fake's starting point, restored after each interaction (its credits and keys)."""

    def __init__(self, fake: FakeApikley) -> None:
        self._fake = fake
        self._credits = fake.credits
        self._api_keys = tuple(fake.api_keys)
        self._accept_any_key = fake.accept_any_key

    def restore(self) -> None:
        """Forget tasks and faults, and put the credits and the accepted keys back."""
        fake = self._fake
        fake.reset()
        fake.credits = self._credits
        fake.api_keys = self._api_keys
        fake.accept_any_key = self._accept_any_key


def _text(params: Mapping[str, Any], name: str, default: str | None = None) -> str | None:
    value = params.get(name, default)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise UnknownStateError(f"param {name!r} must be a string, got {type(value).__name__}")


def _number(params: Mapping[str, Any], name: str, default: float) -> float:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UnknownStateError(f"param {name!r} must be a number, got {type(value).__name__}")
    return float(value)


def _character_id(fake: FakeApikley, task_id: str) -> str | None:
    import json  # noqa: PLC0415 - only this state needs it

    result = fake.task(task_id).get("resultJson")
    try:
        decoded = json.loads(result) if isinstance(result, str) else result
    except ValueError:
        return None
    value = decoded.get("character_id") if isinstance(decoded, dict) else None
    return value if isinstance(value, str) else None


def _credits(fake: FakeApikley, params: Mapping[str, Any]) -> dict[str, Any]:
    fake.credits = _number(params, "credits", 100.0)
    return {"credits": fake.credits}


def _no_credits(fake: FakeApikley, params: Mapping[str, Any]) -> dict[str, Any]:
    fake.credits = 0.0
    return {"credits": 0.0}


def _succeeded(fake: FakeApikley, params: Mapping[str, Any]) -> dict[str, Any]:
    task_id = fake.seed_task(
        task_id=_text(params, "taskId"), state="success", character_id=_text(params, "characterId")
    )
    return {"taskId": task_id, "characterId": _character_id(fake, task_id)}


def _failed(fake: FakeApikley, params: Mapping[str, Any]) -> dict[str, Any]:
    task_id = fake.seed_task(
        task_id=_text(params, "taskId"),
        state="fail",
        fail_code=_text(params, "failCode"),
        fail_msg=_text(params, "failMsg"),
    )
    task = fake.task(task_id)
    return {"taskId": task_id, "failCode": task.get("failCode"), "failMsg": task.get("failMsg")}


def _running(fake: FakeApikley, params: Mapping[str, Any]) -> dict[str, Any]:
    state = _text(params, "state", "generating")
    running = _RUNNING_STATES.get(state or "")
    if running is None:
        raise UnknownStateError(f"param 'state' must be one of {', '.join(_RUNNING_STATES)}, got {state!r}")
    task_id = fake.seed_task(task_id=_text(params, "taskId"), state=running)
    return {"taskId": task_id, "state": state}


def _no_task(fake: FakeApikley, params: Mapping[str, Any]) -> dict[str, Any]:
    task_id = _text(params, "taskId") or f"task_missing_{uuid.uuid4().hex}"
    fake.remove_task(task_id)
    return {"taskId": task_id}


def _invalid_key(fake: FakeApikley, params: Mapping[str, Any]) -> dict[str, Any]:
    fake.accept_any_key = False
    fake.api_keys = ()
    return {}


def _maintenance(fake: FakeApikley, params: Mapping[str, Any]) -> dict[str, Any]:
    fake.fail_next("*", code=455, times=None)
    return {}


def _rate_limited(fake: FakeApikley, params: Mapping[str, Any]) -> dict[str, Any]:
    fake.rate_limit_next("*", times=None)
    return {}


def _error_code(fake: FakeApikley, params: Mapping[str, Any]) -> dict[str, Any]:
    code = params.get("code")
    if isinstance(code, bool) or not isinstance(code, int):
        raise UnknownStateError(f"param 'code' must be an integer, got {type(code).__name__}")
    fake.fail_next("*", code=code, msg=_text(params, "msg"), times=None)
    return {"code": code}


_HANDLERS: Final[dict[str, Callable[[FakeApikley, Mapping[str, Any]], dict[str, Any]]]] = {
    "the account has credits": _credits,
    "the account has no credits": _no_credits,
    "a task that succeeded": _succeeded,
    "a task that failed": _failed,
    "a task that is still running": _running,
    "no task with this id": _no_task,
    "the key is invalid": _invalid_key,
    "the service is under maintenance": _maintenance,
    "the rate limit is reached": _rate_limited,
    "the service answers with an error code": _error_code,
}


def apply_state(fake: FakeApikley, name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Put ``fake`` in the state ``name`` with ``params``; return the values a pact can inject.

    Raises:
        UnknownStateError: ``name`` is not in :data:`PROVIDER_STATES`, or a param has the wrong type.

    """
    handler = _HANDLERS.get(name)
    if handler is None:
        known = "; ".join(repr(known) for known in PROVIDER_STATES)
        raise UnknownStateError(f"unknown provider state {name!r}; the known states are: {known}")
    return {key: value for key, value in handler(fake, params).items() if value is not None}
