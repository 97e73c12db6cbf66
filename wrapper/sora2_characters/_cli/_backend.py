"""Which service a command talks to: Apikley, a configured base URL, or the embedded fake.

With no API key (neither ``--api-key`` nor ``APIKLEY_API_KEY``) and no base URL configured, the
command starts the fake Apikley of :mod:`sora2_characters.testing` in a background thread on
loopback, with a time scale that ends a task in about three seconds, and says so plainly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

import attrs

from .._fake.state import DEFAULT_TASK_DURATIONS

if TYPE_CHECKING:
    import httpx

    from .._client import Client

__all__ = [
    "APIKLEY",
    "CUSTOM",
    "EMBEDDED_FAKE",
    "EMBEDDED_POLL_INTERVAL",
    "EMBEDDED_TASK_SECONDS",
    "FAKE_TASK_SECONDS",
    "Backend",
    "Settings",
    "open_client",
]

EMBEDDED_FAKE: Final = "embedded-fake"
APIKLEY: Final = "apikley"
CUSTOM: Final = "custom"
#: Wall seconds a task takes on the embedded fake (waiting, queuing and generating all show).
EMBEDDED_TASK_SECONDS: Final = 3.0
#: Poll interval on the embedded fake, in seconds (it has no rate limit to respect).
EMBEDDED_POLL_INTERVAL: Final = 0.25
#: The fake's own task length in fake seconds (the sum of its default phase durations).
FAKE_TASK_SECONDS: Final = sum(DEFAULT_TASK_DURATIONS.values())

EMBEDDED_NOTICE: Final = (
    "note: no API key set, so this runs against the EMBEDDED FAKE Apikley on {base_url} "
    "(nothing leaves this machine; the character_id is not a real one). "
    "Set APIKLEY_API_KEY (or pass --api-key) to run against Apikley."
)


@attrs.frozen
class Settings:
    """The global options, as given (``None``: not given, and no environment variable either)."""

    api_key: str | None
    base_url: str | None
    upload_base_url: str | None
    timeout: float | None
    max_retries: int

    @property
    def embedded(self) -> bool:
        """Whether no key and no base URL are configured, so the embedded fake is used."""
        return self.api_key is None and self.base_url is None and self.upload_base_url is None


@attrs.frozen
class Backend:
    """An open client and what it talks to.

    Attributes:
        client: the client to use.
        kind: ``embedded-fake``, ``apikley`` or ``custom`` (a configured base URL).
        base_url: the jobs API base URL the client uses.
        poll_interval: the poll interval to use by default (``None``: the documented schedule).

    """

    client: Client
    kind: str
    base_url: str
    poll_interval: float | None

    @property
    def embedded(self) -> bool:
        """Whether this is the embedded fake."""
        return self.kind == EMBEDDED_FAKE


@contextlib.contextmanager
def open_client(settings: Settings) -> Iterator[Backend]:
    """Open a client for ``settings``, starting (and finally stopping) the embedded fake if needed."""
    from .._client import Client  # noqa: PLC0415 - keeps --help fast
    from .._config import DEFAULT_TIMEOUT, DEFAULT_UPLOAD_TIMEOUT  # noqa: PLC0415

    timeout: float | httpx.Timeout = DEFAULT_TIMEOUT if settings.timeout is None else settings.timeout
    upload_timeout: float | httpx.Timeout = (
        DEFAULT_UPLOAD_TIMEOUT if settings.timeout is None else settings.timeout
    )
    options: dict[str, Any] = {
        "timeout": timeout,
        "upload_timeout": upload_timeout,
        "max_retries": settings.max_retries,
    }
    if not settings.embedded:
        with Client(
            settings.api_key, base_url=settings.base_url, upload_base_url=settings.upload_base_url, **options
        ) as client:
            kind = CUSTOM if settings.base_url is not None else APIKLEY
            yield Backend(client=client, kind=kind, base_url=client.base_url, poll_interval=None)
        return
    from ..testing import FakeApikley  # noqa: PLC0415 - needs starlette and uvicorn (the cli extra)

    with (
        FakeApikley(
            time_scale=EMBEDDED_TASK_SECONDS / FAKE_TASK_SECONDS, task_duration=FAKE_TASK_SECONDS
        ) as fake,
        fake.client(**options) as client,
    ):
        yield Backend(
            client=client, kind=EMBEDDED_FAKE, base_url=fake.base_url, poll_interval=EMBEDDED_POLL_INTERVAL
        )
