"""Typed client for the Apikley sora-2-characters API: a 1-4 s video in, a reusable character_id out.

>>> from sora2_characters import Client
>>> with Client() as client:  # doctest: +SKIP
...     video = client.upload_video("character.mp4")
...     task = client.create_character_and_wait(video.download_url)
...     print(task.character_id)

Callbacks are handled by :mod:`sora2_characters.webhooks`.
"""

import typing

from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    FeatureDisabledError,
    GenerationFailedError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidInputError,
    JournalError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
    Sora2CharactersError,
    StoreError,
    TaskFailedError,
    UnprocessableEntityError,
    UsageLimitError,
    WaitTimeoutError,
    WebhookVerificationError,
)
from ._models import CreatedTask, TaskInfo, TaskState, UploadedFile
from ._version import __version__

if typing.TYPE_CHECKING:
    from ._client import AsyncClient, Client

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "CreatedTask",
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
    "TaskInfo",
    "TaskState",
    "UnprocessableEntityError",
    "UploadedFile",
    "UsageLimitError",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "__version__",
]


def __getattr__(name: str) -> typing.Any:
    # Client and AsyncClient load httpx (and through it the generated client) on first use, so
    # ``import sora2_characters`` stays cheap for code that only needs models or webhooks.
    if name in {"Client", "AsyncClient"}:
        from . import _client  # noqa: PLC0415

        return getattr(_client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
