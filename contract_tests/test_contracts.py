"""sora2_characters.contracts and ``sora2-characters contracts``: pacts against the fake and the spec."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ["PACT_DO_NOT_TRACK"] = "true"  # before pact-python loads: it reports usage otherwise

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pact import Pact, generate, match

from contract_tests.support import ROOT, loopback_http
from sora2_characters import (
    AuthenticationError,
    InsufficientCreditsError,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
    TaskState,
    UsageLimitError,
)
from sora2_characters._cli._app import run
from sora2_characters.contracts import (
    PROVIDER_STATES,
    SPECS,
    NodeNotFoundError,
    NotAPactError,
    PactFileError,
    PactVerificationError,
    SpecMismatchError,
    SpecNotFoundError,
    StateChangeServer,
    UnsupportedPactVersionError,
    ValidatorNotFoundError,
    WrongProviderError,
    check_pacts,
    load_pact,
    readable_spec,
    verify_pacts,
)
from sora2_characters.testing import FakeApikley

pytest_plugins = ["pytester"]

AUTH = "Bearer test-key"

Define = Callable[[Pact], None]


def write_pact(folder: Path, *defines: Define, version: str = "V4", consumer: str = "contracts-test") -> Path:
    """Write a pact of the given interactions (no mock server needed) and return its path."""
    pact = Pact(consumer, "apikley").with_specification(version)
    for define in defines:
        define(pact)
    pact.write_file(folder)
    return folder / f"{consumer}-apikley.json"


def credits_query(balance: float, *, expected: Any = None, state: str = "the account has credits") -> Define:
    def define(pact: Pact) -> None:
        (
            pact.upon_receiving(f"a credit balance query ({state}, {balance})")
            .given(state, {"credits": balance})
            .with_request("GET", "/api/v1/chat/credit")
            .with_header("Authorization", AUTH)
            .will_respond_with(200)
            .with_body(
                {"code": 200, "msg": match.str("success"), "data": balance if expected is None else expected},
                content_type="application/json",
            )
        )

    return define


def create_task(
    description: str, body: dict[str, Any], *, headers: bool = True, response: Any = None
) -> Define:
    def define(pact: Pact) -> None:
        interaction = pact.upon_receiving(description).with_request("POST", "/api/v1/jobs/createTask")
        if headers:
            interaction.with_header("Authorization", AUTH)
        (
            interaction.with_body(body, content_type="application/json", part="Request")
            .will_respond_with(200)
            .with_body(
                response or {"code": 200, "msg": "success", "data": {"taskId": match.str("task_1")}},
                content_type="application/json",
                part="Response",
            )
        )

    return define


VALID_BODY: dict[str, Any] = {
    "model": "sora-2-characters",
    "input": {"character_file_url": ["https://example.com/a.mp4"]},
}


def cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# ---- pact files: what is refused, and how ----------------------------------------------------------


def _document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "consumer": {"name": "c"},
        "provider": {"name": "apikley"},
        "interactions": [],
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }
    document.update(changes)
    return {key: value for key, value in document.items() if value is not None}


BAD_FILES: list[tuple[str, Callable[[Path], Path], type[PactFileError], int, str]] = [
    ("missing", lambda tmp: tmp / "nope.json", PactFileError, 21, "no such pact file"),
    ("folder", lambda tmp: tmp, PactFileError, 21, "is a folder"),
    (
        "not-utf8",
        lambda tmp: (tmp / "b.json", (tmp / "b.json").write_bytes(b'{"\xff\xfe": 1}'))[0],
        PactFileError,
        21,
        "cannot read",
    ),
    (
        "not-json",
        lambda tmp: (tmp / "n.json", (tmp / "n.json").write_text("consumer: me"))[0],
        NotAPactError,
        22,
        "not JSON",
    ),
    (
        "array",
        lambda tmp: (tmp / "a.json", (tmp / "a.json").write_text("[1, 2]"))[0],
        NotAPactError,
        22,
        "a JSON list",
    ),
    (
        "no-interactions",
        lambda tmp: (tmp / "i.json", (tmp / "i.json").write_text(json.dumps(_document(interactions=None))))[
            0
        ],
        NotAPactError,
        22,
        "missing interactions",
    ),
    (
        "other-provider",
        lambda tmp: (
            tmp / "o.json",
            (tmp / "o.json").write_text(json.dumps(_document(provider={"name": "kie"}))),
        )[0],
        WrongProviderError,
        23,
        "a pact for provider 'kie', not 'apikley'",
    ),
    (
        "version-5",
        lambda tmp: (
            tmp / "v.json",
            (tmp / "v.json").write_text(
                json.dumps(_document(metadata={"pactSpecification": {"version": "5.0.0"}}))
            ),
        )[0],
        UnsupportedPactVersionError,
        24,
        "version '5.0.0'",
    ),
]


@pytest.mark.parametrize(
    ("make", "error", "message"), [case[1:3] + case[4:] for case in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_load_pact_refuses_with_a_typed_error(
    tmp_path: Path, make: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as caught:
        load_pact(make(tmp_path))
    assert type(caught.value) is error


@pytest.mark.parametrize("command", ["verify", "check"])
@pytest.mark.parametrize("bad", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_each_bad_pact_file_is_one_line_and_its_own_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, bad: Any
) -> None:
    _name, make, _error, code, message = bad
    status, out, err = cli("contracts", command, str(make(tmp_path)), capsys=capsys)
    assert status == code
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err


def test_a_bad_pact_file_in_json_mode_is_one_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _err = cli("contracts", "verify", "--json", str(tmp_path / "nope.json"), capsys=capsys)
    assert status == 21
    assert json.loads(out)["error"]["type"] == "PactFileError"


def test_v3_and_v4_pacts_are_read(tmp_path: Path) -> None:
    v3 = write_pact(tmp_path / "v3", credits_query(1.0), version="V3")
    v4 = write_pact(tmp_path / "v4", credits_query(1.0), version="V4")
    assert (load_pact(v3).version, load_pact(v4).version) == ("3.0.0", "4.0")
    assert load_pact(v4).consumer == "contracts-test"


_TEXT = st.text(st.characters(exclude_categories=()), max_size=12)  # lone surrogates included
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False)
    | _TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_TEXT, children, max_size=4),
    max_leaves=20,
)
_NAME = st.one_of(_JSON, st.fixed_dictionaries({"name": st.sampled_from(["apikley", "me"]) | _JSON}))
_PACTISH = st.fixed_dictionaries(
    {},
    optional={
        "consumer": _NAME,
        "provider": _NAME,
        "interactions": st.one_of(_JSON, st.lists(_JSON, max_size=3)),
        "metadata": st.one_of(
            _JSON, st.fixed_dictionaries({"pactSpecification": st.fixed_dictionaries({"version": _JSON})})
        ),
    },
)
_CONTENT = st.one_of(
    _PACTISH.map(lambda document: json.dumps(document).encode()),  # lone surrogates as \ud800 escapes
    _JSON.map(lambda document: json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    st.binary(max_size=64),
    st.integers(1, 100_000).map(lambda depth: b"[" * depth + b"]" * depth),  # deep nesting
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(content=_CONTENT)
def test_load_pact_never_raises_anything_but_its_own_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "pact.json"
    path.write_bytes(content)
    try:
        pact = load_pact(path)
    except PactFileError as exc:
        message = str(exc)
    else:
        assert pact.provider == "apikley"
        assert isinstance(pact.interactions, list)
        return
    assert message.startswith(f"{path}: ")
    assert "\n" not in message


# ---- the provider-state vocabulary, mapped onto the fake -----------------------------------------


def test_the_vocabulary_has_at_least_the_documented_states() -> None:
    assert {
        "the account has credits",
        "the account has no credits",
        "a task that succeeded",
        "a task that failed",
        "a task that is still running",
        "no task with this id",
        "the key is invalid",
        "the service is under maintenance",
        "the rate limit is reached",
    } <= set(PROVIDER_STATES)
    assert all(description.strip() for description in PROVIDER_STATES.values())


def test_the_help_names_every_contracts_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("verify", "check"):
        status, out, _ = cli("contracts", command, "--help", capsys=capsys)
        assert status == 0
        text = " ".join(out.split())
        assert all(f"{code} " in text for code in range(21, 31))


def test_contracts_states_lists_the_vocabulary(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli("contracts", "states", capsys=capsys)
    assert status == 0
    assert all(f"{name}\n" in out for name in PROVIDER_STATES)
    status, out, _ = cli("contracts", "states", "--json", capsys=capsys)
    assert json.loads(out) == {"states": dict(PROVIDER_STATES)}


@pytest.fixture
def states() -> Any:
    with (
        FakeApikley(time_scale=0.001, accept_any_key=True, initial_credits=100) as fake,
        StateChangeServer(fake) as server,
    ):
        yield fake, server


def _change(
    server: StateChangeServer, state: str, params: dict[str, Any] | None = None, action: str = "setup"
) -> httpx.Response:
    with loopback_http(timeout=10) as http:
        return http.post(server.url, json={"state": state, "params": params or {}, "action": action})


def _call(fake: FakeApikley, operation: str) -> Any:
    with fake.client(max_retries=0) as client:
        if operation == "credits":
            return client.get_credits()
        if operation == "create":
            return client.create_character("https://example.com/a.mp4")
        return client.get_task(operation)


@pytest.mark.parametrize(
    ("state", "params", "error"),
    [
        ("the account has no credits", {}, InsufficientCreditsError),
        ("the key is invalid", {}, AuthenticationError),
        ("the service is under maintenance", {}, ServiceUnavailableError),
        ("the rate limit is reached", {}, RateLimitError),
        ("the service answers with an error code", {"code": 433}, UsageLimitError),
    ],
)
def test_a_fault_state_holds_until_teardown(
    states: Any, state: str, params: dict[str, Any], error: type[Exception]
) -> None:
    fake, server = states
    assert _change(server, state, params).status_code == 200
    for _ in range(2):  # every call, not just the next
        with pytest.raises(error):
            _call(fake, "create")
    assert _change(server, state, params, action="teardown").status_code == 200
    assert _call(fake, "credits") == 100
    assert _call(fake, "create").task_id


def test_the_credits_state_sets_the_balance(states: Any) -> None:
    fake, server = states
    answer = _change(server, "the account has credits", {"credits": 7.5})
    assert answer.json() == {"credits": 7.5}
    assert _call(fake, "credits") == 7.5


def test_task_states_hold_a_task_with_the_given_id(states: Any) -> None:
    fake, server = states
    assert (
        _change(server, "a task that succeeded", {"taskId": "t-ok", "characterId": "char_ok"}).json()[
            "taskId"
        ]
        == "t-ok"
    )
    assert (
        _change(
            server, "a task that failed", {"taskId": "t-fail", "failCode": "422", "failMsg": "bad clip"}
        ).status_code
        == 200
    )
    assert (
        _change(server, "a task that is still running", {"taskId": "t-run", "state": "queuing"}).status_code
        == 200
    )
    ok, failed, running = (_call(fake, task_id) for task_id in ("t-ok", "t-fail", "t-run"))
    assert (ok.state, ok.character_id) == (TaskState.SUCCESS, "char_ok")
    assert (failed.state, failed.fail_code, failed.fail_message) == (TaskState.FAIL, "422", "bad clip")
    assert running.state is TaskState.QUEUING


def test_a_task_state_without_an_id_returns_the_one_it_made(states: Any) -> None:
    fake, server = states
    values = _change(server, "a task that succeeded").json()
    task = _call(fake, values["taskId"])
    assert task.character_id == values["characterId"]
    missing = _change(server, "no task with this id").json()["taskId"]
    with pytest.raises(NotFoundError):
        _call(fake, missing)


def test_no_task_with_this_id_removes_it(states: Any) -> None:
    fake, server = states
    _change(server, "a task that succeeded", {"taskId": "t-gone"})
    assert _change(server, "no task with this id", {"taskId": "t-gone"}).json() == {"taskId": "t-gone"}
    with pytest.raises(NotFoundError):
        _call(fake, "t-gone")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"state": "the moon is full", "params": {}}, "unknown provider state 'the moon is full'"),
        (
            {"state": "the account has credits", "params": {"credits": "lots"}},
            "param 'credits' must be a number",
        ),
        (
            {"state": "a task that is still running", "params": {"state": "success"}},
            "param 'state' must be one of",
        ),
        (
            {"state": "the service answers with an error code", "params": {}},
            "param 'code' must be an integer",
        ),
        ({"state": 3}, "needs 'state'"),
    ],
)
def test_a_bad_state_change_is_a_4xx_naming_the_problem(
    states: Any, body: dict[str, Any], message: str
) -> None:
    _fake, server = states
    answer = httpx.post(server.url, json=body, timeout=10)
    assert 400 <= answer.status_code < 500  # a 5xx would make the verifier retry for minutes
    assert message in answer.json()["error"]
    if "unknown" in message:
        assert all(name in answer.json()["error"] for name in PROVIDER_STATES)
    assert httpx.post(server.url, content=b"[", timeout=10).status_code == 400


_STATE_BODY = st.fixed_dictionaries(
    {},
    optional={
        "state": st.sampled_from(sorted(PROVIDER_STATES)) | _JSON,
        "params": st.dictionaries(
            st.sampled_from(
                ["credits", "taskId", "characterId", "failCode", "failMsg", "state", "code", "msg"]
            ),
            _JSON,
            max_size=4,
        )
        | _JSON,
        "action": st.sampled_from(["setup", "teardown"]) | _JSON,
    },
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(body=_STATE_BODY)
def test_any_state_change_is_answered_200_or_4xx_never_5xx(states: Any, body: dict[str, Any]) -> None:
    fake, server = states
    with loopback_http(timeout=10) as http:
        answer = http.post(server.url, content=json.dumps(body).encode())
    assert answer.status_code in {200, 400}, answer.text
    assert isinstance(answer.json(), dict)
    _change(server, "", action="teardown")
    assert _call(fake, "credits") == 100  # the teardown restored the starting point


# ---- verification against the fake -----------------------------------------------------------------


@pytest.mark.parametrize("version", ["V3", "V4"])
def test_a_pact_that_holds_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str], version: str) -> None:
    def running(pact: Pact) -> None:
        (
            pact.upon_receiving("a recordInfo of a running task")
            .given("a task that is still running")
            .with_request("GET", "/api/v1/jobs/recordInfo")
            .with_header("Authorization", AUTH)
            .with_query_parameter(
                "taskId", match.type("task_1", generator=generate.provider_state("${taskId}"))
            )
            .will_respond_with(200)
            .with_body({"code": 200, "data": {"taskId": match.str("task_1"), "state": "generating"}})
        )

    path = write_pact(
        tmp_path, credits_query(7.5), create_task("a createTask", VALID_BODY), running, version=version
    )
    result = verify_pacts([path])
    assert result.passed, result.report
    assert result.interactions == 3
    status, out, _ = cli("contracts", "verify", "--json", str(path), capsys=capsys)
    assert status == 0
    assert json.loads(out) == {"passed": True, "pacts": [str(path)], "interactions": 3}


def test_a_failing_interaction_is_reported_with_what_differed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_pact(tmp_path, credits_query(7.5, expected=8), credits_query(3.0))
    result = verify_pacts(path)
    assert not result.passed
    [failure] = result.failures
    assert failure.description == "a credit balance query (the account has credits, 7.5)"
    assert failure.provider_states == ("the account has credits",)
    assert any("$.data" in mismatch for mismatch in failure.mismatches)
    with pytest.raises(PactVerificationError, match="1 of 2 interaction"):
        result.raise_for_failures()
    status, out, err = cli("contracts", "verify", str(path), capsys=capsys)
    assert status == 28
    assert "a credit balance query (the account has credits, 7.5)" in out
    assert err.startswith("error: PactVerificationError:")
    status, out, _ = cli("contracts", "verify", "--json", str(path), capsys=capsys)
    payload = json.loads(out)
    assert (status, payload["passed"], payload["error"]["type"]) == (28, False, "PactVerificationError")
    assert payload["failures"][0]["description"] == failure.description


def test_an_unknown_state_fails_at_once_naming_the_vocabulary(tmp_path: Path) -> None:
    path = write_pact(tmp_path, credits_query(1.0, state="the moon is full"), credits_query(2.0, expected=3))
    result = verify_pacts(path)
    assert not result.passed
    assert "unknown provider state 'the moon is full'" in result.report
    assert all(repr(name) in result.report for name in PROVIDER_STATES)
    unknown, wrong = sorted(
        result.failures, key=lambda failure: failure.provider_states != ("the moon is full",)
    )
    assert any("the known states are" in mismatch for mismatch in unknown.mismatches)
    assert not any("the moon is full" in mismatch for mismatch in wrong.mismatches)


def test_fake_options_reach_the_fake(tmp_path: Path) -> None:
    path = write_pact(tmp_path, create_task("a createTask", VALID_BODY))
    assert not verify_pacts(path, api_key="another-key").passed  # the pact's key is refused
    assert verify_pacts(path, api_key="test-key").passed


# ---- the check against the spec ----------------------------------------------------------------------


def test_readable_spec_keeps_what_nullable_schemas_accept() -> None:
    document = {
        "a": {"nullable": True, "oneOf": [{"type": "string"}, {"type": "integer"}]},
        "b": {"nullable": True, "description": "anything"},
        "c": {"nullable": True, "type": "string"},
    }
    fixed = readable_spec(document)
    assert fixed["a"] == {"oneOf": [{"type": "string", "nullable": True}, {"type": "integer"}]}
    assert fixed["b"] == {"description": "anything"}
    assert fixed["c"] == document["c"]
    assert document["a"]["nullable"] is True  # the original is untouched


def test_what_the_spec_does_not_allow_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_pact(
        tmp_path,
        create_task("a wrong model", {**VALID_BODY, "model": "sora-2"}),
        create_task("no Authorization", VALID_BODY, headers=False),
        create_task(
            "a prompt too long",
            {**VALID_BODY, "input": {**VALID_BODY["input"], "character_prompt": "x" * 5001}},
        ),
        credits_query(1.0, expected="lots"),
    )
    result = check_pacts(path, spec="documented")
    assert not result.passed
    found = {finding.interaction: finding.code for finding in result.errors}
    assert found == {
        "a wrong model": "request.body.incompatible",
        "no Authorization": "request.authorization.missing",
        "a prompt too long": "request.body.incompatible",
        "a credit balance query (the account has credits, 1.0)": "response.body.incompatible",
    }
    # The documented createTask body is a oneOf of the two models: a bad body gets a finding per branch.
    with pytest.raises(SpecMismatchError, match=rf"\b{len(result.errors)} finding"):
        result.raise_for_failures()
    status, out, err = cli("contracts", "check", "--spec", "documented", str(path), capsys=capsys)
    assert status == 29
    assert "request.authorization.missing [no Authorization]" in out
    assert err.startswith("error: SpecMismatchError:")
    status, out, _ = cli("contracts", "check", "--json", "--spec", "documented", str(path), capsys=capsys)
    payload = json.loads(out)  # exactly one object: the validator's own output stays off stdout
    assert (status, payload["passed"], payload["error"]["type"]) == (29, False, "SpecMismatchError")
    assert len(payload["findings"]) == len(result.errors)


def test_a_missing_spec_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_pact(tmp_path, credits_query(1.0))
    monkeypatch.setitem(SPECS, "live", (tmp_path / "a.json", tmp_path / "b.json"))
    with pytest.raises(SpecNotFoundError, match="the live spec is missing"):
        check_pacts(path)
    status, _, err = cli("contracts", "check", str(path), capsys=capsys)
    assert (status, err.count("\n")) == (25, 1)


def test_missing_node_or_validator_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_pact(tmp_path, credits_query(1.0))
    monkeypatch.setenv("SORA2_SWAGGER_MOCK_VALIDATOR", str(tmp_path))
    with pytest.raises(ValidatorNotFoundError, match="SORA2_SWAGGER_MOCK_VALIDATOR"):
        check_pacts(path, spec="documented")
    status, _, err = cli("contracts", "check", "--spec", "documented", str(path), capsys=capsys)
    assert (status, err.count("\n")) == (27, 1)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NodeNotFoundError, match=r"Node\.js is not installed"):
        check_pacts(path, spec="documented")
    status, _, err = cli("contracts", "check", "--spec", "documented", str(path), capsys=capsys)
    assert (status, err.count("\n")) == (26, 1)


# ---- the apikley_pact fixture and the README's consumer test ----------------------------------------


def readme_example() -> str:
    """The consumer test of the README's "Consumer-driven contracts (Pact)", as written."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Consumer-driven contracts (Pact)") :]
    return section[section.index("```python\n") + len("```python\n") : section.index("\n```\n")]


@pytest.fixture
def consumer(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml('[project]\nname = "my-app"\nversion = "1"\n')
    pytester.makeini("[pytest]\naddopts = --strict-markers -p no:cacheprovider\nfilterwarnings = error\n")
    return pytester


def test_the_readme_consumer_test_writes_a_pact_that_verifies(
    consumer: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    consumer.makepyfile(test_readme=readme_example())
    consumer.runpytest_inprocess("-q").assert_outcomes(passed=2)
    capsys.readouterr()
    pact = consumer.path / "pacts" / "my-app-apikley.json"
    assert len(load_pact(pact).interactions) == 2
    status, out, err = cli("contracts", "verify", str(pact), capsys=capsys)
    assert status == 0, out + err
    status, out, err = cli("contracts", "check", str(pact), capsys=capsys)
    assert status == 0, out + err
    assert "compatible with the live spec" in out


def test_only_passing_tests_write_and_a_session_starts_the_file_afresh(consumer: pytest.Pytester) -> None:
    consumer.makepyfile(
        test_pacts="""
        from sora2_characters import Client

        def _credits(pact, description):
            (
                pact.upon_receiving(description)
                .with_request("GET", "/api/v1/chat/credit")
                .will_respond_with(200)
                .with_body({"code": 200, "msg": "success", "data": 5})
            )

        def test_passes(apikley_pact):
            _credits(apikley_pact, "a passing query")
            with apikley_pact.serve(addr="127.0.0.1") as server:
                with Client("k", base_url=str(server.url), allow_insecure_http=True) as client:
                    assert client.get_credits() == 5

        def test_fails(apikley_pact):
            _credits(apikley_pact, "a failing query")
            assert False
        """
    )
    stale = consumer.path / "out" / "mine-apikley.json"
    stale.parent.mkdir()
    stale.write_text(
        json.dumps(_document(consumer={"name": "mine"}, interactions=[{"description": "stale"}]))
    )
    consumer.makeconftest(
        "import pytest\n\n@pytest.fixture\ndef apikley_pact_consumer():\n    return 'mine'\n"
    )
    consumer.runpytest_inprocess("-q", "--apikley-pact-dir", "out").assert_outcomes(passed=1, failed=1)
    written = json.loads(stale.read_text(encoding="utf-8"))
    assert written["consumer"] == {"name": "mine"}
    assert [item["description"] for item in written["interactions"]] == ["a passing query"]
    assert not (consumer.path / "pacts").exists()


def test_the_validator_is_pinned_beside_prism() -> None:
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    assert package["devDependencies"]["@pactflow/swagger-mock-validator"] == "14.5.0"
    assert lock["packages"]["node_modules/@pactflow/swagger-mock-validator"]["version"] == "14.5.0"
    assert shutil.which("node") is not None
