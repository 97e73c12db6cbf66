"""Speed and memory measurements of the SDK, each against its baseline in the same run.

Run ``python -m benchmarks.run`` (or ``nox -s bench``); ``--quick`` runs tiny counts (used by the smoke
test). The run prints a plain table and writes ``benchmarks/results.json``.
"""
