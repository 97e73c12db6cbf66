"""``sora2_characters._cli._exits``: the exit-code table, most specific class first, and its markdown."""

from __future__ import annotations

from sora2_characters import (
    APIConnectionError,
    APITimeoutError,
    InvalidInputError,
    NotFoundError,
    RateLimitError,
    Sora2CharactersError,
    TaskFailedError,
    TaskInfo,
    TaskState,
    WaitTimeoutError,
)
from sora2_characters._cli._exits import EXIT_CODES, exit_code_for, exit_code_markdown

TASK = "task_sora-2-characters_1"


def test_most_specific_class_wins() -> None:
    assert exit_code_for(APITimeoutError("slow")) == 12
    assert exit_code_for(APIConnectionError("refused")) == 9
    assert exit_code_for(NotFoundError("gone", code=404)) == 5
    assert exit_code_for(RateLimitError("slow down", code=429)) == 6
    assert exit_code_for(InvalidInputError("source", "too long")) == 2
    assert (
        exit_code_for(
            TaskFailedError(TaskInfo(task_id=TASK, model="sora-2-characters", state=TaskState.FAIL))
        )
        == 10
    )
    assert exit_code_for(WaitTimeoutError(TASK, TaskState.QUEUING, 1.0)) == 11
    assert exit_code_for(KeyboardInterrupt()) == 130
    assert exit_code_for(Sora2CharactersError("other")) == 1
    assert exit_code_for(RuntimeError("bug")) == 1


def test_every_class_is_reachable_in_table_order() -> None:
    # No class is shadowed by an earlier, more general one.
    for index, (cls, _code, _meaning) in enumerate(EXIT_CODES):
        assert not any(issubclass(cls, earlier) for earlier, _c, _m in EXIT_CODES[:index])


def test_markdown_table_lists_every_code() -> None:
    table = exit_code_markdown()
    for cls, code, _meaning in EXIT_CODES:
        assert f"| {code} | `{cls.__name__}` |" in table
    assert "| 130 | `KeyboardInterrupt` |" in table
