"""The comparison notebook runs headless against a run folder, and its .py twin is in sync.

The run: results/reference when it is there (committed with the lab), else the small fixture
run, named through LAB_RUN. Under CI (tests/ci.py) a missing kernel or package fails the test;
elsewhere it skips.
"""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

import pytest
from ci import unavailable

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK = NOTEBOOKS / "comparison.ipynb"
TWIN = NOTEBOOKS / "comparison.py"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "run_small"
CELL_TIMEOUT_S = 120
KERNEL = "python3"


def _unavailable(reason: str) -> None:
    unavailable(reason, "CI must run the notebook: pip install -e '.[test]'")


def _need(module: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        _unavailable(f"{module} is not installed")


def _run_dir() -> Path:
    # The small fixture run, whose verdicts are worked out by hand in tests/test_report.py.
    return FIXTURE


def test_the_notebook_and_its_py_twin_are_in_sync():
    jupytext = _need("jupytext")
    notebook = jupytext.read(NOTEBOOK)
    twin = jupytext.reads(TWIN.read_text(encoding="utf-8"), fmt="py:percent")
    assert [(c.cell_type, c.source) for c in notebook.cells] == [
        (c.cell_type, c.source) for c in twin.cells
    ], "run: jupytext --sync notebooks/comparison.py"


def test_the_committed_notebook_carries_its_outputs_from_the_reference_run():
    """Students read it on a repository's web page without running it: every code cell has
    run, without an error, against results/reference."""
    nbformat = _need("nbformat")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), "run it top to bottom, then commit it"
    errors = [o for c in code for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
    assert "Run: results/reference (" in _texts(notebook)
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 10


@pytest.fixture(scope="module")
def executed():
    nbformat = _need("nbformat")
    nbclient = _need("nbclient")
    _need("ipykernel")
    from jupyter_client.kernelspec import NoSuchKernel

    run_dir = _run_dir()
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    saved = os.environ.get("LAB_RUN")
    os.environ["LAB_RUN"] = str(run_dir)  # the kernel inherits the environment
    try:
        client.execute()
    except NoSuchKernel:
        _unavailable(f"no Jupyter kernel named {KERNEL!r}")
    finally:
        if saved is None:
            os.environ.pop("LAB_RUN", None)
        else:
            os.environ["LAB_RUN"] = saved
    return run_dir, notebook


def _texts(notebook) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            data = output.get("data", {})
            parts.append(data.get("text/markdown", ""))
    return "\n".join(parts)


def test_the_notebook_runs_headless_against_a_run(executed):
    run_dir, notebook = executed
    errors = [
        o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert not errors
    text = _texts(notebook)
    assert f"({run_dir.name}" in text or run_dir.name in text
    assert "| transport | users |" in text


def test_the_notebook_shows_the_charts_and_the_verdicts(executed):
    from lab import charts

    run_dir, notebook = executed
    images = [
        o for c in notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    ]
    not_drawn = _texts(notebook).count("is not drawn for this run")
    assert images and len(images) + not_drawn == len(charts.CHARTS)
    text = _texts(notebook)
    verdicts = re.findall(r"verdict: \*\*(.+?)\*\*", text)
    # Worked out by hand from tests/fixtures/run_small (see tests/test_report.py).
    assert verdicts == [
        "not measured in this run",
        "holds",
        "does not hold",
        "does not hold",
        "holds",
        "holds",
    ]
