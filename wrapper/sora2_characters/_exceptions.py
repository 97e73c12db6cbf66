"""Every exception the library raises, in one place.

The tree::

    Sora2CharactersError
    ├── APIError                       the service answered, not with success (.code, .message, .http_status)
    │   ├── BadRequestError            400  a parameter is missing or malformed
    │   ├── AuthenticationError        401  the API key is missing or invalid
    │   ├── InsufficientCreditsError   402  the account cannot pay
    │   ├── NotFoundError              404  (and 422 "recordInfo is null" from the task query)
    │   ├── UnprocessableEntityError   422  the parameters failed validation
    │   ├── RateLimitError             429  too many requests
    │   ├── UsageLimitError            433  the per-key usage cap is exceeded
    │   ├── ServiceUnavailableError    455  maintenance, retry later
    │   ├── InternalServerError        500  an unexpected server error
    │   ├── GenerationFailedError      501  the generation failed
    │   ├── FeatureDisabledError       505  the feature is disabled
    │   └── MalformedResponseError     the body is not JSON or not the documented envelope
    ├── APIConnectionError             no usable answer: connection refused, reset, protocol error
    │   └── APITimeoutError            connect, write, read or pool timeout
    ├── InvalidInputError (ValueError) local validation refused an argument, before any request
    ├── TaskFailedError                the task ran and ended in state ``fail`` (.task_id, .transient, .task)
    ├── WaitTimeoutError               ``max_wait`` passed before the task ended (.task_id, .last_state)
    ├── WebhookVerificationError       a callback's signature is missing, wrong or stale
    ├── StoreError                     a callback receiver's outcome store is unusable (Redis down, bad file)
    └── JournalError                   a batch journal is locked, read-only, corrupt or of another manifest

Every exception carries ``task_id`` (the task it concerns, once one is known, else ``None``) and
``task_may_exist`` (``True`` when a createTask may have created, and billed, a task whose id never
arrived); both are named in the message with what to do next. Every exception pickles with its
attributes, so worker pools (``multiprocessing``, ``ProcessPoolExecutor``, Celery) report it.

Any other body code raises :class:`APIError` itself with that code. A task that ran and failed is not
an HTTP error, so :class:`TaskFailedError` and :class:`WaitTimeoutError` stand apart from
:class:`APIError`. Foreign exceptions (httpx's, ``json``'s) are translated in one place and chained
with ``raise ... from exc``. No exception carries the request headers, so the API key never shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ._models import TaskInfo, TaskState

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "FeatureDisabledError",
    "GenerationFailedError",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidInputError",
    "JournalError",
    "MalformedResponseError",
    "NotFoundError",
    "RateLimitError",
    "ServiceUnavailableError",
    "Sora2CharactersError",
    "StoreError",
    "TaskFailedError",
    "UnprocessableEntityError",
    "UsageLimitError",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "error_class_for_code",
    "is_transient_failure",
]


class Sora2CharactersError(Exception):
    """The root of every exception this library raises.

    Attributes:
        task_id: the task the error concerns, when one is known (a poll, a wait, a failed task).
        task_may_exist: ``True`` when a createTask whose outcome is unknown may have created (and
            billed) a task; look for it before creating another.

    """

    task_id: str | None = None
    task_may_exist: bool = False
    #: What to do next, added to the message (how to resume, how to look for a task).
    hint: str | None = None

    def __str__(self) -> str:
        text = self._describe()
        return f"{text}. {self.hint}" if self.hint else text

    def _describe(self) -> str:
        return super().__str__()

    def __reduce__(self) -> tuple[object, ...]:
        # The default (``cls(*args)``) breaks on keyword-only constructors and loses attributes.
        return (_restore, (type(self), self.args, dict(vars(self))))

    def about_task(self, task_id: str) -> None:
        """Attach the task this error concerns, and say how to resume waiting for it."""
        self.task_id = task_id
        self.hint = (
            f"The task {task_id} may still finish: resume with client.wait({task_id!r}) "
            f"or `sora2-characters wait {task_id}`"
        )

    def task_unknown(self) -> None:
        """Mark a createTask whose outcome is unknown: a task may exist, and may be billed."""
        self.task_may_exist = True
        self.hint = (
            "A task may have been created (and billed) although its id never arrived: "
            "check the task list of your Apikley account before creating it again"
        )


def _restore(cls: type[Sora2CharactersError], args: tuple[object, ...], state: dict[str, object]) -> object:
    """Rebuild a pickled exception without calling its constructor."""
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    vars(error).update(state)
    return error


class APIError(Sora2CharactersError):
    """The service answered, but not with success.

    Attributes:
        code: the envelope's ``code`` (an int), or ``None`` when the body had none (an HTML error page).
        message: the envelope's ``msg`` (or ``message``), else a description of what arrived.
        http_status: the HTTP status of the response.
        retry_after: the ``Retry-After`` header in seconds (capped), when the response had one.

    """

    #: The body code this class stands for (``None`` on the generic classes).
    default_code: ClassVar[int | None] = None

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self.http_status = http_status
        self.retry_after = retry_after
        super().__init__(message)

    def _describe(self) -> str:
        parts = []
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        where = f" ({', '.join(parts)})" if parts else ""
        return f"{self.message}{where}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, code={self.code!r}, "
            f"http_status={self.http_status!r})"
        )


class BadRequestError(APIError):
    """Code 400: a parameter is missing or malformed."""

    default_code = 400


class AuthenticationError(APIError):
    """Code 401: the API key is missing or invalid."""

    default_code = 401


class InsufficientCreditsError(APIError):
    """Code 402: the account does not have enough credits."""

    default_code = 402


class NotFoundError(APIError):
    """Code 404, or 422 ``recordInfo is null`` from the task query: no such task or endpoint."""

    default_code = 404


class UnprocessableEntityError(APIError):
    """Code 422: the request parameters failed the service's validation."""

    default_code = 422


class RateLimitError(APIError):
    """Code 429: the request limit has been exceeded (retried automatically where safe)."""

    default_code = 429


class UsageLimitError(APIError):
    """Code 433: the per-key usage cap is exceeded (seen live, undocumented; not retried)."""

    default_code = 433


class ServiceUnavailableError(APIError):
    """Code 455: the service is under maintenance (retried automatically where safe)."""

    default_code = 455


class InternalServerError(APIError):
    """Code 500: an unexpected server error (queries retry it a bounded number of times)."""

    default_code = 500


class GenerationFailedError(APIError):
    """Code 501: the generation failed."""

    default_code = 501


class FeatureDisabledError(APIError):
    """Code 505: the requested feature is disabled (never retried)."""

    default_code = 505


class MalformedResponseError(APIError):
    """The body is not JSON, or not the envelope the operation documents (e.g. ``data: null`` on success)."""


class APIConnectionError(Sora2CharactersError):
    """No usable answer arrived: the connection failed, was reset, or the protocol broke.

    Attributes:
        request_sent: ``False`` only when the request certainly never left (connect failure), so
            a task cannot have been created.

    """

    def __init__(self, message: str, *, request_sent: bool = True) -> None:
        self.message = message
        self.request_sent = request_sent
        super().__init__(message)


class APITimeoutError(APIConnectionError):
    """A connect, write, read or pool timeout expired."""


class InvalidInputError(Sora2CharactersError, ValueError):
    """Local validation refused an argument before any request; the message names the field and limit.

    Attributes:
        field: the name of the argument (or request field) that was refused.

    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class TaskFailedError(Sora2CharactersError):
    """The task ran and ended in state ``fail``; not an HTTP error.

    Attributes:
        task_id: the task's id.
        fail_code: the task's ``failCode`` (a string, or ``None``).
        fail_message: the task's ``failMsg`` (or ``None``).
        transient: ``True`` when the failure is the service's, not the input's (failCode 5xx, or a
            message asking to try again later): the service refunds such tasks, and submitting
            the same input again may succeed. ``False`` when the input was refused.
        task: the final :class:`~sora2_characters.TaskInfo`.

    """

    def __init__(self, task: TaskInfo) -> None:
        self.task = task
        self.task_id = task.task_id
        self.fail_code = task.fail_code
        self.fail_message = task.fail_message
        self.transient = is_transient_failure(task.fail_code, task.fail_message)
        detail = self.fail_message or "no failure message"
        code = f" [failCode {self.fail_code}]" if self.fail_code else ""
        retry = " (a failure on the service's side: submitting again may succeed)" if self.transient else ""
        super().__init__(f"task {self.task_id} failed{code}: {detail}{retry}")
        self.hint = (
            f"See the task with client.get_task({self.task_id!r}) or `sora2-characters status {self.task_id}`"
        )


class WaitTimeoutError(Sora2CharactersError):
    """``max_wait`` passed before the task reached a final state.

    Attributes:
        task_id: the task's id.
        last_state: the last state seen, or ``None`` if no poll succeeded.
        max_wait: the deadline that passed, in seconds.

    """

    def __init__(self, task_id: str, last_state: TaskState | None, max_wait: float) -> None:
        self.task_id = task_id
        self.last_state = last_state
        self.max_wait = max_wait
        state = last_state.value if last_state is not None else "unknown"
        super().__init__(f"task {task_id} did not finish within {max_wait:g} s (last state: {state})")
        self.about_task(task_id)


class WebhookVerificationError(Sora2CharactersError):
    """A callback's ``X-Webhook-Signature`` is missing, wrong, or its timestamp is outside the tolerance."""


class StoreError(Sora2CharactersError):
    """A callback receiver's outcome store cannot be used: Redis is down, the SQLite file is unusable."""


class JournalError(Sora2CharactersError):
    """A batch journal cannot be used: locked, read-only, corrupt, or written for another manifest."""


#: Words of a failure message by which the live service asks to submit again ("internal error,
#: please try again later").
_TRY_AGAIN = ("try again", "retry later", "temporarily")


def is_transient_failure(fail_code: str | None, fail_message: str | None) -> bool:
    """Whether a task's failure is the service's (failCode 5xx, or a "try again later" message).

    The live service refunds such tasks, and the same input may succeed when submitted again; a
    failCode 4xx (the input was refused) is never transient.
    """
    code = (fail_code or "").strip()
    if code.isascii() and code.isdigit() and len(code) == 3:
        return code.startswith("5")
    message = (fail_message or "").lower()
    return any(words in message for words in _TRY_AGAIN)


_CODE_TABLE: dict[int, type[APIError]] = {
    cls.default_code: cls
    for cls in (
        BadRequestError,
        AuthenticationError,
        InsufficientCreditsError,
        NotFoundError,
        UnprocessableEntityError,
        RateLimitError,
        UsageLimitError,
        ServiceUnavailableError,
        InternalServerError,
        GenerationFailedError,
        FeatureDisabledError,
    )
    if cls.default_code is not None
}


def error_class_for_code(code: int | None) -> type[APIError]:
    """Return the :class:`APIError` subclass for a body code (or HTTP status); :class:`APIError` if none."""
    if code is None:
        return APIError
    return _CODE_TABLE.get(code, APIError)
