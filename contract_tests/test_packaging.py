"""The distribution: one wheel carrying both typed packages, the spec, the script and the plugin."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from contract_tests.support import ROOT, STRICT_BUNDLE
from sora2_characters._version import __version__


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("sora2_characters-*.whl")
    return built


def test_wheel_ships_both_typed_packages_and_the_spec(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "sora2_characters/__init__.py" in names
    assert "sora2_characters/py.typed" in names
    assert "sora2_characters_api/__init__.py" in names
    assert "sora2_characters_api/py.typed" in names
    assert "sora2_characters_api/api/default/sora_2_characters.py" in names
    assert zipfile.ZipFile(wheel).read("sora2_characters/openapi.json") == STRICT_BUNDLE.read_bytes()
    assert not [
        name for name in names if "__pycache__" in name or name.startswith(("contract_tests", "openapi/"))
    ]


def test_wheel_metadata_declares_the_script_the_plugin_and_small_runtime_deps(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    info = next(name for name in archive.namelist() if name.endswith(".dist-info/entry_points.txt"))
    entry_points = archive.read(info).decode()
    assert "sora2-characters = sora2_characters._cli:main" in entry_points
    assert "sora2_characters = sora2_characters.pytest_plugin" in entry_points
    metadata = archive.read(info.replace("entry_points.txt", "METADATA")).decode()
    runtime = [
        line.split(":", 1)[1].strip().split(">")[0].split("<")[0].split("=")[0].strip()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    assert sorted(runtime) == ["attrs", "hachoir", "httpx", "sniffio"]  # sniffio: httpcore's async locks
    assert "Requires-Python: >=3.11" in metadata
    assert "Requires-Dist: attrs>=23.2" in metadata  # cached_property on slotted attrs classes


def test_wheel_version_is_the_one_in_version_py(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    info = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
    metadata = archive.read(info).decode()
    assert f"\nVersion: {__version__}\n" in metadata
    assert __version__ == "0.1.0"
    assert wheel.name.startswith(f"sora2_characters-{__version__}-")


def test_packages_import_from_the_installed_wheel_alone(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(site)  # what an installer lays out
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import sora2_characters, sora2_characters_api, sora2_characters._spec as s;"
        "assert sora2_characters.__file__.startswith(sys.argv[1]), sora2_characters.__file__;"
        "assert sora2_characters_api.__file__.startswith(sys.argv[1]);"
        "print(s.load_spec()['info']['title'])"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code, str(site)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Apikley sora-2-characters API"
