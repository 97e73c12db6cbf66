"""Import cost: ``import sora2_characters`` against ``import httpx``, each in fresh interpreters.

``Client`` and ``AsyncClient`` load lazily (``import sora2_characters`` alone does not import
httpx), so four statements are measured: the plain import, ``from sora2_characters import Client``
(what a sync user runs: target at most 1.2x ``import httpx``), ``from sora2_characters import
AsyncClient, Client``, and ``import httpx``. Each repetition runs every statement, and a bare
``pass``, in a fresh interpreter, in rotating order; a statement's cost is the CPU time
(``time.process_time``) the interpreter spends executing it, minus the bare ``pass``'s. CPU time,
not ``-X importtime``'s wall clock: on two shared cores the wall clock also counts the time spent
waiting for a core, which varied the figures several-fold between runs. Separate interpreters check
that neither statement, nor touching every name of ``__all__``, puts the CLI and server extras (or
hachoir, loaded on first inspection) in ``sys.modules``. httpx imports click and rich itself when
they are installed (its optional CLI), so the check counts only what the library adds beyond
``import httpx``; both sets are reported. The timed interpreters hide click, rich and pygments (a
meta-path finder scans ``sys.path`` for them, as a missing module costs, then refuses them), so the
figures are those of a venv without the ``cli`` extra even where the server extra's uvicorn brings
click in (``click_installed``). The sync client must not load the async machinery (asyncio, anyio,
sniffio) nor the generated models (``sora2_characters_api.models``, which loads every model at
once): they come with the first async request and the first request respectively. Every timed
interpreter loads bytecode from one private cache, warmed first (``PYTHONPYCACHEPREFIX``), so the
library loads as compiled as httpx does, as from an installed wheel.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from typing import Any

from ._stats import spread

FORBIDDEN = ("click", "rich", "starlette", "uvicorn", "hachoir")
#: Not loaded by ``from sora2_characters import Client`` (module name prefixes).
SYNC_MUST_NOT_LOAD = ("asyncio", "anyio", "sniffio", "sora2_characters_api.models")
CLIENT_TARGET = 1.2
STATEMENTS = {
    "import sora2_characters": "import sora2_characters",
    "from sora2_characters import Client": "from sora2_characters import Client",
    "from sora2_characters import AsyncClient, Client": "from sora2_characters import AsyncClient, Client",
    "import httpx": "import httpx",
}
#: Where the cost goes: each statement after ``import httpx``, reported as the CPU time beyond it
#: (``steps_beyond_httpx``, a fraction of ``import httpx``, per repetition).
STEPS = {
    "attrs": "import httpx; import attrs",
    "the package": "import httpx; import sora2_characters",
    "_core": "import httpx; import sora2_characters._core",
    "Client": "import httpx; from sora2_characters import Client",
}
BASELINE = "pass"
CHECKS = {
    **{k: v for k, v in STATEMENTS.items() if "sora2" in k},
    "every name of __all__": "import sora2_characters as m; [getattr(m, n) for n in m.__all__]",
}

_CHECK = """
import json, sys
{statement}
forbidden = {forbidden!r}
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in forbidden)))
"""


#: What ``import httpx`` loads for its optional command line when installed; hidden when timing.
HIDDEN_WHEN_TIMING = ("click", "rich", "pygments")
_HIDE = """
import importlib.machinery, sys
class _Hide:
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] not in {hidden!r}:
            return None
        importlib.machinery.PathFinder.find_spec(name, path)
        raise ModuleNotFoundError(name, name=name)
sys.meta_path.insert(0, _Hide())
"""


_TIMED = """
import time
_t0 = time.process_time()
{statement}
print((time.process_time() - _t0) * 1e6)
"""


def _import_us(statement: str, pycache: str, *, write: bool = False) -> float:
    """Microseconds of CPU time spent running ``statement`` in a fresh interpreter.

    Bytecode is read from (and, with ``write``, written to) the private cache ``pycache``
    (``PYTHONPYCACHEPREFIX``), never the source tree: the library and httpx both load compiled, as
    from an installed wheel. Without it, under ``PYTHONDONTWRITEBYTECODE`` (or a read-only checkout),
    every interpreter compiled the library's source while httpx loaded pip's bytecode.
    """
    code = _HIDE.format(hidden=HIDDEN_WHEN_TIMING) + _TIMED.format(statement=statement)
    env = {**os.environ, "PYTHONPYCACHEPREFIX": pycache, "PYTHONDONTWRITEBYTECODE": "1"}
    if write:
        del env["PYTHONDONTWRITEBYTECODE"]
    proc = subprocess.run(  # noqa: S603 - this interpreter, our own statements
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    return float(proc.stdout.strip().splitlines()[-1])


def leaked_modules(statement: str) -> list[str]:
    """The modules of :data:`FORBIDDEN` present after running ``statement``."""
    proc = subprocess.run(  # noqa: S603 - this interpreter, our own statements
        [sys.executable, "-c", _CHECK.format(statement=statement, forbidden=FORBIDDEN)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    leaked: list[str] = json.loads(proc.stdout)
    return leaked


_LOADED = """
import json, sys
from sora2_characters import Client
prefixes = {prefixes!r}
print(json.dumps(sorted({{p for m in sys.modules for p in prefixes if m == p or m.startswith(p + ".")}})))
"""


def sync_client_loads() -> list[str]:
    """Which of :data:`SYNC_MUST_NOT_LOAD` ``from sora2_characters import Client`` loads."""
    proc = subprocess.run(  # noqa: S603 - this interpreter, our own statement
        [sys.executable, "-c", _LOADED.format(prefixes=SYNC_MUST_NOT_LOAD)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded: list[str] = json.loads(proc.stdout)
    return loaded


def _click_installed() -> bool:
    proc = subprocess.run(
        [sys.executable, "-c", "import importlib.util as u; print(u.find_spec('click') is not None)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return proc.stdout.strip() == "True"


def _packages(modules: list[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules})


def run(repetitions: int) -> dict[str, Any]:
    """Measure, interleaved, and return the figures."""
    steps = {f"step: {name}": statement for name, statement in STEPS.items()}
    names = [*STATEMENTS, *steps, BASELINE]
    code = {**STATEMENTS, **steps, BASELINE: BASELINE}
    raw: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="import-cost-pycache-") as pycache:
        for name in names:  # warm the bytecode cache so no repetition pays compilation
            _import_us(code[name], pycache, write=True)
        for rep in range(repetitions):
            shift = rep % len(names)
            for name in names[shift:] + names[:shift]:
                raw[name].append(_import_us(code[name], pycache))
    base = statistics.median(raw[BASELINE])
    net = {name: [max(t - base, 0.0) for t in raw[name]] for name in STATEMENTS}
    httpx_times = net["import httpx"]
    beyond = {
        name: spread(
            [
                (max(t - base, 0.0) - h) / h
                for t, h in zip(raw[f"step: {name}"], httpx_times, strict=True)
                if h > 0
            ]
        )
        for name in STEPS
    }
    # httpx itself imports click, rich and pygments when they are installed (its optional CLI):
    # only what the library adds beyond ``import httpx`` counts against it.
    by_httpx = _packages(leaked_modules("import httpx"))
    seen = {name: _packages(leaked_modules(statement)) for name, statement in CHECKS.items()}
    leaks = {name: sorted(set(found) - set(by_httpx)) for name, found in seen.items()}
    client_ratio = statistics.median(
        a / b for a, b in zip(net["from sora2_characters import Client"], httpx_times, strict=True) if b > 0
    )
    sync_loads = sync_client_loads()
    return {
        "repetitions": repetitions,
        "bare_interpreter_ms": statistics.median(raw[BASELINE]) / 1000,
        "statements": {
            name: {
                "ms": {k: v / 1000 for k, v in spread(times).items()},
                "ratio_to_httpx": spread([a / b for a, b in zip(times, httpx_times, strict=True) if b > 0]),
            }
            for name, times in net.items()
        },
        "steps_beyond_httpx": beyond,
        "forbidden_checked": list(FORBIDDEN),
        "forbidden_imported_by_httpx": by_httpx,
        "forbidden_seen": seen,
        "forbidden_imported": leaks,
        "click_installed": _click_installed(),
        "hidden_when_timing": list(HIDDEN_WHEN_TIMING),
        "sync_client_loads": sync_loads,
        "client_target_ratio": CLIENT_TARGET,
        "target": "click/rich/starlette/uvicorn/hachoir not imported by the library; "
        f"from sora2_characters import Client <= {CLIENT_TARGET}x import httpx, without "
        + ", ".join(SYNC_MUST_NOT_LOAD),
        "met_client_ratio": client_ratio <= CLIENT_TARGET,
        "met_sync_loads": not sync_loads,
        "met": not any(leaks.values()) and client_ratio <= CLIENT_TARGET and not sync_loads,
    }
