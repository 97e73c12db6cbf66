from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.sora_2_characters_pro_body_model import Sora2CharactersProBodyModel
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.sora_2_characters_pro_body_input import Sora2CharactersProBodyInput


T = TypeVar("T", bound="Sora2CharactersProBody")


@_attrs_define
class Sora2CharactersProBody:
    """
    Attributes:
        model (Sora2CharactersProBodyModel): The model name to use for generation. Required field.

            - Must be `sora-2-characters-pro` for this endpoint Default: Sora2CharactersProBodyModel.SORA_2_CHARACTERS_PRO.
            Example: sora-2-characters-pro.
        call_back_url (str | Unset): The URL to receive generation task completion updates. Optional but recommended for
            production use.

            - System will POST task status and results to this URL when generation completes
            - Callback includes generated content URLs and task information
            - Your callback endpoint should accept POST requests with JSON payload containing results
            - Alternatively, use the Get Task Details endpoint to poll task status Example: https://your-
            domain.com/api/callback.
        input_ (Sora2CharactersProBodyInput | Unset): Input parameters for the generation task
    """

    model: Sora2CharactersProBodyModel = (
        Sora2CharactersProBodyModel.SORA_2_CHARACTERS_PRO
    )
    call_back_url: str | Unset = UNSET
    input_: Sora2CharactersProBodyInput | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model.value

        call_back_url = self.call_back_url

        input_: dict[str, Any] | Unset = UNSET
        if not isinstance(self.input_, Unset):
            input_ = self.input_.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
            }
        )
        if call_back_url is not UNSET:
            field_dict["callBackUrl"] = call_back_url
        if input_ is not UNSET:
            field_dict["input"] = input_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.sora_2_characters_pro_body_input import (
            Sora2CharactersProBodyInput,  # noqa: PLC0415
        )

        d = dict(src_dict)
        model = Sora2CharactersProBodyModel(d.pop("model"))

        call_back_url = d.pop("callBackUrl", UNSET)

        _input_ = d.pop("input", UNSET)
        input_: Sora2CharactersProBodyInput | Unset
        if isinstance(_input_, Unset):
            input_ = UNSET
        else:
            input_ = Sora2CharactersProBodyInput.from_dict(_input_)

        sora_2_characters_pro_body = cls(
            model=model,
            call_back_url=call_back_url,
            input_=input_,
        )

        sora_2_characters_pro_body.additional_properties = d
        return sora_2_characters_pro_body

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
