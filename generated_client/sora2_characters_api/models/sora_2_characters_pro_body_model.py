from enum import StrEnum


class Sora2CharactersProBodyModel(StrEnum):
    SORA_2_CHARACTERS_PRO = "sora-2-characters-pro"

    def __str__(self) -> str:
        return str(self.value)
