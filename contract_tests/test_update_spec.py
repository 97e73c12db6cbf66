"""``openapi/update_spec.py`` (``nox -s update-spec``): a new spec is validated, diffed and checked
against the wrapper before anything is replaced; a bad one changes nothing.

Only dry runs here: a real run rewrites ``openapi/`` and ``generated_client/`` (the drift tests
prove those match the sources).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from contract_tests.support import OPENAPI

SCRIPT = OPENAPI / "update_spec.py"


def _snapshot() -> dict[str, str]:
    files = sorted(OPENAPI.glob("*.json")) + sorted((OPENAPI / "bundled").glob("*.json"))
    return {path.name: path.read_text(encoding="utf-8") for path in files}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=900, check=False
    )


def test_an_invalid_spec_changes_nothing(tmp_path: Path) -> None:
    seed = json.loads((OPENAPI / "sora-2-characters.json").read_text(encoding="utf-8"))
    del seed["paths"]["/api/v1/jobs/createTask"]["post"]["responses"]
    new = tmp_path / "sora-2-characters.json"
    new.write_text(json.dumps(seed), encoding="utf-8")
    before = _snapshot()
    completed = _run(str(new))
    assert completed.returncode == 2
    assert "nothing changed" in completed.stderr
    assert "not a valid OpenAPI document" in completed.stderr
    assert _snapshot() == before


def test_a_source_name_outside_openapi_is_refused(tmp_path: Path) -> None:
    completed = _run(str(OPENAPI / "common.json"), "--source", "../pyproject.json")
    assert completed.returncode == 2
    assert "--source must be a spec file name" in completed.stderr
    completed = _run(str(tmp_path / "missing.json"))
    assert completed.returncode == 2
    assert "no such file" in completed.stderr


def test_a_dry_run_reports_the_diff_and_what_the_wrapper_must_follow(tmp_path: Path) -> None:
    seed = json.loads((OPENAPI / "sora-2-characters.json").read_text(encoding="utf-8"))
    body = seed["paths"]["/api/v1/jobs/createTask"]["post"]["requestBody"]["content"]["application/json"]
    body["schema"]["properties"]["input"]["properties"]["aspect_ratio"] = {"type": "string"}
    new = tmp_path / "sora-2-characters.json"
    new.write_text(json.dumps(seed, indent=2), encoding="utf-8")
    before = _snapshot()
    completed = _run(str(new), "--dry-run")
    assert completed.returncode == 1, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert any(line.startswith("compatible") and line.endswith("input.aspect_ratio: added") for line in lines)
    assert "verdict: compatible (1 changes, none breaks consumers)" in lines
    assert (
        "wrapper must follow: new-apikley.json: POST /api/v1/jobs/createTask request input.aspect_ratio: "
        "no public method can set it"
    ) in lines
    assert _snapshot() == before
