"""The fake's programmable fault plan: what the next N calls of an operation answer instead.

Operations are named after the API (``createTask``, ``recordInfo``, ``credits``, ``downloadUrl``,
``fileStreamUpload``, ``fileBase64Upload``, ``fileUrlUpload``); ``upload`` matches the three upload
endpoints and ``*`` matches every operation.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["code", "rate_limit", "drop", "malformed", "latency"]
DropWhen = Literal["before_read", "after_read"]
MalformedKind = Literal["truncated", "html", "empty", "data_null", "not_json"]

OPERATIONS = frozenset(
    {
        "createTask",
        "recordInfo",
        "credits",
        "downloadUrl",
        "fileStreamUpload",
        "fileBase64Upload",
        "fileUrlUpload",
    }
)
UPLOAD_OPERATIONS = frozenset({"fileStreamUpload", "fileBase64Upload", "fileUrlUpload"})
_ALIASES = {"upload": UPLOAD_OPERATIONS, "*": OPERATIONS}


def resolve_operation(name: str) -> frozenset[str]:
    """Return the operations ``name`` stands for, or raise ``ValueError`` naming the valid ones."""
    if name in _ALIASES:
        return _ALIASES[name]
    if name in OPERATIONS:
        return frozenset({name})
    valid = ", ".join(sorted([*OPERATIONS, *_ALIASES]))
    raise ValueError(f"unknown operation {name!r}; use one of: {valid}")


@dataclass
class Fault:
    """One programmed fault.

    ``times`` is how many matching calls it still applies to (``None``: every call until cleared).
    ``delay`` (wall seconds) is waited before the fault (or, for ``latency``, before the normal
    answer). ``code``/``msg`` serve ``kind="code"``; ``http_status`` overrides the HTTP status the
    error style would give. ``retry_after`` is sent verbatim as the ``Retry-After`` header.
    """

    operation: str
    kind: FaultKind
    times: int | None = 1
    code: int | None = None
    msg: str | None = None
    http_status: int | None = None
    retry_after: str | None = None
    when: DropWhen = "before_read"
    malformed: MalformedKind = "truncated"
    delay: float = 0.0
    operations: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.operations = resolve_operation(self.operation)
        if self.times is not None and self.times < 1:
            raise ValueError(f"times must be at least 1 (or None for every call), got {self.times}")
        if self.delay < 0:
            raise ValueError(f"delay must be >= 0 seconds, got {self.delay}")
        if self.kind == "code" and self.code is None:
            raise ValueError("a code fault needs the code to answer")

    def describe(self) -> str:
        """Return a short label recorded on the requests this fault hit."""
        if self.kind == "code":
            return f"code {self.code}"
        if self.kind == "rate_limit":
            return "rate_limit" + ("" if self.retry_after is None else f" retry_after={self.retry_after}")
        if self.kind == "drop":
            return f"drop {self.when}"
        if self.kind == "malformed":
            return f"malformed {self.malformed}"
        return f"latency {self.delay:g}s"


class FaultPlan:
    """The pending faults, consumed in the order they were added (thread-safe).

    ``latency`` faults are independent of the others: a call can be slowed and also fail.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Queue ``fault`` and return it."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self, operation: str | None = None) -> None:
        """Forget every pending fault, or only those added for ``operation``."""
        with self._lock:
            if operation is None:
                self._faults.clear()
            else:
                self._faults = [fault for fault in self._faults if fault.operation != operation]

    @property
    def pending(self) -> list[Fault]:
        """A snapshot of the faults still to apply."""
        with self._lock:
            return list(self._faults)

    def take(self, operation: str) -> tuple[float, Fault | None]:
        """Consume what applies to one call of ``operation``: (latency seconds, the fault or None)."""
        with self._lock:
            latency = 0.0
            chosen: Fault | None = None
            for fault in list(self._faults):
                if operation not in fault.operations:
                    continue
                if fault.kind == "latency":
                    latency += fault.delay
                elif chosen is None:
                    chosen = fault
                else:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
            return latency, chosen
