"""The shape of ``sora2_characters.testing``: a facade over ``_fake``, whose rules hold in the code.

Two rules a newcomer relies on are checked from the source, so a change that breaks them fails here:
only ``_fake/state.py`` takes the state's lock, and no internal name equals a public one while
meaning something else.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import sora2_characters
from sora2_characters import testing, webhooks

PACKAGE = Path(sora2_characters.__file__).resolve().parent
PUBLIC_MODULES = ("sora2_characters", "sora2_characters.testing", "sora2_characters.webhooks")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _defined_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_no_internal_name_equals_a_public_one_with_another_meaning() -> None:
    public: dict[str, list[object]] = {}
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for exported in module.__all__:
            public.setdefault(exported, []).append(getattr(module, exported))
    clashes = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module_name = _module_name(path)
        if module_name.endswith("__main__"):
            continue  # running it would start a command line; its names are checked by hand below
        for name in _defined_names(ast.parse(path.read_text(encoding="utf-8"))) & public.keys():
            own = getattr(importlib.import_module(module_name), name)
            if any(own is not exported for exported in public[name]):
                clashes.append(f"{module_name}.{name}")
    assert clashes == []
    assert not {"build_parser", "fake_from_args", "main"} & set(testing.__all__)


def test_names_that_used_to_clash_are_gone_or_distinct() -> None:
    assert not hasattr(testing, "UploadedFile")  # the client's model keeps the name
    assert "UploadedFile" not in testing.__all__
    assert not hasattr(importlib.import_module("sora2_characters._fake.state"), "TaskState")
    assert not hasattr(importlib.import_module("sora2_characters._fake.state"), "Settings")
    assert not hasattr(importlib.import_module("sora2_characters._fake.app"), "UPLOAD_PREFIX")
    assert webhooks.__all__  # the webhook names were part of the comparison above


def test_only_the_state_module_touches_the_state_lock() -> None:
    offenders = []
    for path in sorted((PACKAGE / "_fake").glob("*.py")) + sorted((PACKAGE / "testing").glob("*.py")):
        if path.name == "state.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in {"lock", "_lock", "_tasks", "_files"}:
                value = node.value
                owner = value.attr if isinstance(value, ast.Attribute) else getattr(value, "id", "")
                if "state" in owner:
                    offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_the_module_command_line_still_starts() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sora2_characters.testing", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "python -m sora2_characters.testing" in result.stdout
    assert "--port" in result.stdout
