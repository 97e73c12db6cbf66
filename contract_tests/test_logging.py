"""``sora2_characters._logging``: ``SORA2_CHARACTERS_LOG`` turns the library's log on, on stderr."""

from __future__ import annotations

import logging
import re

import pytest
import respx

from contract_tests.support import (
    KEY,
    QUERY_URL,
    make_client,
    ok,
    task,
)


def test_logging_enabled_by_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = logging.getLogger("sora2_characters")
    monkeypatch.setenv("SORA2_CHARACTERS_LOG", "debug")
    before = list(logger.handlers)
    level = logger.level
    try:
        with respx.mock:
            respx.get(QUERY_URL).mock(return_value=ok(task("waiting")))
            make_client().get_task("task_1")
            make_client()  # a second client adds no second handler
        added = [handler for handler in logger.handlers if handler not in before]
        assert len(added) == 1
        err = capsys.readouterr().err
        assert re.search(
            r"GET /api/v1/jobs/recordInfo\?taskId=task_1 -> 200 \(attempt 1, \d+\.\d{3} s\)", err
        )
        assert KEY not in err
    finally:
        for handler in logger.handlers[:]:
            if handler not in before:
                logger.removeHandler(handler)
        logger.setLevel(level)
