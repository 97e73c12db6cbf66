"""Prism and the fake agree on which createTask bodies are valid (issue 11, section 5).

Hypothesis builds open-ended bodies (wrong types, missing and extra fields, strings near the 5000
character limit, lone surrogates, URLs and non-URLs) and sends each to Prism (the strict documented
spec) and to the fake in both styles. Where Prism accepts, the fake accepts; where Prism refuses,
the fake refuses: in the ``http`` style with a body code naming the field, in the ``live`` style
with the live service's codes (422 naming the field, or the captured 500 "This field is required"
for a missing one). The one place the fake is stricter than the spec on purpose: ``input`` itself
is optional in the spec but required by the live service (checked by its own test below).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.support import loopback_http
from sora2_characters._prism import PrismServer
from sora2_characters.testing import FakeApikley

CREATE = "/api/v1/jobs/createTask"
KEY = "sk-agreement-key"
TOP_FIELDS = ("model", "input", "callBackUrl")

urls = st.builds(
    "{}://{}.example.com/{}".format,
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_./-]{0,20}", fullmatch=True),
)
not_urls = st.sampled_from(["", "clip.mp4", "/videos/a.mp4", "not a url", "www.example.com/a.mp4"])
near_limit = st.builds(
    lambda char, length: char * length,
    st.sampled_from(["a", "é", "字", "\U0001f600", "\ud800"]),
    st.integers(min_value=4995, max_value=5005),
)
# No infinity: json.dumps writes it as ``Infinity``, which is not JSON, and Prism answers 400 invalid_json
# before it validates anything (huge finite floats, up to 1.8e308, stay in).
odd_values: st.SearchStrategy[Any] = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.just({})
    | st.just([])
)
texts = st.text(max_size=30) | near_limit | odd_values
url_lists = st.lists(urls | not_urls | odd_values, max_size=2) | odd_values
inputs = st.fixed_dictionaries(
    {},
    optional={
        "character_file_url": url_lists,
        "character_prompt": texts,
        "safety_instruction": texts,
        "extra": st.text(max_size=5),
    },
)
bodies = st.fixed_dictionaries(
    {"input": inputs},
    optional={
        "model": st.sampled_from(["sora-2-characters", "sora-2", ""]) | odd_values,
        "callBackUrl": urls | not_urls | odd_values,
        "extra": st.integers(),
    },
)


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, FakeApikley]]:
    options: dict[str, Any] = {"api_key": KEY, "initial_credits": 1e12, "validate_media": False}
    with (
        FakeApikley(error_style="http", **options) as http_style,
        FakeApikley(error_style="live", **options) as live_style,
    ):
        yield {"http": http_style, "live": live_style}


@pytest.fixture(scope="module")
def wire() -> Iterator[httpx.Client]:
    """One bare httpx client for every body sent to Prism and the fakes."""
    with loopback_http(timeout=10.0) as client:
        yield client


def _post(wire: httpx.Client, base_url: str, body: Any) -> httpx.Response:
    return wire.post(
        base_url + CREATE,
        content=json.dumps(body),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )


def _names_a_field(message: str) -> bool:
    match = re.match(r"([A-Za-z_]+)[\w.\[\]]*: ", message)
    return match is not None and match[1] in TOP_FIELDS


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_the_fake_accepts_what_prism_accepts_and_refuses_the_rest(
    prism_mock: PrismServer, fakes: dict[str, FakeApikley], wire: httpx.Client, body: dict[str, Any]
) -> None:
    prism = _post(wire, prism_mock.base_url, body)
    assert prism.status_code in (200, 422), prism.text
    prism_accepts = prism.status_code == 200

    documented = _post(wire, fakes["http"].base_url, body)
    payload = documented.json()
    assert (payload["code"] == 200) == prism_accepts, f"Prism {prism.status_code}, fake {payload}"
    if not prism_accepts:
        assert (documented.status_code, payload["code"]) == (422, 422)
        assert _names_a_field(payload["msg"]), payload

    live = _post(wire, fakes["live"].base_url, body)
    live_payload = live.json()
    assert live.status_code == 200
    assert (live_payload["code"] == 200) == prism_accepts, (
        f"Prism {prism.status_code}, live fake {live_payload}"
    )
    if not prism_accepts:
        assert (live_payload["code"], live_payload["msg"]) == (500, "This field is required") or (
            live_payload["code"] == 422
            and (_names_a_field(live_payload["msg"]) or live_payload["msg"] == "The model is not supported")
        ), live_payload


def test_input_is_required_although_the_spec_forgets_it(
    prism_mock: PrismServer, fakes: dict[str, FakeApikley], wire: httpx.Client
) -> None:
    body = {"model": "sora-2-characters"}
    assert _post(wire, prism_mock.base_url, body).status_code == 200  # the documented schema lets it pass
    assert _post(wire, fakes["http"].base_url, body).json()["msg"] == "input: is required"
    assert _post(wire, fakes["live"].base_url, body).json() == {"code": 500, "msg": "This field is required"}
