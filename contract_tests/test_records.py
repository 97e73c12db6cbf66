"""``sora2_characters._records``: the models and records are frozen values without attrs.

What users rely on, checked on the public models (and the configuration, whose repr must hide the
key): assignment and deletion raise ``AttributeError``; ``==`` compares the fields but not ``raw``;
equal values hash alike and can key a dict; the repr names the fields and leaves ``raw`` out; copies
and pickles are equal to the original; positional and keyword construction both work.
"""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sora2_characters import CreatedTask, TaskInfo, TaskState, UploadedFile
from sora2_characters._config import resolve_config

KEY = "sk-records-0123456789abcdef"


def _info(**overrides: Any) -> TaskInfo:
    fields: dict[str, Any] = {
        "task_id": "t1",
        "model": "sora-2-characters",
        "state": TaskState.SUCCESS,
        "character_id": "c1",
        "result": {"character_id": "c1"},
        "created_at": datetime(2026, 12, 4, tzinfo=UTC),
        "raw": {"taskId": "t1", "param": '{"input": "{\\"a\\": 1}"}'},
    }
    fields.update(overrides)
    return TaskInfo(**fields)


def _models() -> list[Any]:
    return [
        _info(),
        CreatedTask("t2", {"taskId": "t2"}),
        UploadedFile("https://files.example/v.mp4", "v.mp4", "u/v.mp4", 3, "video/mp4", None, {"k": 1}),
    ]


@pytest.mark.parametrize("model", _models(), ids=lambda m: type(m).__name__)
def test_models_are_frozen(model: Any) -> None:
    for name in (*type(model).__match_args__, "anything_else"):
        with pytest.raises(AttributeError):
            setattr(model, name, "changed")
    with pytest.raises(AttributeError):
        delattr(model, type(model).__match_args__[0])
    assert model == copy.copy(model)


def test_equality_compares_the_fields_but_not_raw() -> None:
    assert _info() == _info(raw={"another": "record"})
    assert hash(_info()) == hash(_info(raw={"another": "record"}))
    assert _info() != _info(state=TaskState.FAIL)
    assert _info() != _info(result={"character_id": "c2"})
    assert CreatedTask("t") == CreatedTask("t", {"x": 1})
    assert CreatedTask("t") != CreatedTask("u")
    assert _info() != CreatedTask("t1")
    assert _info().__eq__("t1") is NotImplemented


def test_models_key_dicts_and_sets_even_with_an_unhashable_result() -> None:
    seen = {_info(): "first", CreatedTask("t2"): "created"}
    assert seen[_info(raw={})] == "first"
    assert seen[CreatedTask("t2", {"y": 2})] == "created"
    assert len({_info(), _info(raw={"z": 0})}) == 1


def test_repr_names_the_fields_and_leaves_raw_out() -> None:
    text = repr(_info())
    assert text.startswith(
        "TaskInfo(task_id='t1', model='sora-2-characters', state=<TaskState.SUCCESS: 'success'>"
    )
    assert "raw" not in text
    assert "param" not in text
    assert repr(CreatedTask("t2", {"secret": "x"})) == "CreatedTask(task_id='t2')"


def test_configuration_repr_hides_the_key_and_refuses_pickling() -> None:
    config = resolve_config(
        api_key=KEY,
        base_url=None,
        upload_base_url=None,
        timeout=30.0,
        upload_timeout=120.0,
        max_retries=2,
        poll_interval=None,
        max_tasks_per_second=None,
        allow_insecure_http=False,
    )
    assert KEY not in repr(config)
    assert "Secret('**********')" in repr(config)
    with pytest.raises(TypeError):
        pickle.dumps(config)


@given(
    task_id=st.text(min_size=1),
    model=st.none() | st.text(),
    state=st.sampled_from(list(TaskState)) | st.text().map(TaskState),
    progress=st.none() | st.integers(),
    credits=st.none() | st.floats(allow_nan=False),
    raw=st.dictionaries(st.text(), st.text() | st.integers()),
)
def test_pickles_and_copies_are_equal_and_keep_raw(
    *,
    task_id: str,
    model: str | None,
    state: TaskState,
    progress: int | None,
    credits: float | None,
    raw: Any,
) -> None:
    info = TaskInfo(task_id, model, state, progress=progress, credits_consumed=credits, raw=raw)
    for other in (
        pickle.loads(pickle.dumps(info)),  # noqa: S301 - our own object
        copy.deepcopy(info),
    ):
        assert other == info
        assert hash(other) == hash(info)
        assert other.raw == raw
        assert other.state.value == state.value
        assert repr(other) == repr(info)


def test_param_is_decoded_once_and_survives_pickling() -> None:
    info = _info()
    assert info.param == {"input": {"a": 1}}
    assert info.param is info.param
    assert pickle.loads(pickle.dumps(info)).param == info.param  # noqa: S301 - our own object


def _decoded() -> TaskInfo:
    """A task record as a status query brings it: the result and the times decode on first access."""
    return TaskInfo.from_data(
        {
            "taskId": "t1",
            "model": "sora-2-characters",
            "state": "success",
            "resultJson": '{"character_id": "c1", "resultUrls": ["https://cdn.example/a.mp4"]}',
            "createTime": 1764806400000,
            "completeTime": "2026-12-04T00:01:00+00:00",
        }
    )


@pytest.mark.parametrize("first", ["character_id", "result", "result_urls", "created_at", "repr", "pickle"])
def test_a_decoded_record_is_the_same_value_whichever_field_is_read_first(first: str) -> None:
    info = _decoded()
    if first == "repr":
        repr(info)
    elif first == "pickle":
        info = pickle.loads(pickle.dumps(info))  # noqa: S301 - our own bytes
    else:
        getattr(info, first)

    assert info.character_id == "c1"
    assert info.result == {"character_id": "c1", "resultUrls": ["https://cdn.example/a.mp4"]}
    assert info.result_urls == ("https://cdn.example/a.mp4",)
    assert info.created_at == datetime(2025, 12, 4, tzinfo=UTC)
    assert info.completed_at == datetime(2026, 12, 4, 0, 1, tzinfo=UTC)
    assert info.updated_at is None
    assert info == _decoded()
    assert hash(info) == hash(_decoded())
    assert "character_id='c1'" in repr(_decoded())
    with pytest.raises(AttributeError):
        info.character_id = "changed"  # type: ignore[misc]
