"""The receiver's outcome stores: one claim per outcome, across threads, and the same rules in each."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_tests.support import free_port
from sora2_characters import StoreError
from sora2_characters.webhooks import MemoryStore, OutcomeStore, RedisStore, SQLiteStore, store_from_url

StoreFactory = Callable[[], OutcomeStore]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite", "redis"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    made: list[OutcomeStore] = []
    prefix = f"test:{uuid.uuid4().hex}:"

    def factory() -> OutcomeStore:
        store: OutcomeStore
        if request.param == "memory":
            store = made[0] if made else MemoryStore()  # one process: every "instance" is the same store
        elif request.param == "sqlite":
            store = SQLiteStore(tmp_path / "outcomes.sqlite")
        else:
            store = RedisStore(request.getfixturevalue("redis_url"), prefix=prefix)
        store.check()
        made.append(store)
        return store

    yield factory
    for store in made:
        store.close()


def test_an_outcome_is_claimed_once_and_stays_done(make_store: StoreFactory) -> None:
    first, second = make_store(), make_store()
    assert first.claim("task_1:success")
    assert not second.claim("task_1:success")  # held by a live claim
    first.complete("task_1:success")
    assert not second.claim("task_1:success")  # done
    first.release("task_1:success")  # releasing a completed outcome does not reopen it
    assert not second.claim("task_1:success")
    assert second.claim("task_1:fail")  # another outcome is another key


def test_a_released_claim_can_be_taken_again(make_store: StoreFactory) -> None:
    first, second = make_store(), make_store()
    assert first.claim("task_2:success")
    first.release("task_2:success")
    assert second.claim("task_2:success")


def test_concurrent_claims_from_many_threads_and_instances_win_once_each(make_store: StoreFactory) -> None:
    stores = [make_store() for _ in range(4)]
    keys = [f"task_{index}:success" for index in range(150)]
    work = [(store, key) for key in keys for store in stores for _ in range(2)]
    winners: list[str] = []
    lock = threading.Lock()

    def attempt(item: tuple[OutcomeStore, str]) -> None:
        store, key = item
        if store.claim(key):
            with lock:
                winners.append(key)
            store.complete(key)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(attempt, work))
    assert sorted(winners) == sorted(keys)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_claim_lapses_after_its_lease(kind: str, tmp_path: Path) -> None:
    clock = Clock()
    store: OutcomeStore = (
        MemoryStore(lease=60, clock=clock)
        if kind == "memory"
        else SQLiteStore(tmp_path / "s.sqlite", lease=60, clock=clock)
    )
    try:
        assert store.claim("task_3:success")
        clock.now += 59
        assert not store.claim("task_3:success")
        clock.now += 2  # the first worker died in its handler: a later delivery takes over
        assert store.claim("task_3:success")
        store.complete("task_3:success")
        clock.now += 10_000
        assert not store.claim("task_3:success")
    finally:
        store.close()


def test_sqlite_store_survives_a_restart(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite")
    assert store.claim("task_4:success")
    store.complete("task_4:success")
    store.close()
    reopened = SQLiteStore(tmp_path / "s.sqlite")
    try:
        assert not reopened.claim("task_4:success")
    finally:
        reopened.close()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(st.characters(exclude_categories=()), max_size=60), min_size=1, max_size=5, unique=True)
)
def test_any_task_id_text_is_a_key_lone_surrogates_included(keys: list[str]) -> None:
    store = SQLiteStore(":memory:")
    try:
        assert all(store.claim(key) for key in keys)  # distinct texts never collide
        assert not any(store.claim(key) for key in keys)
    finally:
        store.close()


def test_an_unusable_sqlite_path_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open the SQLite store"):
        SQLiteStore(tmp_path / "missing" / "dir" / "s.sqlite").check()
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="SQLite store"):
        SQLiteStore(corrupt).check()


def test_a_redis_that_is_down_fails_at_check_not_later() -> None:
    store = RedisStore(f"redis://:hunter22@127.0.0.1:{free_port()}/0", socket_timeout=2.0)
    with pytest.raises(StoreError, match=r"Redis at redis://:\*\*\*@127\.0\.0\.1") as caught:
        store.check()
    assert "hunter22" not in str(caught.value)
    store.close()


@pytest.mark.parametrize(
    ("url", "kind"),
    [("memory:", MemoryStore), ("sqlite:x.sqlite", SQLiteStore), ("redis://127.0.0.1:1/0", RedisStore)],
)
def test_store_urls(url: str, kind: type, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = store_from_url(url)
    assert isinstance(store, kind)
    store.close()


@pytest.mark.parametrize("url", ["", "sqlite:", "postgres://db/x", "redis:/nohost", "memory"])
def test_unknown_store_urls_are_refused_by_name(url: str) -> None:
    with pytest.raises(StoreError, match=r"store|sqlite"):
        store_from_url(url)


@pytest.mark.parametrize("lease", [0, -1, float("nan"), True])
def test_a_lease_must_be_positive_seconds(lease: float) -> None:
    with pytest.raises(StoreError, match="lease must be a positive number"):
        MemoryStore(lease=lease)


def test_stores_satisfy_the_protocol(tmp_path: Path) -> None:
    for store in (MemoryStore(), SQLiteStore(tmp_path / "p.sqlite"), RedisStore("redis://127.0.0.1:1/0")):
        assert isinstance(store, OutcomeStore)
        store.close()
