"""Take a new version of a spec source: ``nox -s update-spec -- NEW_SPEC [--source NAME] [--dry-run]``.

1. Validates NEW_SPEC (openapi-spec-validator), in a scratch copy of ``openapi/`` so that its
   references to the other sources (``common.json#/...``) resolve as they will in place.
2. Bundles the scratch copy and prints the classified diff of the strict bundle, before -> after
   (``spec_diff.py``: the bundle is what Prism and consumers see, and it resolves every reference).
3. Replaces ``openapi/NAME`` (default: the seed, ``sora-2-characters.json``; a new name adds a
   sibling model), rebundles and regenerates the client (``generate.py``).
4. Prints what the wrapper must follow (``wrapper_coverage.py``): request properties no public
   method can set, response properties no public model attribute carries.

``--dry-run`` stops after printing, replacing nothing (the wrapper check then reads the scratch
bundles). Exit status: 0 done and nothing to follow; 1 done (or dry run) but the diff breaks
consumers or the wrapper must follow something; 2 nothing done (invalid spec, cannot bundle or compare).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import spec_diff
import wrapper_coverage

import bundle

EXIT_DONE, EXIT_ATTENTION, EXIT_NOTHING_DONE = 0, 1, 2


def _fail(message: str) -> int:
    print(f"update-spec: nothing changed: {message}", file=sys.stderr)
    return EXIT_NOTHING_DONE


def _validate(path: Path) -> None:
    from openapi_spec_validator import validate  # noqa: PLC0415 (the spec group installs it)
    from openapi_spec_validator.readers import read_from_filename  # noqa: PLC0415

    spec, base_uri = read_from_filename(str(path))
    validate(spec, base_uri=base_uri)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the update; return the exit status."""
    parser = argparse.ArgumentParser(prog="update_spec.py", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("new_spec", type=Path, help="the new version of the source (JSON)")
    parser.add_argument("--source", default=bundle.SEED, help="the source file it replaces or adds")
    parser.add_argument("--dry-run", action="store_true", help="print the reports, replace nothing")
    args = parser.parse_args(argv)
    name: str = args.source
    if Path(name).name != name or not name.endswith(".json") or name == bundle.LIVE_SOURCE:
        return _fail(f"--source must be a spec file name in openapi/ (like {bundle.SEED}), not {name!r}")
    if not args.new_spec.is_file():
        return _fail(f"{args.new_spec}: no such file")
    with tempfile.TemporaryDirectory(prefix="update-spec-") as scratch_name:
        scratch = Path(scratch_name)
        for source in bundle.HERE.glob("*.json"):
            shutil.copy(source, scratch / source.name)
        shutil.copy(args.new_spec, scratch / name)
        try:
            _validate(scratch / name)
        except Exception as exc:  # noqa: BLE001 (the validator raises several unrelated classes)
            return _fail(f"{args.new_spec} is not a valid OpenAPI document: {str(exc)[:500]}")
        try:
            outputs = bundle.build(scratch)
        except (bundle.BundleError, KeyError, ValueError) as exc:
            return _fail(f"the sources do not bundle with it: {exc}")
        bundled = {path.name: scratch / f"new-{path.name}" for path in outputs}
        for path, text in outputs.items():
            bundled[path.name].write_text(text, encoding="utf-8")
        print(f"== the change, as the strict bundle sees it ({bundle.STRICT_OUTPUT.name}, before -> after)")
        try:
            changes = spec_diff.compare(bundle.STRICT_OUTPUT, bundled[bundle.STRICT_OUTPUT.name])
        except spec_diff.CannotCompareError as exc:
            return _fail(f"cannot compare: {exc}")
        for line in spec_diff.report(changes):
            print(line)
        if args.dry_run:
            checked = [bundled[bundle.STRICT_OUTPUT.name], bundled[bundle.LIVE_OUTPUT.name]]
            findings = [finding for path in checked for finding in wrapper_coverage.check(path)]
        else:
            shutil.copy(args.new_spec, bundle.HERE / name)
            print(f"== replaced openapi/{name}; rebundling and regenerating the client")
            import generate  # noqa: PLC0415 (needs the generate group; a dry run does not)

            generate.generate()
            checked = [bundle.STRICT_OUTPUT, bundle.LIVE_OUTPUT]
            findings = [finding for path in checked for finding in wrapper_coverage.check(path)]
    print("== what the wrapper must follow")
    for finding in findings:
        print(f"wrapper must follow: {finding}")
    if not findings:
        print("nothing: the wrapper follows every request and response property (or leaves it on purpose)")
    breaking = any(change.breaking for change in changes)
    return EXIT_ATTENTION if breaking or findings else EXIT_DONE


if __name__ == "__main__":
    raise SystemExit(main())
