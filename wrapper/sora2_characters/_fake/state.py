"""What the fake remembers: settings, tasks, uploaded files, recorded requests and callbacks.

A task's state is never advanced by a timer: it is derived from the fake clock. At creation the
task gets its schedule (how long it waits, queues and generates, in fake seconds, and the wall
``time_scale`` that turns them into real seconds); asking for it later reads where the clock is in
that schedule. Timestamps are on the task's fake timeline: ``createTime`` is the wall clock at
creation and each later time adds fake seconds to it, so ``costTime`` equals
``completeTime - createTime`` in seconds whatever the time scale.
"""

from __future__ import annotations

import heapq
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

LifecycleState = Literal["waiting", "queuing", "generating", "success", "fail"]
ErrorStyle = Literal["live", "http"]
RemoteVideos = Literal["accept", "fail"]

PHASES: tuple[LifecycleState, ...] = ("waiting", "queuing", "generating")
DEFAULT_TASK_DURATIONS: Mapping[LifecycleState, float] = {"waiting": 1.0, "queuing": 2.0, "generating": 12.0}
MODEL = "sora-2-characters"
#: Record fields the live service leaves out unless configured (``FakeApikley(record_fields=...)``).
OPTIONAL_RECORD_FIELDS = frozenset({"progress", "updateTime"})


def task_durations_from(
    task_durations: Mapping[LifecycleState, float] | None, task_duration: float | None
) -> dict[LifecycleState, float]:
    """Merge per-phase durations over the defaults, or spread a total over them proportionally."""
    if task_durations is not None and task_duration is not None:
        raise ValueError("give task_durations (per phase) or task_duration (the total), not both")
    durations: dict[LifecycleState, float] = dict(DEFAULT_TASK_DURATIONS)
    if task_durations is not None:
        unknown = set(task_durations) - set(PHASES)
        if unknown:
            raise ValueError(f"task_durations accepts only {', '.join(PHASES)}; got {sorted(unknown)}")
        durations.update(task_durations)
    if task_duration is not None:
        total = sum(DEFAULT_TASK_DURATIONS.values())
        durations = {
            phase: task_duration * seconds / total for phase, seconds in DEFAULT_TASK_DURATIONS.items()
        }
    for phase, seconds in durations.items():
        if seconds < 0:
            raise ValueError(f"the {phase} duration must be >= 0 fake seconds, got {seconds}")
    return durations


@dataclass
class FakeSettings:
    """The fake's behaviour, changeable while it runs (the public class exposes each one)."""

    api_keys: tuple[str, ...]
    accept_any_key: bool
    error_style: ErrorStyle
    time_scale: float
    task_durations: dict[LifecycleState, float]
    credits_per_task: float
    webhook_secret: str | bytes | None
    validate_media: bool
    remote_videos: RemoteVideos
    callback_timeout: float
    fetch_timeout: float
    record_fields: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received.

    ``headers`` has lower-case names and the API key redacted (``Bearer <redacted>``). ``body`` is
    ``None`` when the fake did not read it: a connection dropped before reading, a bad key (checked
    first), or a body over the size limit (HTTP 413). ``operation`` is the API
    operation (``None`` for file downloads and unknown paths); ``fault`` labels the injected fault
    that answered it, if any; ``status`` is the HTTP status sent (``None`` when nothing was sent).
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes | None
    operation: str | None
    fault: str | None
    status: int | None
    time: float

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it is absent or not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class StoredFile:
    """A file stored by one of the upload endpoints (``content`` is ``None`` for a remote reference)."""

    file_name: str
    file_path: str
    mime_type: str
    uploaded_at: str
    content: bytes | None
    source_url: str | None = None

    @property
    def size(self) -> int:
        """Size in bytes (0 for a remote reference the fake did not fetch)."""
        return 0 if self.content is None else len(self.content)


@dataclass
class CallbackAttempt:
    """One attempt to POST a finished task to its ``callBackUrl``.

    ``outcome`` is ``delivered`` (any HTTP answer; see ``status_code``), ``failed`` (a transport
    error, in ``error``) or ``refused`` (not a loopback URL: the fake never leaves the machine).
    """

    task_id: str
    url: str
    outcome: Literal["delivered", "failed", "refused"]
    status_code: int | None
    error: str | None
    headers: dict[str, str]
    payload: dict[str, Any]
    time: float


@dataclass
class TaskRecord:
    """A task the fake created; read its current view with :meth:`view`."""

    task_id: str
    body: dict[str, Any]
    created_at: float
    time_scale: float
    durations: dict[LifecycleState, float]
    callback_url: str | None
    credits: float
    character_id: str
    fail_code: str | None = None
    fail_msg: str | None = None
    model: str = MODEL
    pinned: LifecycleState | None = None
    raw_param: str | None = None
    settled: bool = field(default=False, repr=False)
    callback_done: bool = field(default=False, repr=False)
    overrides: list[TaskOverride] = field(default_factory=list, repr=False)

    @property
    def total_duration(self) -> float:
        """Fake seconds from creation to the end."""
        return sum(self.durations.values())

    @property
    def ends_at(self) -> float:
        """The clock value (wall seconds) at which the task ends."""
        return self.created_at + self.total_duration * self.time_scale

    def fake_elapsed(self, now: float) -> float:
        """Fake seconds since creation at clock value ``now``."""
        if self.time_scale == 0:
            return self.total_duration
        return max(0.0, (now - self.created_at) / self.time_scale)

    def state(self, now: float) -> LifecycleState:
        """Return the state at clock value ``now``."""
        return self._position(now)[0]

    def _position(self, now: float) -> tuple[LifecycleState, float, float]:
        """(state, fake seconds when it was entered, fraction of generating done)."""
        if self.pinned in PHASES:  # a seeded running task stays put until finish_task
            start = sum(self.durations[phase] for phase in PHASES[: PHASES.index(self.pinned)])
            return self.pinned, start, 0.0
        if self.pinned is not None:
            return self.pinned, self.total_duration, 1.0
        elapsed = self.fake_elapsed(now)
        start = 0.0
        for phase in PHASES:
            end = start + self.durations[phase]
            if elapsed < end:
                fraction = (elapsed - start) / self.durations[phase] if phase == "generating" else 0.0
                return phase, start, fraction
            start = end
        return ("fail" if self.fail_code is not None else "success"), start, 1.0

    def view(
        self, now: float, style: ErrorStyle = "live", record_fields: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """Return the ``data`` object recordInfo answers (and callbacks carry) at clock value ``now``.

        ``style`` picks the wire: ``live`` as the service answers (see :meth:`_live_view`), ``http``
        as the docs describe. Overrides (``fake.override_task``) rewrite fields of the honest
        view, in the order given.
        """
        data = self._live_view(now, record_fields) if style == "live" else self._documented_view(now)
        for override in self.overrides:
            data = override.apply(data)
        return data

    def param(self, style: ErrorStyle = "live") -> str:
        """Return the ``param`` string: the request body as the service stores it.

        Live, ``input`` is itself a JSON string inside the JSON string (as captured); documented,
        the body is encoded once.
        """
        if self.raw_param is not None:
            return self.raw_param
        if style != "live" or not isinstance(self.body.get("input"), dict | list):
            return encode_param(self.body)
        rest = {key: value for key, value in self.body.items() if key != "input"}
        return encode_param({"input": encode_param(self.body["input"]), **rest})

    def credits_consumed(self, state: LifecycleState) -> float:
        """Return what the task has cost: its price once it succeeded, 0 while running or after a failure."""
        return self.credits if state == "success" else 0

    def _live_view(self, now: float, record_fields: frozenset[str]) -> dict[str, Any]:
        # As captured: resultJson "" until success; failCode/failMsg/costTime/completeTime null
        # until they apply; costTime whole seconds; no progress/updateTime unless configured.
        state, entered, fraction = self._position(now)
        create_ms = round(self.created_at * 1000)
        done = state in ("success", "fail")
        failed = state == "fail"
        data: dict[str, Any] = {
            "taskId": self.task_id,
            "model": self.model,
            "state": state,
            "param": self.param("live"),
            "resultJson": json.dumps({"character_id": self.character_id}) if state == "success" else "",
            "failCode": (self.fail_code or "") if failed else None,
            "failMsg": (self.fail_msg or "") if failed else None,
            "costTime": round(self.total_duration) if done else None,
            "completeTime": create_ms + round(entered * 1000) if done else None,
            "createTime": create_ms,
            "creditsConsumed": self.credits_consumed(state),
        }
        if "progress" in record_fields:
            data["progress"] = _progress(state, fraction)
        if "updateTime" in record_fields:
            data["updateTime"] = create_ms + round(entered * 1000)
        return data

    def _documented_view(self, now: float) -> dict[str, Any]:
        state, entered, fraction = self._position(now)
        create_ms = round(self.created_at * 1000)
        update_ms = create_ms + round(entered * 1000)
        done = state in ("success", "fail")
        failed = state == "fail"
        return {
            "taskId": self.task_id,
            "model": self.model,
            "state": state,
            "param": self.param("http"),
            "resultJson": json.dumps({"character_id": self.character_id}) if state == "success" else None,
            "failCode": (self.fail_code or "") if failed else "",
            "failMsg": (self.fail_msg or "") if failed else "",
            "costTime": round(self.total_duration, 3) if done else None,
            "completeTime": update_ms if done else None,
            "createTime": create_ms,
            "updateTime": update_ms,
            "progress": _progress(state, fraction),
            "creditsConsumed": self.credits_consumed(state),
        }


def _progress(state: LifecycleState, fraction: float) -> int:
    if state in ("success", "fail"):
        return 100
    return int(fraction * 99) if state == "generating" else 0


@dataclass
class TaskOverride:
    """Fields a task's view shows instead of the honest ones (an unknown state, a broken result...).

    It applies while the honest state is ``when_state`` (any state when ``None``), to the next
    ``times`` views (every view when ``None``).
    """

    fields: Mapping[str, Any]
    when_state: str | None = None
    times: int | None = None

    def apply(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return ``data`` with the fields replaced, counting one use, when the override applies."""
        if self.times == 0 or (self.when_state is not None and data.get("state") != self.when_state):
            return data
        if self.times is not None:
            self.times -= 1
        return {**data, **self.fields}


def new_character_id() -> str:
    """Return a fresh, unique-looking ``character_id``."""
    return f"char_{secrets.token_hex(8)}"


def encode_param(body: Mapping[str, Any]) -> str:
    """Encode a request body as a task's ``param`` string (compact JSON, as the service stores it)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class TaskSeed:
    """What ``fake.seed_task`` asks for: a task held in ``state``, outside any schedule."""

    task_id: str | None
    model: str
    state: LifecycleState
    character_id: str | None
    fail_code: str
    fail_msg: str
    body: dict[str, Any]
    raw_param: str | None


@dataclass(frozen=True)
class PlannedFailure:
    """A failure to give to the next task created (``fake.fail_task()`` without an id)."""

    fail_code: str
    fail_msg: str


class FakeState:
    """Everything mutable, guarded by one lock that only this class takes.

    The server thread writes and tests read; every read and write goes through a named operation
    here (snapshots, views, create, seed, finish, store, record...), so no other module ever holds
    the lock or touches the collections it guards.
    """

    def __init__(
        self, settings: FakeSettings, *, credits: float, clock: Callable[[], float] | None = None
    ) -> None:
        self._settings = settings
        self._lock = threading.RLock()
        self._clock = clock or time.time
        self._offset = 0.0
        self._initial_credits = credits
        self._credits = credits
        self._tasks: dict[str, TaskRecord] = {}
        self._files: dict[str, StoredFile] = {}
        self._requests: list[RecordedRequest] = []
        self._callbacks: list[CallbackAttempt] = []
        self._planned_failures: list[PlannedFailure] = []
        self._planned_overrides: list[TaskOverride] = []
        # Billed tasks not settled yet, by the clock value from which they may have ended: a settle
        # looks only at those due, not at every task (1,000 tasks in flight made each create O(n)).
        self._billing: list[tuple[float, int, TaskRecord]] = []
        self._billing_order = itertools.count()
        self.wakeup: Callable[[], None] = lambda: None

    # ---- settings and clock ------------------------------------------------------------------

    @property
    def settings(self) -> FakeSettings:
        """The current settings (read-only view; change them with :meth:`configure`)."""
        return self._settings

    def configure(self, **changes: Any) -> None:
        """Change settings fields by name (``error_style=``, ``time_scale=``...), atomically."""
        with self._lock:
            for name, value in changes.items():
                if not hasattr(self._settings, name):
                    raise AttributeError(f"no fake setting named {name!r}")
                setattr(self._settings, name, value)

    def set_keys(self, api_keys: tuple[str, ...], accept_any_key: bool) -> None:
        """Replace which bearer keys are accepted (an empty tuple with ``accept_any_key`` off: none)."""
        self.configure(api_keys=api_keys, accept_any_key=accept_any_key)

    def now(self) -> float:
        """Return the fake clock in wall seconds (the injected clock plus what :meth:`advance` added)."""
        return self._clock() + self._offset

    def advance(self, wall_seconds: float) -> None:
        """Move the fake clock forward by ``wall_seconds``."""
        with self._lock:
            self._offset += wall_seconds
        self.wakeup()

    def reset(self) -> None:
        """Forget tasks, files, requests, callbacks and planned failures; refill the credits."""
        with self._lock:
            self._tasks.clear()
            self._files.clear()
            self._requests.clear()
            self._callbacks.clear()
            self._planned_failures.clear()
            self._planned_overrides.clear()
            self._billing.clear()
            self._credits = self._initial_credits
            self._offset = 0.0

    # ---- credits -----------------------------------------------------------------------------

    @property
    def credits(self) -> float:
        """The remaining balance (failed tasks refunded)."""
        with self._lock:
            self._settle(self.now())
            return self._credits

    def set_credits(self, value: float) -> None:
        """Set the remaining balance (refunds due so far are settled first, so they are not added later)."""
        with self._lock:
            self._settle(self.now())
            self._credits = value

    # ---- snapshots for the tests -------------------------------------------------------------

    def requests(self) -> list[RecordedRequest]:
        """Every recorded request, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def tasks(self) -> list[TaskRecord]:
        """Every task, oldest first (a copy of the list)."""
        with self._lock:
            return list(self._tasks.values())

    def callbacks(self) -> list[CallbackAttempt]:
        """Every callback attempt, oldest first (a copy)."""
        with self._lock:
            return list(self._callbacks)

    def files(self) -> dict[str, StoredFile]:
        """Return the stored files by ``filePath`` (a copy)."""
        with self._lock:
            return dict(self._files)

    # ---- recording ---------------------------------------------------------------------------

    def record(self, request: RecordedRequest) -> None:
        """Append a recorded request."""
        with self._lock:
            self._requests.append(request)

    def record_callback(self, attempt: CallbackAttempt) -> None:
        """Append a callback attempt."""
        with self._lock:
            self._callbacks.append(attempt)

    # ---- files -------------------------------------------------------------------------------

    def file(self, file_path: str) -> StoredFile | None:
        """Return the file stored at ``file_path``, if any."""
        with self._lock:
            return self._files.get(file_path)

    def store_file(self, stored: StoredFile) -> None:
        """Store (or replace) a file at its ``file_path``."""
        with self._lock:
            self._files[stored.file_path] = stored

    # ---- tasks -------------------------------------------------------------------------------

    def view_task(self, task_id: str) -> dict[str, Any] | None:
        """Return ``task_id``'s recordInfo ``data`` now (overrides applied), or ``None`` when unknown."""
        with self._lock:
            task = self._tasks.get(task_id)
            return None if task is None else self._view(task, self.now())

    def _view(self, task: TaskRecord, now: float) -> dict[str, Any]:
        return task.view(now, self._settings.error_style, self._settings.record_fields)

    def due_callbacks(self) -> tuple[list[tuple[TaskRecord, dict[str, Any]]], bool]:
        """(tasks to call back now with their final view, whether some callback is still to come).

        Each due task is marked done here, so it is called back once.
        """
        now = self.now()
        due: list[tuple[TaskRecord, dict[str, Any]]] = []
        waiting = False
        with self._lock:
            for task in self._tasks.values():
                if task.callback_url is None or task.callback_done:
                    continue
                if task.state(now) in ("success", "fail"):
                    task.callback_done = True
                    due.append((task, self._view(task, now)))
                else:
                    waiting = True
        return due, waiting

    def plan_failure(self, failure: PlannedFailure) -> None:
        """Make the next task created end in ``fail`` as ``failure`` says."""
        with self._lock:
            self._planned_failures.append(failure)

    def fail_task(self, task_id: str, failure: PlannedFailure) -> None:
        """Make ``task_id``'s task end in ``fail`` (``KeyError`` when there is none)."""
        with self._lock:
            task = self._tasks[task_id]
            task.fail_code, task.fail_msg = failure.fail_code, failure.fail_msg

    def add_override(self, task_id: str | None, override: TaskOverride) -> None:
        """Add ``override`` to ``task_id``'s task, or (``None``) to the next task created."""
        with self._lock:
            if task_id is None:
                self._planned_overrides.append(override)
            else:
                self._tasks[task_id].overrides.append(override)

    def new_task_id(self) -> str:
        """Return a fresh, unique task id in the style's shape.

        Live ids are 32 hex characters (as captured); documented ones ``task_sora-2-characters_<ms>``.
        """
        with self._lock:
            if self._settings.error_style == "live":
                task_id = secrets.token_hex(16)
                while task_id in self._tasks:  # pragma: no cover - 128 random bits
                    task_id = secrets.token_hex(16)
                return task_id
            stamp = round(self.now() * 1000)
            while f"task_{MODEL}_{stamp}" in self._tasks:
                stamp += 1
            return f"task_{MODEL}_{stamp}"

    def _settle(self, now: float) -> None:
        """Refund each task that has ended in ``fail`` since the last look (once per task).

        A task is billed when it is created; a failure gives the credits back, as the live
        service does. Called, under the lock, before every read or check of the balance; it looks
        only at the billed tasks whose end is due (see :meth:`_bill_at`).
        """
        billing = self._billing
        not_yet: list[TaskRecord] = []
        while billing and billing[0][0] <= now:
            task = heapq.heappop(billing)[2]
            if task.settled or self._tasks.get(task.task_id) is not task:
                continue  # settled already, or forgotten (remove_task, a seed with its id)
            state = task.state(now)
            if state in ("success", "fail"):
                task.settled = True
                if state == "fail":
                    self._credits = round(self._credits + task.credits, 6)
            elif task.pinned is None:  # a hair before its end: look again later
                not_yet.append(task)
            # A task pinned in a running state ends only through finish_task, which bills it again.
        for task in not_yet:
            self._bill_at(task, task.ends_at)

    def _bill_at(self, task: TaskRecord, due: float) -> None:
        """Have :meth:`_settle` look at ``task`` from clock value ``due`` on (a billed task only)."""
        if task.credits:
            heapq.heappush(self._billing, (due, next(self._billing_order), task))

    def seed_task(self, seed: TaskSeed) -> TaskRecord:
        """Hold a task exactly as ``seed`` describes (no schedule to follow, no credits debited).

        A finished seed is dated as if it ran its phases and ended now; a running one stays in its
        state (``pinned``) until :meth:`finish_task`. An existing task with the same id is replaced.
        """
        with self._lock:
            durations = dict(self._settings.task_durations)
            total = sum(durations.values())
            finished = seed.state in ("success", "fail")
            now = self.now()
            task = TaskRecord(
                task_id=seed.task_id or self.new_task_id(),
                body=seed.body,
                raw_param=seed.raw_param,
                created_at=now - (total * self._settings.time_scale if finished else 0.0),
                time_scale=self._settings.time_scale,
                durations=durations,
                callback_url=None,
                credits=0.0,
                character_id=seed.character_id or new_character_id(),
                fail_code=seed.fail_code if seed.state == "fail" else None,
                fail_msg=seed.fail_msg if seed.state == "fail" else None,
                model=seed.model,
                pinned=seed.state,
            )
            self._tasks[task.task_id] = task
        self.wakeup()
        return task

    def finish_task(
        self,
        task_id: str,
        state: LifecycleState,
        *,
        character_id: str | None,
        fail_code: str,
        fail_msg: str,
    ) -> TaskRecord:
        """End ``task_id``'s task in ``state`` now (``KeyError`` when there is none).

        Its generating phase is stretched or cut so the task ends at the current clock value, so
        ``costTime`` and ``completeTime`` stay consistent with ``createTime``.
        """
        with self._lock:
            task = self._tasks[task_id]
            before = sum(task.durations[phase] for phase in ("waiting", "queuing"))
            elapsed = task.fake_elapsed(self.now())
            task.durations["generating"] = max(0.0, elapsed - before)
            task.pinned = state
            if character_id is not None:
                task.character_id = character_id
            task.fail_code, task.fail_msg = (fail_code, fail_msg) if state == "fail" else (None, None)
            if not task.settled:
                self._bill_at(task, float("-inf"))  # pinned: settled at the next look
        self.wakeup()
        return task

    def remove_task(self, task_id: str) -> None:
        """Forget ``task_id``'s task; nothing happens when there is none."""
        with self._lock:
            self._tasks.pop(task_id, None)

    def create_task(self, body: dict[str, Any], failure: PlannedFailure | None) -> TaskRecord | None:
        """Create (and bill) a task for the createTask ``body``; ``failure`` fixes how it ends.

        Returns ``None``, creating nothing, when the balance cannot pay for the task: the check and
        the debit happen under one lock, so concurrent creates never overdraw.
        """
        with self._lock:
            self._settle(self.now())
            if self._credits < self._settings.credits_per_task:
                return None
            planned = self._planned_failures.pop(0) if self._planned_failures else None
            failure = planned or failure
            task = TaskRecord(
                task_id=self.new_task_id(),
                body=body,
                created_at=self.now(),
                time_scale=self._settings.time_scale,
                durations=dict(self._settings.task_durations),
                callback_url=body.get("callBackUrl"),
                credits=self._settings.credits_per_task,
                character_id=new_character_id(),
                fail_code=None if failure is None else failure.fail_code,
                fail_msg=None if failure is None else failure.fail_msg,
                overrides=self._planned_overrides,
                model=str(body.get("model", MODEL)),
            )
            self._planned_overrides = []
            self._tasks[task.task_id] = task
            self._credits = round(self._credits - task.credits, 6)
            # A millisecond early: the state's own arithmetic may call it ended a hair before ends_at.
            self._bill_at(task, task.ends_at - 1e-3)
        if task.callback_url is not None:  # the callback scheduler has nothing to do for the others
            self.wakeup()
        return task
