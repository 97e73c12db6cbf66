"""What the handwritten wrapper does not follow of a spec: the check behind ``nox -s update-spec``.

Two questions, answered by driving the public :class:`sora2_characters.Client` over an in-memory
transport (no socket, no network), never by reading the wrapper's source:

* **Request properties the public methods cannot set.** Each public method that sends a request is
  called once with every option set; the properties of the captured request (JSON body paths,
  multipart fields, query parameters) are compared with the spec's request schema.
* **Response properties no public model attribute carries.** For each property of the ``data``
  the spec describes, the method is called again with that property alone set to a recognisable
  value (beside the required ones); the property is carried when the value shows up in a public
  attribute of the returned model (``raw`` excluded: everything is in ``raw``).

What the wrapper leaves on purpose is listed below with the reason, and only there. The suite runs
the same check on the committed specs (``contract_tests/test_wrapper_coverage.py``), so a spec
change the wrapper does not follow fails with a message naming the property.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STRICT_BUNDLE = HERE / "bundled" / "apikley.json"
LIVE_BUNDLE = HERE / "bundled" / "apikley-live.json"
SAMPLE_VIDEO = ROOT / "examples" / "character.mp4"
BASE_URL = "http://127.0.0.1:9"
UPLOAD_BASE_URL = "http://127.0.0.1:9/file-upload"

#: Operations no public method calls, and why.
OPERATIONS_LEFT = {
    "POST /api/file-base64-upload": "upload_video streams the file; base64 would add a third to 10 MB",
    "POST /api/file-url-upload": "create_character takes a public video URL as it is",
    "POST /api/v1/common/download-url": "the characters models return an id, not a file to download",
}
#: Request properties the public methods deliberately cannot set ("operation property": why).
REQUEST_LEFT: dict[str, str] = {}
#: Response properties no public attribute carries: users read them from ``raw``.
RESPONSE_LEFT = {
    # The live service's extras (live bundle only); their meaning is not documented.
    "POST /api/v1/jobs/createTask recordId": "live extra, the same value as taskId",
    "GET /api/v1/jobs/recordInfo paramJson": "live extra, the same body as param (TaskInfo.param)",
    "GET /api/v1/jobs/recordInfo operationType": "live extra, undocumented",
    "GET /api/v1/jobs/recordInfo successFlag": "live extra, undocumented; state says the same",
    "GET /api/v1/jobs/recordInfo response": "live extra, undocumented",
    "GET /api/v1/jobs/recordInfo remainedCredits": "failure callbacks only; get_credits() asks for it",
    # The upload answer's own success flag: a failed upload raises instead.
    "POST /api/file-stream-upload success": "always true in a success; a failure raises",
}


@dataclass(frozen=True)
class Probe:
    """A public method that sends one operation, and the ``data`` its answer needs at least."""

    operation: str
    call: Callable[[Any, Mapping[str, Any]], object]  # (client, the data the service will answer)
    minimal_data: Mapping[str, Any]
    model: str | None = None
    upload: bool = False


SENTINEL_TEXT = "sentinel-7f3a"
SENTINEL_URL = "https://files.example/sentinel-7f3a.mp4"
SENTINEL_MS = 1_765_432_109_876  # a Unix time in milliseconds, so time fields decode it
SENTINEL_NUMBER = 4321.25
SENTINEL_SMALL = 37  # fits progress (0-100)


def _probes() -> list[Probe]:
    return [
        Probe(
            "POST /api/v1/jobs/createTask",
            lambda client, _data: client.create_character(
                SENTINEL_URL,
                character_prompt=SENTINEL_TEXT,
                safety_instruction=SENTINEL_TEXT,
                callback_url=SENTINEL_URL,
            ),
            {"taskId": "task-1"},
            model="sora-2-characters",
        ),
        Probe(
            "POST /api/v1/jobs/createTask",
            lambda client, _data: client.create_character_from_task(
                "origin-task-1",
                start=1.5,
                end=3.5,
                character_prompt=SENTINEL_TEXT,
                character_user_name="sentinel",
                safety_instruction=SENTINEL_TEXT,
                callback_url=SENTINEL_URL,
            ),
            {"taskId": "task-1"},
            model="sora-2-characters-pro",
        ),
        Probe(
            "GET /api/v1/jobs/recordInfo",
            # The task asked for is the one answered (the client refuses another task's record).
            lambda client, data: client.get_task(str(data["taskId"])),
            {"taskId": "task-1", "state": "waiting"},
        ),
        Probe("GET /api/v1/chat/credit", lambda client, _data: client.get_credits(), {}),
        Probe(
            "POST /api/file-stream-upload",
            lambda client, _data: client.upload_video(SAMPLE_VIDEO, file_name="character.mp4"),
            {"downloadUrl": SENTINEL_URL},
            upload=True,
        ),
    ]


@dataclass
class Finding:
    """One thing of the spec the wrapper does not follow."""

    operation: str
    side: str  # "request" or "response"
    name: str
    spec: str

    def __str__(self) -> str:
        """Say it in one line, naming the property."""
        if self.side == "operation":
            return f"{self.spec}: {self.operation}: no public method calls it"
        what = (
            "no public method can set it"
            if self.side == "request"
            else "no public model attribute carries it"
        )
        return f"{self.spec}: {self.operation} {self.side} {self.name}: {what}" + (
            " (only raw)" if self.side == "response" else ""
        )


def _resolve(spec: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = spec
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _merged_properties(spec: Mapping[str, Any], schema: Any) -> dict[str, Any]:
    """Collect an object schema's properties, through ``allOf`` and the first (success) ``oneOf``."""
    schema = _resolve(spec, schema)
    if not isinstance(schema, Mapping):
        return {}
    properties: dict[str, Any] = {}
    for member in schema.get("allOf", []):
        properties.update(_merged_properties(spec, member))
    if "oneOf" in schema:
        properties.update(_merged_properties(spec, schema["oneOf"][0]))
    properties.update(schema.get("properties", {}))
    return properties


def _property_paths(spec: Mapping[str, Any], schema: Any, prefix: str = "") -> Iterator[str]:
    for name, value in _merged_properties(spec, schema).items():
        path = f"{prefix}{name}"
        yield path
        resolved = _resolve(spec, value)
        if isinstance(resolved, Mapping) and (resolved.get("type") == "object" or "properties" in resolved):
            yield from _property_paths(spec, resolved, path + ".")


def _operations(spec: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield f"{method.upper()} {path}", operation


def request_variants(spec: Mapping[str, Any], operation: Mapping[str, Any]) -> dict[str | None, set[str]]:
    """Return the request property paths of an operation, per model (``None``: no model enum)."""
    variants: dict[str | None, set[str]] = {}
    parameters = {f"?{_resolve(spec, p)['name']}" for p in operation.get("parameters", [])}
    body = operation.get("requestBody")
    contents = _resolve(spec, body).get("content", {}) if body else {}
    schemas = [media["schema"] for media in contents.values() if "schema" in media]
    members: list[Any] = []
    for schema in schemas:
        resolved = _resolve(spec, schema)
        members += resolved.get("oneOf", [resolved]) if isinstance(resolved, Mapping) else []
    for member in members or [None]:
        paths = set(_property_paths(spec, member)) if member is not None else set()
        model_schema = _resolve(spec, _merged_properties(spec, member).get("model", {})) if member else {}
        models = model_schema.get("enum", [None]) if isinstance(model_schema, Mapping) else [None]
        for model in models:
            variants.setdefault(model, set()).update(paths | parameters)
    return variants


def _data_schema(spec: Mapping[str, Any], operation: Mapping[str, Any]) -> Any:
    response = _resolve(spec, operation["responses"].get("200", {}))
    media = response.get("content", {}).get("application/json", {})
    return _resolve(spec, _merged_properties(spec, media.get("schema", {})).get("data", {}))


class _Recorder:
    """The in-memory service: records each request and answers with the envelope it is given."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.data: Any = None
        self.upload = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        envelope: dict[str, Any] = {"code": 200, "msg": "success", "data": self.data}
        if self.upload:
            envelope["success"] = True
        return httpx.Response(200, json=envelope)


def _client(recorder: _Recorder) -> Any:
    from sora2_characters import Client  # noqa: PLC0415 (the wrapper is imported only to check it)

    http = httpx.Client(transport=httpx.MockTransport(recorder))
    return Client(
        "coverage-check-key",
        base_url=BASE_URL,
        upload_base_url=UPLOAD_BASE_URL,
        allow_insecure_http=True,
        max_retries=0,
        http_client=http,
        sleep=lambda _seconds: None,
    )


def _sent_paths(request: httpx.Request) -> set[str]:
    paths = {f"?{name}" for name in request.url.params}
    content_type = request.headers.get("content-type", "")
    body = request.read()
    if content_type.startswith("application/json"):
        paths |= set(_json_paths(json.loads(body)))
    elif content_type.startswith("multipart/form-data"):
        for chunk in body.split(b'Content-Disposition: form-data; name="')[1:]:
            paths.add(chunk.split(b'"', 1)[0].decode())
    return paths


def _json_paths(value: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if item is not None:
                yield f"{prefix}{key}"
                yield from _json_paths(item, f"{prefix}{key}.")


SENTINELS: dict[str, Any] = {
    "number": SENTINEL_NUMBER,
    "boolean": True,
    "object": {"sentinel": SENTINEL_TEXT},
    "uri": SENTINEL_URL,
    "date-time": "2025-12-11T05:48:29.876Z",
}


def _sentinel(spec: Mapping[str, Any], schema: Any) -> Any:
    """Pick a value of the schema's type that a decoded attribute can be recognised by."""
    schema = _resolve(spec, schema)
    if not isinstance(schema, Mapping):
        return SENTINEL_TEXT
    kind = schema.get("type")
    if kind == "integer":
        maximum = schema.get("maximum")
        return SENTINEL_SMALL if maximum is not None and maximum < SENTINEL_MS else SENTINEL_MS
    if kind == "array":
        return [_sentinel(spec, schema.get("items", {}))]
    return SENTINELS.get(str(kind), SENTINELS.get(str(schema.get("format")), SENTINEL_TEXT))


def _shows(value: Any, sentinel: Any) -> bool:
    """Whether a public attribute's ``value`` carries ``sentinel`` (decoded or as sent)."""
    if isinstance(value, datetime):
        if isinstance(sentinel, int) and not isinstance(sentinel, bool):
            return round(value.timestamp() * 1000) == sentinel
        return isinstance(sentinel, str) and value == datetime.fromisoformat(sentinel)
    if isinstance(value, bool) or isinstance(sentinel, bool):
        return value is sentinel
    if isinstance(value, tuple | list):
        return (
            value == sentinel
            or any(_shows(item, sentinel) for item in value)
            or (isinstance(sentinel, list) and list(value) == sentinel)
        )
    try:
        return bool(value == sentinel)
    except Exception:  # noqa: BLE001 (an odd attribute type is simply not a match)
        return False


def _public_values(model: object) -> Iterator[Any]:
    if isinstance(model, int | float | str):
        yield model
        return
    for name in dir(model):
        if name.startswith("_") or name == "raw":
            continue
        value = getattr(model, name)
        if not callable(value) or isinstance(value, str):
            yield value


def check(spec_path: Path) -> list[Finding]:
    """List what the wrapper does not follow of the spec at ``spec_path``, minus what it leaves on purpose."""
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    label = spec_path.name
    probes = _probes()
    offered = {probe.operation for probe in probes}
    findings: list[Finding] = []
    for name, operation in _operations(spec):
        if name not in offered:
            if name not in OPERATIONS_LEFT:
                findings.append(Finding(name, "operation", "", label))
            continue
        variants = request_variants(spec, operation)
        for model, paths in variants.items():
            probe = next(
                (p for p in probes if p.operation == name and p.model == model),
                None,
            )
            if probe is None:
                findings.append(Finding(name, "request", f"model={model}", label))
                continue
            sent = _run_request(probe)
            for path in sorted(paths - sent):
                if f"{name} {path}" not in REQUEST_LEFT:
                    findings.append(Finding(name, "request", path, label))
        probe = next(p for p in probes if p.operation == name)
        data_schema = _data_schema(spec, operation)
        for prop, schema in _merged_properties(spec, data_schema).items():
            if f"{name} {prop}" in RESPONSE_LEFT:
                continue
            if not _carried(probe, prop, _sentinel(spec, schema)):
                findings.append(Finding(name, "response", prop, label))
    return findings


def _run_request(probe: Probe) -> set[str]:
    recorder = _Recorder()
    recorder.data = dict(probe.minimal_data) or 1.0
    recorder.upload = probe.upload
    with _client(recorder) as client:
        probe.call(client, recorder.data)
    return set().union(*(_sent_paths(request) for request in recorder.requests))


def _carried(probe: Probe, prop: str, sentinel: Any) -> bool:
    recorder = _Recorder()
    recorder.data = {**probe.minimal_data, prop: sentinel}
    recorder.upload = probe.upload
    with _client(recorder) as client:
        try:
            model = probe.call(client, recorder.data)
        except Exception:  # noqa: BLE001 (a property the decoder refuses is not carried either)
            return False
    return any(_shows(value, sentinel) for value in _public_values(model))


def stale_entries(spec_paths: list[Path]) -> list[str]:
    """Entries of the lists above that no committed spec needs any more (the wrapper follows them now)."""
    needed: set[str] = set()
    for spec_path in spec_paths:
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        for name, operation in _operations(spec):
            needed.add(name)
            for paths in request_variants(spec, operation).values():
                needed |= {f"{name} {path}" for path in paths}
            needed |= {f"{name} {prop}" for prop in _merged_properties(spec, _data_schema(spec, operation))}
    listed = [*OPERATIONS_LEFT, *REQUEST_LEFT, *RESPONSE_LEFT]
    return [entry for entry in listed if entry not in needed]


def main(argv: list[str]) -> int:
    """Print what the wrapper must follow of each spec given (default: the committed bundles)."""
    paths = [Path(arg) for arg in argv] or [STRICT_BUNDLE, LIVE_BUNDLE]
    findings = [finding for path in paths for finding in check(path)]
    for finding in findings:
        print(f"wrapper must follow: {finding}")
    if not findings:
        print("the wrapper follows every request and response property (or leaves it on purpose)")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
