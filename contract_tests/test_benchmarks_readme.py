"""The README's performance table is what ``python -m benchmarks.readme`` renders from the committed results.

The figures themselves are never asserted (they are measurements); only that the table was
regenerated from ``benchmarks/results.json`` rather than typed, and that the file is a real run.
"""

from __future__ import annotations

import json

import pytest

from benchmarks import readme
from benchmarks.report import ROW_MAKERS


def test_the_readme_table_is_rendered_from_the_committed_results() -> None:
    assert readme.table_in(readme.README.read_text()) == readme.render()
    assert readme.main(["--check"]) == 0


def test_the_committed_results_are_a_full_run_with_their_commands() -> None:
    report = json.loads(readme.RESULTS.read_text())
    assert report["results"], "benchmarks/results.json holds no benchmark"
    for name in report["results"]:
        assert name in ROW_MAKERS
        run = report["runs"][name]
        assert run["quick"] is False
        assert run["command"].startswith("python -m benchmarks.run")


def test_a_stale_table_is_detected_and_rewritten() -> None:
    fresh = readme.README.read_text()
    stale = readme.rewrite(fresh, "| an old | table |\n")
    assert readme.table_in(stale) == "| an old | table |\n"
    assert readme.rewrite(stale, readme.render()) == fresh


def test_missing_markers_are_an_error() -> None:
    with pytest.raises(ValueError, match="substring not found"):
        readme.table_in("# a README without the markers\n")
