from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Sora2CharactersProBodyInput")


@_attrs_define
class Sora2CharactersProBodyInput:
    """Input parameters for the generation task

    Attributes:
        origin_task_id (str): The taskId of an earlier, completed video generation task whose video holds the character
            Example: 5fdec09dc604e83ec6eb26b40c1b64d8.
        timestamps (str): The segment of the origin video to take the character from: "x,y" in seconds (start,end). The
            segment must be between 1 and 4 seconds long (1 <= y - x <= 4). Example: 3.55,5.55.
        character_prompt (str): The character's persona and appearance (Max length: 5000 characters, as for
            sora-2-characters) Example: A cheerful robot barista with chrome plating and a bow tie.
        character_user_name (str | Unset): The name the character is known by (Max length: 40 characters) Example:
            robo_barista.
        safety_instruction (str | Unset): Safety guidelines and content restrictions for the character (Max length: 5000
            characters, as for sora-2-characters) Example: Keep the character family-friendly.
    """

    origin_task_id: str
    timestamps: str
    character_prompt: str
    character_user_name: str | Unset = UNSET
    safety_instruction: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        origin_task_id = self.origin_task_id

        timestamps = self.timestamps

        character_prompt = self.character_prompt

        character_user_name = self.character_user_name

        safety_instruction = self.safety_instruction

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "origin_task_id": origin_task_id,
                "timestamps": timestamps,
                "character_prompt": character_prompt,
            }
        )
        if character_user_name is not UNSET:
            field_dict["character_user_name"] = character_user_name
        if safety_instruction is not UNSET:
            field_dict["safety_instruction"] = safety_instruction

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        origin_task_id = d.pop("origin_task_id")

        timestamps = d.pop("timestamps")

        character_prompt = d.pop("character_prompt")

        character_user_name = d.pop("character_user_name", UNSET)

        safety_instruction = d.pop("safety_instruction", UNSET)

        sora_2_characters_pro_body_input = cls(
            origin_task_id=origin_task_id,
            timestamps=timestamps,
            character_prompt=character_prompt,
            character_user_name=character_user_name,
            safety_instruction=safety_instruction,
        )

        sora_2_characters_pro_body_input.additional_properties = d
        return sora_2_characters_pro_body_input

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
