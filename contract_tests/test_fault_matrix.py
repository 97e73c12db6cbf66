"""The fault matrix: every documented fault, sync and async, over real sockets against the fake.

Each case injects one fault on the module's :class:`FakeApikley` (reset before each case), makes
one call with a client whose time is virtual (backoff and ``Retry-After`` never really wait) and
checks that the call either completes or raises the documented exception, within a hard wall
deadline, and that no logical create call left more than one task at the fake. Every case also
runs with a canary API key and searches everything printed or logged (the library, httpx, the
fake's uvicorn), exceptions with their tracebacks and locals, and the fake's records for it.

The module prints ``fault matrix: N cases, H handled, D duplicate tasks`` when it ends.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import httpx
import pytest

from contract_tests.support import (
    CANARY,
    TALLY,
    VIDEO_URL,
    CallbackReceiver,
    FakeTime,
    LeakWatch,
    create_task_directly,
    wait_for_requests,
)
from sora2_characters import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AsyncClient,
    Client,
    CreatedTask,
    InternalServerError,
    MalformedResponseError,
    ServiceUnavailableError,
    TaskFailedError,
    TaskInfo,
    TaskState,
    WaitTimeoutError,
    webhooks,
)
from sora2_characters.testing import FakeApikley, TaskRecord

Call = Literal["create_character", "get_task", "create_character_and_wait", "wait"]
Inject = Callable[[FakeApikley], object]
Check = Callable[[Any, FakeApikley], None]

#: A case that runs longer than this (wall seconds) has hung: it fails.
CASE_DEADLINE_S = 10.0
#: The client's read timeout in the timeout cases, and the fake's latency there.
SHORT_TIMEOUT_S = 0.2
#: The timeout cases' client timeout: only reading is short. Connecting, writing and waiting for a
#: pooled connection keep 5 s, so a loaded machine that accepts a connection late does not turn a
#: read-timeout case into a connect timeout the fake never records.
SHORT_READ_TIMEOUT = httpx.Timeout(5.0, read=SHORT_TIMEOUT_S)
LATENCY_S = 0.5
MAX_WAIT_S = 60.0
POLL_S = 0.01


#: Every fake of this module accepts only the canary key, and its tasks end at once.
FAKE_OPTIONS: dict[str, Any] = {"api_key": CANARY, "time_scale": 0.0}


@pytest.fixture
def fake_apikley_options() -> dict[str, Any]:
    """The fresh fakes of the cases that need their own settings (the callback cases' secret)."""
    return dict(FAKE_OPTIONS)


@pytest.fixture(scope="module")
def matrix_fake() -> Iterator[FakeApikley]:
    """One fake for the whole matrix: starting and stopping one per case cost 0.2 s each."""
    with FakeApikley(**FAKE_OPTIONS) as fake:
        yield fake


@pytest.fixture
def fake(matrix_fake: FakeApikley) -> FakeApikley:
    """The matrix's fake, reset: no task, request, fault, upload or callback of an earlier case.

    A case ends only once the fake has recorded every request it expects (``_verify`` waits for
    them), so a request delayed by injected latency never lands in the next case.
    """
    matrix_fake.reset()
    return matrix_fake


@pytest.fixture(scope="module", autouse=True)
def matrix_summary(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print the computed one-line summary when the module ends (shown without ``-s``)."""
    TALLY.reset()
    yield
    line = TALLY.summary()
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:  # pragma: no cover - run with -p no:terminal
        return
    if capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(line)
    else:  # pragma: no cover - run with -p no:capture
        reporter.write_line(line)


# ---- the cases -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One fault and what the call must do about it.

    ``raises`` is the exact exception class (``None``: the call completes); ``code`` and
    ``http_status`` are checked on an :class:`APIError`. ``creates``/``queries`` are the createTask
    and recordInfo requests the call under test must make (retries show here); ``tasks`` the
    number of tasks the fake may hold afterwards.
    """

    name: str
    call: Call
    inject: Inject
    raises: type[BaseException] | None = None
    code: int | None = None
    http_status: int | None = None
    creates: int | None = None
    queries: int | None = None
    tasks: tuple[int, ...] = (1,)
    timeout: float | httpx.Timeout = 5.0
    min_sleep: float | None = None
    check: Check | None = None
    max_wait: float = MAX_WAIT_S

    @property
    def creates_task(self) -> bool:
        return self.call in ("create_character", "create_character_and_wait")


def _rate_limit(operation: str, retry_after: float | None = None, times: int | None = 1) -> Inject:
    return lambda fake: fake.rate_limit_next(operation, retry_after=retry_after, times=times)


def _code(operation: str, code: int, times: int | None = 1, *, style: str = "live") -> Inject:
    def inject(fake: FakeApikley) -> None:
        fake.error_style = style  # type: ignore[assignment]
        fake.fail_next(operation, code=code, times=times)

    return inject


def _drop(operation: str, when: Literal["before_read", "after_read"]) -> Inject:
    return lambda fake: fake.drop_connection_next(operation, when=when)


def _malformed(
    operation: str, kind: Literal["truncated", "html", "empty", "data_null", "not_json"]
) -> Inject:
    return lambda fake: fake.malformed_next(operation, kind=kind)


def _latency(operation: str, times: int | None) -> Inject:
    return lambda fake: fake.set_latency(LATENCY_S, operation=operation, times=times)


def _both(*injects: Inject) -> Inject:
    def inject(fake: FakeApikley) -> None:
        for each in injects:
            each(fake)

    return inject


def _target(fake: FakeApikley) -> str | None:
    """The task a case made before injecting (get_task and wait cases), else the next one created."""
    return fake.tasks[-1].task_id if fake.tasks else None


def _unknown_state(times: int | None) -> Inject:
    def inject(fake: FakeApikley) -> None:
        fields = {"state": "paused", "resultJson": None, "completeTime": None}
        fake.override_task(_target(fake), fields=fields, times=times)

    return inject


BROKEN_RESULT_JSON = '{"character_id": "char_cut'


def _broken_result_json() -> Inject:
    def inject(fake: FakeApikley) -> None:
        fake.override_task(_target(fake), fields={"resultJson": BROKEN_RESULT_JSON}, when_state="success")

    return inject


def _fail_next_task(fake: FakeApikley) -> None:
    fake.fail_task(fail_code="500", fail_msg="Generation failed")


def _check_unknown_state(info: Any, fake: FakeApikley) -> None:
    assert isinstance(info, TaskInfo)
    assert info.state.value == "paused"
    assert not info.state.is_known
    assert not info.is_terminal
    assert info.character_id is None


def _check_broken_result(info: Any, fake: FakeApikley) -> None:
    # Documented (models): undecodable resultJson text is kept as is; character_id stays None.
    assert isinstance(info, TaskInfo)
    assert info.state is TaskState.SUCCESS
    assert info.character_id is None
    assert info.result == BROKEN_RESULT_JSON


def _check_task_failed(exc: Any, fake: FakeApikley) -> None:
    assert isinstance(exc, TaskFailedError)
    assert exc.fail_code == "500"
    assert exc.task.state is TaskState.FAIL


def _check_wait_timeout(exc: Any, fake: FakeApikley) -> None:
    assert isinstance(exc, WaitTimeoutError)
    assert exc.last_state is not None
    assert exc.last_state.value == "paused"


CC: Call = "create_character"
GT: Call = "get_task"
CW: Call = "create_character_and_wait"
WT: Call = "wait"

CASES = [
    # -- createTask: retried only when no task can exist (429, 455, connect failure) ----------------
    Case("create-http429", CC, _rate_limit("createTask"), creates=2),
    Case("create-http429-retry-after", CC, _rate_limit("createTask", 7), creates=2, min_sleep=7.0),
    Case("create-body429", CC, _code("createTask", 429), creates=2),
    Case("create-455", CC, _code("createTask", 455), creates=2),
    Case(
        "create-455-persistent",
        CC,
        _code("createTask", 455, None),
        raises=ServiceUnavailableError,
        code=455,
        creates=3,
        tasks=(0,),
    ),
    Case(
        "create-500",
        CC,
        _code("createTask", 500),
        raises=InternalServerError,
        code=500,
        creates=1,
        tasks=(0,),
    ),
    Case(
        "create-500-http-style",
        CC,
        _code("createTask", 500, style="http"),
        raises=InternalServerError,
        code=500,
        http_status=500,
        creates=1,
        tasks=(0,),
    ),
    Case("create-html502", CC, _malformed("createTask", "html"), raises=APIError, http_status=502, creates=1),
    Case(
        "create-drop-before-read",
        CC,
        _drop("createTask", "before_read"),
        raises=APIConnectionError,
        creates=1,
        tasks=(0,),
    ),
    Case(
        "create-drop-after-read", CC, _drop("createTask", "after_read"), raises=APIConnectionError, creates=1
    ),
    Case(
        "create-read-timeout",
        CC,
        _latency("createTask", 1),
        raises=APITimeoutError,
        creates=1,
        tasks=(0, 1),
        timeout=SHORT_READ_TIMEOUT,
    ),
    Case("create-truncated", CC, _malformed("createTask", "truncated"), raises=APIConnectionError, creates=1),
    Case("create-empty", CC, _malformed("createTask", "empty"), raises=MalformedResponseError, creates=1),
    Case(
        "create-not-json", CC, _malformed("createTask", "not_json"), raises=MalformedResponseError, creates=1
    ),
    Case(
        "create-data-null",
        CC,
        _malformed("createTask", "data_null"),
        raises=MalformedResponseError,
        creates=1,
    ),
    Case(
        "create-unknown-code", CC, _code("createTask", 999), raises=APIError, code=999, creates=1, tasks=(0,)
    ),
    # -- the task query: retried on connection errors, timeouts, 429, 455, 500 and 5xx pages -------
    Case("query-http429", GT, _rate_limit("recordInfo"), queries=2),
    Case("query-http429-retry-after", GT, _rate_limit("recordInfo", 3), queries=2, min_sleep=3.0),
    Case("query-body429", GT, _code("recordInfo", 429), queries=2),
    Case("query-455", GT, _code("recordInfo", 455), queries=2),
    Case("query-500", GT, _code("recordInfo", 500), queries=2),
    Case(
        "query-500-persistent",
        GT,
        _code("recordInfo", 500, None),
        raises=InternalServerError,
        code=500,
        queries=3,
    ),
    Case("query-html502", GT, _malformed("recordInfo", "html"), queries=2),
    Case("query-drop-before-read", GT, _drop("recordInfo", "before_read"), queries=2),
    Case("query-drop-after-read", GT, _drop("recordInfo", "after_read"), queries=2),
    Case("query-read-timeout-once", GT, _latency("recordInfo", 1), queries=2, timeout=SHORT_READ_TIMEOUT),
    Case(
        "query-read-timeout-persistent",
        GT,
        _latency("recordInfo", None),
        raises=APITimeoutError,
        queries=3,
        timeout=SHORT_READ_TIMEOUT,
    ),
    Case("query-truncated", GT, _malformed("recordInfo", "truncated"), queries=2),
    Case("query-empty", GT, _malformed("recordInfo", "empty"), raises=MalformedResponseError, queries=1),
    Case(
        "query-not-json", GT, _malformed("recordInfo", "not_json"), raises=MalformedResponseError, queries=1
    ),
    Case(
        "query-data-null", GT, _malformed("recordInfo", "data_null"), raises=MalformedResponseError, queries=1
    ),
    Case("query-unknown-code", GT, _code("recordInfo", 418), raises=APIError, code=418, queries=1),
    Case("query-unknown-state", GT, _unknown_state(None), queries=1, check=_check_unknown_state),
    # -- the whole job and wait() --------------------------------------------------------------------
    Case("wait-unknown-state-then-success", WT, _unknown_state(2)),
    Case("create-and-wait-unknown-state", CW, _unknown_state(3), creates=1),
    Case(
        "wait-unknown-state-forever",
        WT,
        _unknown_state(None),
        raises=WaitTimeoutError,
        check=_check_wait_timeout,
        max_wait=0.5,
    ),
    Case(
        "create-and-wait-malformed-result-json",
        CW,
        _broken_result_json(),
        creates=1,
        check=_check_broken_result,
    ),
    Case(
        "create-and-wait-455-then-query-drop",
        CW,
        _both(_code("createTask", 455), _drop("recordInfo", "after_read")),
        creates=2,
    ),
    Case(
        "create-and-wait-drop-after-read",
        CW,
        _drop("createTask", "after_read"),
        raises=APIConnectionError,
        creates=1,
        queries=0,
    ),
    Case(
        "create-and-wait-task-failed",
        CW,
        _fail_next_task,
        raises=TaskFailedError,
        creates=1,
        check=_check_task_failed,
    ),
    Case(
        "wait-query-500-persistent",
        WT,
        _code("recordInfo", 500, None),
        raises=InternalServerError,
        code=500,
        queries=3,
    ),
]

CASE_IDS = [case.name for case in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "case names are unique"


# ---- running a case ------------------------------------------------------------------------------


@dataclass
class Run:
    """One case's run: the fake, the virtual time, the leak watch and what the call did."""

    case: Case
    mode: str
    fake: FakeApikley
    time: FakeTime
    watch: LeakWatch
    task_id: str | None = None
    creates_before: int = 0
    queries_before: int = 0
    result: Any = None
    error: BaseException | None = None

    @property
    def name(self) -> str:
        return f"{self.case.name}[{self.mode}]"

    def client_options(self) -> dict[str, Any]:
        return {
            "base_url": self.fake.base_url,
            "upload_base_url": self.fake.upload_base_url,
            "timeout": self.case.timeout,
            "max_retries": 2,
            "poll_interval": POLL_S,
            "clock": self.time.clock,
            "rng": random.Random(7),
        }


def _prepare(case: Case, mode: str, fake: FakeApikley, watch: LeakWatch) -> Run:
    run = Run(case, mode, fake, FakeTime(), watch)
    TALLY.start(run.name)
    if case.call in ("get_task", "wait"):
        run.task_id = create_task_directly(fake)
    case.inject(fake)
    run.creates_before = len(fake.requests_for("createTask"))
    run.queries_before = len(fake.requests_for("recordInfo"))
    return run


def _call_sync(client: Client, run: Run) -> Any:
    call = run.case.call
    if call == "create_character":
        return client.create_character(VIDEO_URL)
    if call == "create_character_and_wait":
        return client.create_character_and_wait(VIDEO_URL, max_wait=run.case.max_wait)
    assert run.task_id is not None
    if call == "get_task":
        return client.get_task(run.task_id)
    return client.wait(run.task_id, max_wait=run.case.max_wait)


async def _call_async(client: AsyncClient, run: Run) -> Any:
    call = run.case.call
    if call == "create_character":
        return await client.create_character(VIDEO_URL)
    if call == "create_character_and_wait":
        return await client.create_character_and_wait(VIDEO_URL, max_wait=run.case.max_wait)
    assert run.task_id is not None
    if call == "get_task":
        return await client.get_task(run.task_id)
    return await client.wait(run.task_id, max_wait=run.case.max_wait)


def _verify(run: Run, capfd: pytest.CaptureFixture[str]) -> None:
    """Check the outcome, the task count and the requests, and search everything for the key."""
    case, fake = run.case, run.fake
    expected_total = None
    if case.creates is not None and case.queries is not None:
        expected_total = run.creates_before + run.queries_before + case.creates + case.queries
    elif case.creates is not None and case.call == "create_character":
        expected_total = run.creates_before + case.creates
    elif case.queries is not None and case.call == "get_task":
        expected_total = run.creates_before + run.queries_before + case.queries
    if expected_total is not None:
        wait_for_requests(fake, expected_total)

    tasks = _check_counts(run)
    _check_outcome(run, tasks)
    _check_no_leak(run, capfd)
    TALLY.done(run.name)


def _check_counts(run: Run) -> list[TaskRecord]:
    case, fake = run.case, run.fake
    tasks = fake.tasks
    TALLY.tasks_seen(run.name, len(tasks))
    assert len(tasks) <= 1, f"{len(tasks)} tasks after one logical create call"
    assert len(tasks) in case.tasks, (len(tasks), case.tasks)
    if case.creates is not None:
        assert len(fake.requests_for("createTask")) - run.creates_before == case.creates
    if case.queries is not None:
        assert len(fake.requests_for("recordInfo")) - run.queries_before == case.queries
    if case.min_sleep is not None:
        assert max(run.time.sleeps, default=0.0) >= case.min_sleep, run.time.sleeps
    return tasks


def _check_outcome(run: Run, tasks: list[TaskRecord]) -> None:
    case, fake = run.case, run.fake
    if case.raises is None:
        assert run.error is None, f"expected success, got {run.error!r}"
        if case.check is not None:
            case.check(run.result, fake)
        elif isinstance(run.result, CreatedTask):
            assert [task.task_id for task in tasks] == [run.result.task_id]
        else:
            assert isinstance(run.result, TaskInfo)
            assert run.result.state is TaskState.SUCCESS
            assert len(tasks) == 1
            assert run.result.character_id == tasks[0].character_id
        if case.creates_task:
            assert len(tasks) == 1
    else:
        assert run.error is not None, f"expected {case.raises.__name__}, got {run.result!r}"
        assert type(run.error) is case.raises, f"expected {case.raises.__name__}, got {run.error!r}"
        if isinstance(run.error, APIError):
            if case.code is not None:
                assert run.error.code == case.code
            if case.http_status is not None:
                assert run.error.http_status == case.http_status
        if case.check is not None:
            case.check(run.error, fake)
        run.watch.add_exception(run.error)


def _check_no_leak(run: Run, capfd: pytest.CaptureFixture[str]) -> None:
    fake = run.fake
    # The key went out (the fake authenticated the calls) but shows nowhere.
    assert all(request.headers.get("authorization") == "Bearer <redacted>" for request in fake.requests), [
        request.headers for request in fake.requests
    ]
    out, err = capfd.readouterr()
    run.watch.add(out, err, run.result, fake.requests, fake.callbacks, fake.faults.pending)
    assert any(record.name == "sora2_characters" for record in run.watch.recorder.records), (
        "the library logged nothing at DEBUG: the leak capture is not live"
    )
    run.watch.assert_no_canary()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_fault_sync(
    case: Case,
    fake: FakeApikley,
    watch: LeakWatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    run = _prepare(case, "sync", fake, watch)
    client = Client(CANARY, sleep=run.time.sleep, **run.client_options())
    watch.add(repr(client))

    def target() -> None:
        try:
            run.result = _call_sync(client, run)
        except Exception as exc:  # noqa: BLE001 - checked by _verify
            run.error = exc

    worker = threading.Thread(target=target, name=f"matrix-{case.name}", daemon=True)
    with client:
        worker.start()
        worker.join(CASE_DEADLINE_S)
        assert not worker.is_alive(), f"{run.name} did not end within {CASE_DEADLINE_S} s"
    _verify(run, capfd)


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
async def test_fault_async(
    case: Case,
    fake: FakeApikley,
    watch: LeakWatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    run = _prepare(case, "async", fake, watch)
    async with AsyncClient(CANARY, sleep=run.time.async_sleep, **run.client_options()) as client:
        watch.add(repr(client))
        try:
            with anyio.fail_after(CASE_DEADLINE_S):
                run.result = await _call_async(client, run)
        except TimeoutError:
            pytest.fail(f"{run.name} did not end within {CASE_DEADLINE_S} s")
        except Exception as exc:  # noqa: BLE001 - checked by _verify
            run.error = exc
    _verify(run, capfd)


# ---- callbacks: duplicate and late deliveries ----------------------------------------------------

WEBHOOK_SECRET = "whsec-matrix"


class IdempotentHandler:
    """What an application's callback endpoint does: verify, parse, and act once per task id."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.characters: dict[str, str | None] = {}
        self.processed: list[str] = []
        self.ignored: list[str] = []

    def remember(self, info: TaskInfo) -> None:
        """Record a result learned by polling (so a late callback finds it done)."""
        with self.lock:
            self.characters.setdefault(info.task_id, info.character_id)

    def __call__(self, headers: dict[str, str], body: bytes) -> int:
        webhooks.verify_signature(body, headers, WEBHOOK_SECRET)
        info = webhooks.parse_callback(body)
        with self.lock:
            if info.task_id in self.characters:
                self.ignored.append(info.task_id)
                return 200
            self.characters[info.task_id] = info.character_id
            self.processed.append(info.task_id)
        return 200


def _redeliver(url: str, headers: dict[str, str], payload: dict[str, Any]) -> httpx.Response:
    """POST a recorded callback again, as a retrying (or replaying) sender would."""
    return httpx.post(url, content=json.dumps(payload).encode(), headers=headers, timeout=5.0)


@pytest.mark.fake_apikley(webhook_secret=WEBHOOK_SECRET)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_duplicate_callback_is_processed_once(fake_apikley: FakeApikley, mode: str, watch: LeakWatch) -> None:
    name = f"callback-duplicate[{mode}]"
    TALLY.start(name)
    handler = IdempotentHandler()
    vt = FakeTime()
    options: dict[str, Any] = {
        "base_url": fake_apikley.base_url,
        "upload_base_url": fake_apikley.upload_base_url,
        "clock": vt.clock,
    }
    with CallbackReceiver(handler) as receiver:
        if mode == "sync":
            with Client(CANARY, sleep=vt.sleep, **options) as client:
                created = client.create_character(VIDEO_URL, callback_url=receiver.url)
        else:

            async def create() -> CreatedTask:
                async with AsyncClient(CANARY, sleep=vt.async_sleep, **options) as client:
                    with anyio.fail_after(CASE_DEADLINE_S):
                        return await client.create_character(VIDEO_URL, callback_url=receiver.url)

            created = anyio.run(create)
        (attempt,) = fake_apikley.wait_for_callbacks(1)
        assert attempt.outcome == "delivered", attempt
        assert attempt.status_code == 200
        again = _redeliver(receiver.url, attempt.headers, attempt.payload)
        assert again.status_code == 200
        assert again.json() == {"code": 200, "msg": "success"}
    TALLY.tasks_seen(name, len(fake_apikley.tasks))
    assert [task.task_id for task in fake_apikley.tasks] == [created.task_id]
    assert len(receiver.deliveries) == 2
    assert handler.processed == [created.task_id]
    assert handler.ignored == [created.task_id]
    assert handler.characters == {created.task_id: fake_apikley.tasks[0].character_id}
    watch.add(fake_apikley.callbacks, [d.headers for d in receiver.deliveries])
    watch.assert_no_canary()
    TALLY.done(name)


@pytest.mark.fake_apikley(webhook_secret=WEBHOOK_SECRET)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_late_callback_after_polling_changes_nothing(
    fake_apikley: FakeApikley, mode: str, watch: LeakWatch
) -> None:
    name = f"callback-late[{mode}]"
    TALLY.start(name)
    handler = IdempotentHandler()
    vt = FakeTime()
    options: dict[str, Any] = {
        "base_url": fake_apikley.base_url,
        "upload_base_url": fake_apikley.upload_base_url,
        "clock": vt.clock,
        "poll_interval": POLL_S,
    }
    # The receiver refuses (503) while the task runs: the result comes by polling.
    refusing = True

    def endpoint(headers: dict[str, str], body: bytes) -> int:
        return 503 if refusing else handler(headers, body)

    with CallbackReceiver(endpoint) as receiver:
        if mode == "sync":
            with Client(CANARY, sleep=vt.sleep, **options) as client:
                info = client.create_character_and_wait(
                    VIDEO_URL, callback_url=receiver.url, max_wait=MAX_WAIT_S
                )
        else:

            async def create_and_wait() -> TaskInfo:
                async with AsyncClient(CANARY, sleep=vt.async_sleep, **options) as client:
                    with anyio.fail_after(CASE_DEADLINE_S):
                        return await client.create_character_and_wait(
                            VIDEO_URL, callback_url=receiver.url, max_wait=MAX_WAIT_S
                        )

            info = anyio.run(create_and_wait)
        handler.remember(info)
        (attempt,) = fake_apikley.wait_for_callbacks(1)
        assert attempt.status_code == 503
        refusing = False
        # Late: the same callback, after wait() has returned; then a forged "fail" one for the
        # same task, whose signature still holds (only taskId and timestamp are signed).
        late = _redeliver(receiver.url, attempt.headers, attempt.payload)
        forged_payload = {
            **attempt.payload,
            "code": 501,
            "data": {**attempt.payload["data"], "state": "fail"},
        }
        forged = _redeliver(receiver.url, attempt.headers, forged_payload)
    assert late.status_code == 200
    assert forged.status_code == 200
    assert webhooks.parse_callback(json.dumps(attempt.payload)).character_id == info.character_id
    TALLY.tasks_seen(name, len(fake_apikley.tasks))
    assert len(fake_apikley.tasks) == 1
    assert handler.processed == []
    assert handler.ignored == [info.task_id, info.task_id]
    assert handler.characters == {info.task_id: info.character_id}
    assert info.character_id == fake_apikley.tasks[0].character_id
    watch.add(fake_apikley.callbacks)
    watch.assert_no_canary()
    TALLY.done(name)
