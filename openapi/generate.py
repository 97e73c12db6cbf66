"""Regenerate the Python client from the tolerant bundle.

``python openapi/generate.py [OUTPUT]`` bundles the sources (see ``bundle.py``) and runs the pinned
openapi-python-client into ``OUTPUT`` (default ``generated_client/sora2_characters_api``), replacing
it. ``nox -s generate`` runs this; the drift test runs it into a temporary folder and compares.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import bundle

ROOT = bundle.HERE.parent
CONFIG = bundle.HERE / "generator-config.yaml"
DEFAULT_OUTPUT = ROOT / "generated_client" / "sora2_characters_api"


def generate(output: Path = DEFAULT_OUTPUT) -> None:
    """Write both bundles, then generate the client package into ``output`` (replacing it)."""
    if bundle.main([]) != 0:
        raise SystemExit("bundling failed")
    if output.exists():
        shutil.rmtree(output)
    # The post-hooks call ruff: find the one installed beside this interpreter first.
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    subprocess.run(
        [
            sys.executable, "-m", "openapi_python_client", "generate",
            "--path", str(bundle.CLIENT_OUTPUT),
            "--config", str(CONFIG),
            "--meta", "none",
            "--output-path", str(output),
            "--fail-on-warning",
        ],
        check=True,
        env=env,
        cwd=ROOT,
    )  # fmt: skip
    (output / "py.typed").write_text("# Marker file for PEP 561\n", encoding="utf-8")


if __name__ == "__main__":
    generate(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else DEFAULT_OUTPUT)
