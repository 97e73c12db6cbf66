"""What the fake remembers: settings, tasks, uploaded files, recorded requests and callbacks.

A task's state is never advanced by a timer: it is derived from the fake clock. At creation the
task gets its schedule (how long it waits, queues and generates, in fake seconds, and the wall
``time_scale`` that turns them into real seconds); asking for it later reads where the clock is in
that schedule. Timestamps are on the task's fake timeline: ``createTime`` is the wall clock at
creation and each later time adds fake seconds to it, so ``costTime`` equals
``completeTime - createTime`` in seconds whatever the time scale.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

TaskState = Literal["waiting", "queuing", "generating", "success", "fail"]
ErrorStyle = Literal["live", "http"]
RemoteVideos = Literal["accept", "fail"]

PHASES: tuple[TaskState, ...] = ("waiting", "queuing", "generating")
DEFAULT_TASK_DURATIONS: Mapping[TaskState, float] = {"waiting": 1.0, "queuing": 2.0, "generating": 12.0}
MODEL = "sora-2-characters"


def task_durations_from(
    task_durations: Mapping[TaskState, float] | None, task_duration: float | None
) -> dict[TaskState, float]:
    """Merge per-phase durations over the defaults, or spread a total over them proportionally."""
    if task_durations is not None and task_duration is not None:
        raise ValueError("give task_durations (per phase) or task_duration (the total), not both")
    durations: dict[TaskState, float] = dict(DEFAULT_TASK_DURATIONS)
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
class Settings:
    """The fake's behaviour, changeable while it runs (the public class exposes each one)."""

    api_keys: tuple[str, ...]
    accept_any_key: bool
    error_style: ErrorStyle
    time_scale: float
    task_durations: dict[TaskState, float]
    credits_per_task: float
    webhook_secret: str | bytes | None
    validate_media: bool
    remote_videos: RemoteVideos
    callback_timeout: float
    fetch_timeout: float


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received.

    ``headers`` has lower-case names and the API key redacted (``Bearer <redacted>``). ``body`` is
    ``None`` when the fake dropped the connection before reading it. ``operation`` is the API
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
class UploadedFile:
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
    param: str
    created_at: float
    time_scale: float
    durations: dict[TaskState, float]
    callback_url: str | None
    credits: float
    character_id: str
    fail_code: str | None = None
    fail_msg: str | None = None
    model: str = MODEL
    pinned: TaskState | None = None
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

    def state(self, now: float) -> TaskState:
        """Return the state at clock value ``now``."""
        return self._position(now)[0]

    def _position(self, now: float) -> tuple[TaskState, float, float]:
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

    def view(self, now: float) -> dict[str, Any]:
        """Return the ``data`` object recordInfo answers (and callbacks carry) at clock value ``now``.

        Overrides (``fake.override_task``) rewrite fields of the honest view, in the order given.
        """
        data = self._honest_view(now)
        for override in self.overrides:
            data = override.apply(data)
        return data

    def _honest_view(self, now: float) -> dict[str, Any]:
        state, entered, fraction = self._position(now)
        create_ms = round(self.created_at * 1000)
        update_ms = create_ms + round(entered * 1000)
        done = state in ("success", "fail")
        progress = 100 if done else int(fraction * 99) if state == "generating" else 0
        failed = state == "fail"
        return {
            "taskId": self.task_id,
            "model": self.model,
            "state": state,
            "param": self.param,
            "resultJson": json.dumps({"character_id": self.character_id}) if state == "success" else None,
            "failCode": (self.fail_code or "") if failed else "",
            "failMsg": (self.fail_msg or "") if failed else "",
            "costTime": round(self.total_duration, 3) if done else None,
            "completeTime": update_ms if done else None,
            "createTime": create_ms,
            "updateTime": update_ms,
            "progress": progress,
            "creditsConsumed": self.credits if state == "success" else 0,
        }


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
    state: TaskState
    character_id: str | None
    fail_code: str
    fail_msg: str
    body: dict[str, Any]
    param: str


@dataclass(frozen=True)
class PlannedFailure:
    """A failure to give to the next task created (``fake.fail_task()`` without an id)."""

    fail_code: str
    fail_msg: str


class FakeState:
    """Everything mutable, guarded by one lock (the server thread writes, tests read)."""

    def __init__(
        self, settings: Settings, *, credits: float, clock: Callable[[], float] | None = None
    ) -> None:
        self.settings = settings
        self.lock = threading.RLock()
        self._clock = clock or time.time
        self.offset = 0.0
        self.initial_credits = credits
        self.credits = credits
        self.tasks: dict[str, TaskRecord] = {}
        self.files: dict[str, UploadedFile] = {}
        self.requests: list[RecordedRequest] = []
        self.callbacks: list[CallbackAttempt] = []
        self.planned_failures: list[PlannedFailure] = []
        self.planned_overrides: list[TaskOverride] = []
        self.wakeup: Callable[[], None] = lambda: None

    def now(self) -> float:
        """Return the fake clock in wall seconds (the injected clock plus what :meth:`advance` added)."""
        return self._clock() + self.offset

    def reset(self) -> None:
        """Forget tasks, files, requests, callbacks and planned failures; refill the credits."""
        with self.lock:
            self.tasks.clear()
            self.files.clear()
            self.requests.clear()
            self.callbacks.clear()
            self.planned_failures.clear()
            self.planned_overrides.clear()
            self.credits = self.initial_credits
            self.offset = 0.0

    def record(self, request: RecordedRequest) -> None:
        """Append a recorded request."""
        with self.lock:
            self.requests.append(request)

    def new_task_id(self) -> str:
        """Return a live-looking, unique ``task_sora-2-characters_<ms>`` id."""
        stamp = round(self.now() * 1000)
        with self.lock:
            while f"task_{MODEL}_{stamp}" in self.tasks:
                stamp += 1
            return f"task_{MODEL}_{stamp}"

    def seed_task(self, seed: TaskSeed) -> TaskRecord:
        """Hold a task exactly as ``seed`` describes (no schedule to follow, no credits debited).

        A finished seed is dated as if it ran its phases and ended now; a running one stays in its
        state (``pinned``) until :meth:`finish_task`. An existing task with the same id is replaced.
        """
        with self.lock:
            durations = dict(self.settings.task_durations)
            total = sum(durations.values())
            finished = seed.state in ("success", "fail")
            now = self.now()
            task = TaskRecord(
                task_id=seed.task_id or self.new_task_id(),
                body=seed.body,
                param=seed.param,
                created_at=now - (total * self.settings.time_scale if finished else 0.0),
                time_scale=self.settings.time_scale,
                durations=durations,
                callback_url=None,
                credits=0.0,
                character_id=seed.character_id or new_character_id(),
                fail_code=seed.fail_code if seed.state == "fail" else None,
                fail_msg=seed.fail_msg if seed.state == "fail" else None,
                model=seed.model,
                pinned=seed.state,
            )
            self.tasks[task.task_id] = task
        self.wakeup()
        return task

    def finish_task(
        self,
        task_id: str,
        state: TaskState,
        *,
        character_id: str | None,
        fail_code: str,
        fail_msg: str,
    ) -> TaskRecord:
        """End ``task_id``'s task in ``state`` now (``KeyError`` when there is none).

        Its generating phase is stretched or cut so the task ends at the current clock value, so
        ``costTime`` and ``completeTime`` stay consistent with ``createTime``.
        """
        with self.lock:
            task = self.tasks[task_id]
            before = sum(task.durations[phase] for phase in ("waiting", "queuing"))
            elapsed = task.fake_elapsed(self.now())
            task.durations["generating"] = max(0.0, elapsed - before)
            task.pinned = state
            if character_id is not None:
                task.character_id = character_id
            task.fail_code, task.fail_msg = (fail_code, fail_msg) if state == "fail" else (None, None)
        self.wakeup()
        return task

    def remove_task(self, task_id: str) -> None:
        """Forget ``task_id``'s task; nothing happens when there is none."""
        with self.lock:
            self.tasks.pop(task_id, None)

    def set_keys(self, api_keys: tuple[str, ...], accept_any_key: bool) -> None:
        """Replace which bearer keys are accepted (an empty tuple with ``accept_any_key`` off: none)."""
        with self.lock:
            self.settings.api_keys = api_keys
            self.settings.accept_any_key = accept_any_key

    def create_task(self, body: dict[str, Any], failure: PlannedFailure | None) -> TaskRecord | None:
        """Create (and bill) a task for the createTask ``body``; ``failure`` fixes how it ends.

        Returns ``None``, creating nothing, when the balance cannot pay for the task: the check and
        the debit happen under one lock, so concurrent creates never overdraw.
        """
        with self.lock:
            if self.credits < self.settings.credits_per_task:
                return None
            planned = self.planned_failures.pop(0) if self.planned_failures else None
            failure = planned or failure
            task = TaskRecord(
                task_id=self.new_task_id(),
                body=body,
                param=encode_param(body),
                created_at=self.now(),
                time_scale=self.settings.time_scale,
                durations=dict(self.settings.task_durations),
                callback_url=body.get("callBackUrl"),
                credits=self.settings.credits_per_task,
                character_id=new_character_id(),
                fail_code=None if failure is None else failure.fail_code,
                fail_msg=None if failure is None else failure.fail_msg,
                overrides=self.planned_overrides,
            )
            self.planned_overrides = []
            self.tasks[task.task_id] = task
            self.credits = round(self.credits - task.credits, 6)
        self.wakeup()
        return task
