"""The package's shape: no import circles, small modules, and every transport in every layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lab.names import TRANSPORT_PATHS, TRANSPORTS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lab"
LONGEST_MODULE = 400
"""Lines. About 300 is the aim; the theory (one model per transport) is allowed more."""


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """The lab modules a module imports (at any depth in its code)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lab"):
            for name in (node.module, *(f"{node.module}.{a.name}" for a in node.names)):
                if name in known:
                    found.add(name)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
    return found


def test_no_import_circles():
    known = modules()
    graph = {name: imports_of(path, known) - {name} for name, path in known.items()}
    # A package's __init__ may gather its own modules; that is not a circle back up.
    for name in graph:
        graph[name] = {t for t in graph[name] if not (name.startswith(t + "."))}
    visiting, done, circles = set(), set(), []

    def visit(name: str, trail: list[str]) -> None:
        visiting.add(name)
        for target in sorted(graph[name]):
            if target in visiting:
                circles.append([*trail[trail.index(target) :], target])
            elif target not in done:
                visit(target, [*trail, target])
        visiting.discard(name)
        done.add(name)

    for name in sorted(graph):
        if name not in done:
            visit(name, [name])
    assert circles == []


@pytest.mark.parametrize("name", sorted(modules()))
def test_modules_stay_small(name):
    lines = len(modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= LONGEST_MODULE, f"{name} has {lines} lines: split it along its concepts"


PAGE_PANELS = {
    "short_polling": "short_polling.js",
    "long_polling": "long_polling.js",
    "sse": "server_sent_events.js",
    "websocket": "websocket.js",
}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_transport_has_a_module_in_every_layer(transport):
    """Adding a transport means one module (or entry) per layer; this lists the layers."""
    from lab import theory
    from lab.charts.style import TRANSPORT_COLORS
    from lab.metrics import TRANSPORT_BY_PATH

    assert (PACKAGE / "transports" / f"{transport}.py").is_file(), "the server's blueprint"
    assert TRANSPORT_BY_PATH[TRANSPORT_PATHS[transport]] == transport, "socket counters"
    assert (ROOT / "scenarios" / f"{transport}.py").is_file(), "the Locust scenario"
    assert theory.predict.__module__ and transport in theory.MODELS, "the theory"
    assert transport in TRANSPORT_COLORS, "the charts' colour"
    assert (PACKAGE / "static" / "js" / PAGE_PANELS[transport]).is_file(), "the page's panel"
