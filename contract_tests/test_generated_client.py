"""The generated client: never drifts from the specs, parses every real-world envelope, and builds
the requests the wrapper's own builders (``_api``) build."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_tests.support import OPENAPI, ROOT
from sora2_characters._api import (
    RequestSpec,
    build_create_task,
    build_create_task_from_task,
    build_credits,
    build_task_query,
)
from sora2_characters._prism import PrismServer
from sora2_characters_api import AuthenticatedClient
from sora2_characters_api.api.default import get_account_credits, get_task_detail, sora_2_characters
from sora2_characters_api.models import (
    Sora2CharactersBody,
    Sora2CharactersBodyInput,
    Sora2CharactersBodyModel,
    Sora2CharactersProBody,
    Sora2CharactersProBodyInput,
    Sora2CharactersResponse200,
    TaskDetailResponse,
)
from sora2_characters_api.types import UNSET

COMMITTED = ROOT / "generated_client" / "sora2_characters_api"


def _files(folder: Path) -> set[str]:
    return {
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_committed_client_is_what_the_specs_produce(tmp_path: Path) -> None:
    output = tmp_path / "sora2_characters_api"
    subprocess.run(
        [sys.executable, str(OPENAPI / "generate.py"), str(output)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
        timeout=300,
    )
    generated, committed = _files(output), _files(COMMITTED)
    assert not any(part.startswith(".") for name in generated for part in Path(name).parts), (
        f"the generator's hooks left hidden files: {sorted(generated)}"
    )
    missing, extra = sorted(generated - committed), sorted(committed - generated)
    _, mismatch, errors = filecmp.cmpfiles(output, COMMITTED, sorted(generated & committed), shallow=False)
    drift = [f"missing: {name}" for name in missing] + [f"not generated: {name}" for name in extra]
    drift += [f"differs: {name}" for name in mismatch + errors]
    assert not drift, "generated_client/ drifted from the specs (run `nox -s generate`):\n" + "\n".join(drift)


def _client_answering(body: bytes, status: int = 200) -> AuthenticatedClient:
    client = AuthenticatedClient(base_url="http://127.0.0.1", token="test-key")
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=body))
    client.set_httpx_client(httpx.Client(base_url="http://127.0.0.1", transport=transport))
    return client


ENVELOPES = [
    {"code": 433, "msg": "usage cap", "data": None},
    {"code": 403, "msg": "unknown code"},
    {"code": 422, "msg": "recordInfo is null", "data": None},
    {
        "code": 200,
        "msg": "success",
        "data": {
            "taskId": "t",
            "state": "paused",
            "failCode": 422,
            "createTime": None,
            "resultJson": {"character_id": "c"},
            "extra": [1, 2],
        },
    },
    {"code": "200", "message": "odd", "data": {"taskId": None, "resultJson": "", "progress": "50"}},
]


@pytest.mark.parametrize("envelope", ENVELOPES, ids=lambda envelope: str(envelope["code"]))
def test_generated_parser_accepts_real_world_envelopes(envelope: dict[str, object]) -> None:
    client = _client_answering(json.dumps(envelope).encode())
    task = get_task_detail.sync_detailed(client=client, task_id="t").parsed
    assert isinstance(task, TaskDetailResponse)
    assert task.code == envelope["code"]
    created = sora_2_characters.sync_detailed(client=client, body=_body()).parsed
    assert isinstance(created, Sora2CharactersResponse200)
    assert created.code == envelope["code"]


def _body() -> Sora2CharactersBody:
    return Sora2CharactersBody(
        model=Sora2CharactersBodyModel.SORA_2_CHARACTERS,
        input_=Sora2CharactersBodyInput(character_file_url=["https://example.com/character.mp4"]),
    )


@pytest.mark.prism
def test_generated_create_task_against_prism_returns_the_task_id(prism_mock: PrismServer) -> None:
    client = AuthenticatedClient(base_url=prism_mock.base_url, token="test-key")
    with client:
        response = sora_2_characters.sync_detailed(client=client, body=_body())
    assert response.status_code == 200
    assert isinstance(response.parsed, Sora2CharactersResponse200)
    assert response.parsed.code == 200
    assert response.parsed.data
    assert response.parsed.data.task_id == "task_sora-2-characters_1765174270120"


# -- the wrapper's builders build what the generated operations build -----------------------------
# _api builds the jobs API's requests as plain dicts (issue 12: the generated models cost more per
# call than the rest); these compare them with the generated operations for arbitrary arguments.
_texts = st.none() | st.text(max_size=20)


def _generated(kwargs: dict[str, Any]) -> tuple[str, str, Any, Any]:
    return (kwargs["method"].upper(), kwargs["url"], kwargs.get("params"), kwargs.get("json"))


def _built(spec: RequestSpec) -> tuple[str, str, Any, Any]:
    return (spec.method, spec.path, spec.params, spec.json)


@settings(max_examples=60, deadline=None)
@given(video_url=st.text(max_size=30), prompt=_texts, safety=_texts, callback=_texts)
def test_create_task_is_built_as_the_generated_operation_builds_it(
    video_url: str, prompt: str | None, safety: str | None, callback: str | None
) -> None:
    body = Sora2CharactersBody(
        call_back_url=UNSET if callback is None else callback,
        input_=Sora2CharactersBodyInput(
            character_file_url=[video_url],
            character_prompt=UNSET if prompt is None else prompt,
            safety_instruction=UNSET if safety is None else safety,
        ),
    )
    built = build_create_task(video_url, prompt, safety, callback)
    generated = sora_2_characters._get_kwargs(body=body)
    assert _built(built) == _generated(generated)
    # The key order too: the bytes on the wire are what the generated client would send.
    assert json.dumps(built.json) == json.dumps(generated["json"])


@settings(max_examples=60, deadline=None)
@given(
    origin=st.text(max_size=20),
    timestamps=st.text(max_size=10),
    prompt=st.text(max_size=20),
    name=_texts,
    safety=_texts,
    callback=_texts,
)
def test_the_pro_create_task_is_built_as_the_generated_operation_builds_it(
    *, origin: str, timestamps: str, prompt: str, name: str | None, safety: str | None, callback: str | None
) -> None:
    body = Sora2CharactersProBody(
        call_back_url=UNSET if callback is None else callback,
        input_=Sora2CharactersProBodyInput(
            origin_task_id=origin,
            timestamps=timestamps,
            character_prompt=prompt,
            character_user_name=UNSET if name is None else name,
            safety_instruction=UNSET if safety is None else safety,
        ),
    )
    built = build_create_task_from_task(
        origin,
        timestamps=timestamps,
        character_prompt=prompt,
        character_user_name=name,
        safety_instruction=safety,
        callback_url=callback,
    )
    generated = sora_2_characters._get_kwargs(body=body)
    assert _built(built) == _generated(generated)
    assert json.dumps(built.json) == json.dumps(generated["json"])


@given(task_id=st.text(max_size=30))
def test_the_queries_are_built_as_the_generated_operations_build_them(task_id: str) -> None:
    assert _built(build_task_query(task_id)) == _generated(get_task_detail._get_kwargs(task_id=task_id))
    generated_credits = _generated(get_account_credits._get_kwargs())
    assert _built(build_credits()) == (*generated_credits[:2], None, None)
