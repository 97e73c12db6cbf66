from enum import StrEnum


class Sora2CharactersBodyModel(StrEnum):
    SORA_2_CHARACTERS = "sora-2-characters"

    def __str__(self) -> str:
        return str(self.value)
