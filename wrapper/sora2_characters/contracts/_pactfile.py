"""Read a pact file and refuse, with a one-line reason, what neither tool could use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from ._errors import NotAPactError, PactFileError, UnsupportedPactVersionError, WrongProviderError

__all__ = ["PROVIDER_NAME", "SUPPORTED_VERSIONS", "PactFile", "load_pact"]

#: The provider name every pact verified here must carry (``Pact(consumer, "apikley")``).
PROVIDER_NAME = "apikley"
#: Pact specification major versions the verifier replays (pact-python 4's Rust core knows 1 to 4).
SUPPORTED_VERSIONS = ("1", "2", "3", "4")


@attrs.frozen
class PactFile:
    """A pact file that passed :func:`load_pact`'s checks."""

    path: Path
    consumer: str
    provider: str
    version: str
    document: dict[str, Any] = attrs.field(repr=False)

    @property
    def interactions(self) -> list[dict[str, Any]]:
        """The interactions (V3 and V4 alike), as stored."""
        interactions: list[dict[str, Any]] = self.document["interactions"]
        return interactions


def _name_of(document: dict[str, Any], role: str) -> str | None:
    party = document.get(role)
    name = party.get("name") if isinstance(party, dict) else None
    return name if isinstance(name, str) and name else None


def _version_of(document: dict[str, Any]) -> str:
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        return "2.0.0"  # pacts without metadata predate it; the verifier reads them as V2
    for key in ("pactSpecification", "pact-specification"):
        spec = metadata.get(key)
        if isinstance(spec, dict) and "version" in spec:
            return str(spec["version"])
    version = metadata.get("pactSpecificationVersion")
    return str(version) if version is not None else "2.0.0"


def load_pact(path: str | Path, *, provider: str = PROVIDER_NAME) -> PactFile:
    """Read ``path`` and check it is a pact for ``provider`` in a version the verifier knows.

    Raises:
        PactFileError: the file is missing or unreadable.
        NotAPactError: it is not JSON, or not an object with consumer, provider and interactions.
        WrongProviderError: it names another provider.
        UnsupportedPactVersionError: its specification version is not 1.x to 4.x.

    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PactFileError(f"{path}: no such pact file", path=path) from None
    except IsADirectoryError:
        raise PactFileError(f"{path}: is a folder, not a pact file", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise PactFileError(f"{path}: cannot read the pact file ({reason})", path=path) from exc
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise NotAPactError(f"{path}: not a pact (not JSON: {exc})", path=path) from exc
    if not isinstance(document, dict):
        raise NotAPactError(
            f"{path}: not a pact (a JSON {type(document).__name__}, not an object)", path=path
        )
    consumer, provider_name = _name_of(document, "consumer"), _name_of(document, "provider")
    interactions = document.get("interactions")
    missing = [
        name
        for name, value in (("consumer.name", consumer), ("provider.name", provider_name))
        if value is None
    ]
    if not isinstance(interactions, list):
        missing.append("interactions (a list)")
    if missing:
        raise NotAPactError(f"{path}: not a pact (missing {', '.join(missing)})", path=path)
    assert consumer is not None  # noqa: S101 - checked just above
    assert provider_name is not None  # noqa: S101
    if provider_name != provider:
        raise WrongProviderError(
            f"{path}: a pact for provider {provider_name!r}, not {provider!r}",
            path=path,
            provider=provider_name,
        )
    version = _version_of(document)
    if version.split(".", 1)[0] not in SUPPORTED_VERSIONS:
        raise UnsupportedPactVersionError(
            f"{path}: pact specification version {version!r} is not one the verifier knows (1.x to 4.x)",
            path=path,
            version=version,
        )
    return PactFile(path=path, consumer=consumer, provider=provider_name, version=version, document=document)
