"""The suite's own layout: contract_tests/README.md lists every test file, and the slow-first order
(conftest's ``SLOWEST_FILES``, which nox's xdist workers follow) names files that exist.
"""

from __future__ import annotations

import re
from pathlib import Path

from contract_tests.conftest import SLOWEST_FILES

HERE = Path(__file__).resolve().parent
TEST_FILES = {path.name for path in HERE.glob("test_*.py")}


def test_the_readme_lists_every_test_file_and_no_other() -> None:
    listed = set(
        re.findall(r"^\| `(test_\w+\.py)` \|", (HERE / "README.md").read_text(encoding="utf-8"), re.M)
    )

    assert listed == TEST_FILES


def test_the_slowest_files_exist_and_are_named_once() -> None:
    assert set(SLOWEST_FILES) <= TEST_FILES
    assert len(set(SLOWEST_FILES)) == len(SLOWEST_FILES)
