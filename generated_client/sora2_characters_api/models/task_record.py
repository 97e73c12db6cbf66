from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="TaskRecord")


@_attrs_define
class TaskRecord:
    """
    Attributes:
        task_id (None | str | Unset):
        model (None | str | Unset):
        state (None | str | Unset):
        param (None | str | Unset): The original createTask body, JSON-encoded
        result_json (Any | Unset): The result, usually JSON-encoded (`{"character_id": ...}`); may be "", null or an
            object
        fail_code (Any | Unset): Failure code, usually a string such as "422"; may be an int, "" or null
        fail_msg (None | str | Unset):
        cost_time (float | None | Unset): Processing time (unit undocumented)
        complete_time (int | None | Unset): Unix time in milliseconds
        create_time (int | None | Unset): Unix time in milliseconds
        update_time (int | None | Unset): Unix time in milliseconds
        progress (int | None | Unset):
        credits_consumed (float | None | Unset):
    """

    task_id: None | str | Unset = UNSET
    model: None | str | Unset = UNSET
    state: None | str | Unset = UNSET
    param: None | str | Unset = UNSET
    result_json: Any | Unset = UNSET
    fail_code: Any | Unset = UNSET
    fail_msg: None | str | Unset = UNSET
    cost_time: float | None | Unset = UNSET
    complete_time: int | None | Unset = UNSET
    create_time: int | None | Unset = UNSET
    update_time: int | None | Unset = UNSET
    progress: int | None | Unset = UNSET
    credits_consumed: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        task_id: None | str | Unset
        if isinstance(self.task_id, Unset):
            task_id = UNSET
        else:
            task_id = self.task_id

        model: None | str | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        else:
            model = self.model

        state: None | str | Unset
        if isinstance(self.state, Unset):
            state = UNSET
        else:
            state = self.state

        param: None | str | Unset
        if isinstance(self.param, Unset):
            param = UNSET
        else:
            param = self.param

        result_json = self.result_json

        fail_code = self.fail_code

        fail_msg: None | str | Unset
        if isinstance(self.fail_msg, Unset):
            fail_msg = UNSET
        else:
            fail_msg = self.fail_msg

        cost_time: float | None | Unset
        if isinstance(self.cost_time, Unset):
            cost_time = UNSET
        else:
            cost_time = self.cost_time

        complete_time: int | None | Unset
        if isinstance(self.complete_time, Unset):
            complete_time = UNSET
        else:
            complete_time = self.complete_time

        create_time: int | None | Unset
        if isinstance(self.create_time, Unset):
            create_time = UNSET
        else:
            create_time = self.create_time

        update_time: int | None | Unset
        if isinstance(self.update_time, Unset):
            update_time = UNSET
        else:
            update_time = self.update_time

        progress: int | None | Unset
        if isinstance(self.progress, Unset):
            progress = UNSET
        else:
            progress = self.progress

        credits_consumed: float | None | Unset
        if isinstance(self.credits_consumed, Unset):
            credits_consumed = UNSET
        else:
            credits_consumed = self.credits_consumed

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if task_id is not UNSET:
            field_dict["taskId"] = task_id
        if model is not UNSET:
            field_dict["model"] = model
        if state is not UNSET:
            field_dict["state"] = state
        if param is not UNSET:
            field_dict["param"] = param
        if result_json is not UNSET:
            field_dict["resultJson"] = result_json
        if fail_code is not UNSET:
            field_dict["failCode"] = fail_code
        if fail_msg is not UNSET:
            field_dict["failMsg"] = fail_msg
        if cost_time is not UNSET:
            field_dict["costTime"] = cost_time
        if complete_time is not UNSET:
            field_dict["completeTime"] = complete_time
        if create_time is not UNSET:
            field_dict["createTime"] = create_time
        if update_time is not UNSET:
            field_dict["updateTime"] = update_time
        if progress is not UNSET:
            field_dict["progress"] = progress
        if credits_consumed is not UNSET:
            field_dict["creditsConsumed"] = credits_consumed

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_task_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        task_id = _parse_task_id(d.pop("taskId", UNSET))

        def _parse_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        model = _parse_model(d.pop("model", UNSET))

        def _parse_state(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        state = _parse_state(d.pop("state", UNSET))

        def _parse_param(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        param = _parse_param(d.pop("param", UNSET))

        result_json = d.pop("resultJson", UNSET)

        fail_code = d.pop("failCode", UNSET)

        def _parse_fail_msg(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        fail_msg = _parse_fail_msg(d.pop("failMsg", UNSET))

        def _parse_cost_time(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        cost_time = _parse_cost_time(d.pop("costTime", UNSET))

        def _parse_complete_time(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        complete_time = _parse_complete_time(d.pop("completeTime", UNSET))

        def _parse_create_time(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        create_time = _parse_create_time(d.pop("createTime", UNSET))

        def _parse_update_time(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        update_time = _parse_update_time(d.pop("updateTime", UNSET))

        def _parse_progress(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        progress = _parse_progress(d.pop("progress", UNSET))

        def _parse_credits_consumed(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        credits_consumed = _parse_credits_consumed(d.pop("creditsConsumed", UNSET))

        task_record = cls(
            task_id=task_id,
            model=model,
            state=state,
            param=param,
            result_json=result_json,
            fail_code=fail_code,
            fail_msg=fail_msg,
            cost_time=cost_time,
            complete_time=complete_time,
            create_time=create_time,
            update_time=update_time,
            progress=progress,
            credits_consumed=credits_consumed,
        )

        task_record.additional_properties = d
        return task_record

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
