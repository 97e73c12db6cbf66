"""The provider-state change endpoint the verifier calls before and after each interaction.

A small loopback HTTP server (the standard library's): ``POST /_pact/provider-states`` with
``{"state": ..., "params": {...}, "action": "setup" | "teardown"}``. A setup answers the values of
the state (for ``fromProviderState`` injection); a teardown restores the fake's starting point. An
unknown state answers 400 with the vocabulary: the verifier fails that interaction at once, whereas
it would retry a 5xx answer for about two minutes.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from ._states import Baseline, UnknownStateError, apply_state

if TYPE_CHECKING:
    from ..testing import FakeApikley

__all__ = ["STATE_PATH", "StateChangeServer"]

STATE_PATH = "/_pact/provider-states"
_MAX_BODY = 1 << 20


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        """Apply or tear down a provider state."""
        if self.path.split("?", 1)[0] != STATE_PATH:
            self._answer(404, {"error": f"the provider-state endpoint is POST {STATE_PATH}"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self._answer(413, {"error": "state change body too large"})
            return
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except ValueError as exc:
            request = f"not JSON ({exc})"
        if not isinstance(request, dict):
            self._answer(400, {"error": f"the state change body is not a JSON object: {request}"})
            return
        self._answer(*self.server.change(request))

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the verifier reports what matters."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeApikley) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self.baseline = Baseline(fake)
        self.lock = threading.Lock()
        self.errors: list[str] = []

    def change(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        name = request.get("state")
        params = request.get("params") or {}
        action = request.get("action", "setup")
        if not isinstance(name, str) or not isinstance(params, dict):
            return 400, {"error": "a state change needs 'state' (a string) and 'params' (an object)"}
        with self.lock:
            if action == "teardown":
                self.baseline.restore()
                return 200, {}
            if not name:  # the verifier's generic set-up call: nothing to do
                return 200, {}
            try:
                return 200, apply_state(self.fake, name, params)
            except (UnknownStateError, ValueError, KeyError) as exc:
                message = str(exc) if isinstance(exc, ValueError) else f"no such task: {exc}"
                self.errors.append(f"provider state {name!r}: {message}")
                return 400, {"error": message}


class StateChangeServer:
    """Serve the provider-state endpoint for ``fake`` on a free loopback port, in a thread.

    Example::

        with FakeApikley() as fake, StateChangeServer(fake) as states:
            verifier.state_handler(states.url, teardown=True, body=True)
    """

    def __init__(self, fake: FakeApikley) -> None:
        self._server = _Server(fake)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """The URL the verifier POSTs state changes to."""
        return f"http://127.0.0.1:{self._server.server_port}{STATE_PATH}"

    @property
    def errors(self) -> list[str]:
        """The state changes refused so far (unknown states, bad params), one line each."""
        with self._server.lock:
            return list(self._server.errors)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
