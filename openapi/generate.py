"""Regenerate the Python client from the tolerant bundle.

``python openapi/generate.py`` bundles the sources into ``openapi/bundled`` (see ``bundle.py``) and runs
the pinned openapi-python-client into ``generated_client/sora2_characters_api``, replacing it.
``python openapi/generate.py OUTPUT`` generates into ``OUTPUT`` and writes nothing else.
``nox -s generate`` runs the first form; the drift test runs the second and compares.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import bundle

ROOT = bundle.HERE.parent
CONFIG = bundle.HERE / "generator-config.yaml"
DEFAULT_OUTPUT = ROOT / "generated_client" / "sora2_characters_api"


def generate(output: Path = DEFAULT_OUTPUT, *, write_bundles: bool = True) -> None:
    """Bundle the sources, then generate the client package into ``output`` (replacing it).

    With ``write_bundles`` false the bundles are built in a temporary folder, not in ``openapi/bundled``.
    """
    bundles = bundle.build()
    with tempfile.TemporaryDirectory(prefix="sora2-bundle-") as scratch:
        client_bundle = bundle.CLIENT_OUTPUT if write_bundles else Path(scratch) / bundle.CLIENT_OUTPUT.name
        for path, text in bundles.items():
            if write_bundles:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
        if not write_bundles:
            client_bundle.write_text(bundles[bundle.CLIENT_OUTPUT], encoding="utf-8")
        if output.exists():
            shutil.rmtree(output)
        # The post-hooks call ruff: find the one installed beside this interpreter first.
        env = {
            **os.environ,
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        }
        subprocess.run(
            [
                sys.executable, "-m", "openapi_python_client", "generate",
                "--path", str(client_bundle),
                "--config", str(CONFIG),
                "--meta", "none",
                "--output-path", str(output),
                "--fail-on-warning",
            ],
            check=True,
            env=env,
            cwd=output.parent,
        )  # fmt: skip
    (output / "py.typed").write_text("# Marker file for PEP 561\n", encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        generate(Path(sys.argv[1]).resolve(), write_bundles=False)
    else:
        generate()
