"""The teacher's guides' answer keys quote the committed reference run correctly.

Each answer-key row names where its figures come from, as pairs of a cell and a column in
backticks (`short_polling-u100-r0.2-i1` `requests_per_event`); its bold figures are those
values, in the same order, written as the lab writes numbers (lab.formatting). A cell named
without its repeat suffix (-n2, -n3) stands for the median over its repeats.
"""

from __future__ import annotations

import functools
import re
import statistics
from pathlib import Path

import pytest

from lab.formatting import fmt_number, fmt_share
from lab.run_folder import read_run

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "results" / "reference"
GUIDES = [ROOT / "docs" / "teachers-guide.md", ROOT / "docs" / "teachers-guide.ko.md"]
WORKSHEETS = [ROOT / "docs" / "worksheet.md", ROOT / "docs" / "worksheet.ko.md"]
SOURCE = re.compile(r"`([a-z_]+-u\d+[^`]*)` `([a-z_0-9]+)`")
BOLD = re.compile(r"\*\*([^*]+)\*\*")
SHARES = {"empty_share"}


def answer_rows(path: Path) -> list[tuple[str, list[str], list[tuple[str, str]]]]:
    """(question, bold figures, sources) of each answer-key row that names a source."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        sources = [(m[0], m[1]) for m in SOURCE.findall(line)]
        if len(cells) >= 3 and sources:
            rows.append((cells[0], BOLD.findall(cells[1]), sources))
    return rows


@functools.cache
def reference_rows() -> list:
    return read_run(REFERENCE).rows


def reference_value(cell: str, column: str) -> float:
    rows = reference_rows()
    repeats = [
        r for r in rows if r.cell == cell or re.fullmatch(rf"{re.escape(cell)}-n\d+", r.cell)
    ]
    assert repeats, f"no cell {cell} in the reference run"
    values = [r.get(column) for r in repeats]
    assert all(v is not None for v in values), f"{cell} has no {column}"
    return statistics.median_low(values)


def written(column: str, value: float) -> str:
    return fmt_share(value) if column in SHARES else fmt_number(value)


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_every_figure_in_the_answer_key_is_the_reference_run_s(guide):
    rows = answer_rows(guide)
    assert len(rows) >= 10, f"{guide.name} has too few answers that name their source"
    for question, figures, sources in rows:
        assert len(figures) == len(sources), f"{question}: {figures} against {sources}"
        for figure, (cell, column) in zip(figures, sources, strict=True):
            expected = written(column, reference_value(cell, column))
            assert figure == expected, f"{question}: {figure} should be {expected}"


@pytest.mark.parametrize(("guide", "worksheet"), list(zip(GUIDES, WORKSHEETS, strict=True)))
def test_every_worksheet_question_has_an_answer(guide, worksheet):
    questions = re.findall(r"^\*\*([A-G]\d)\.\*\*", worksheet.read_text(encoding="utf-8"), re.M)
    answered = {q for q, _f, _s in answer_rows(guide)} | set(
        re.findall(r"^\| ([A-G]\d) \|", guide.read_text(encoding="utf-8"), re.M)
    )
    assert questions, f"{worksheet.name} has no numbered questions"
    assert set(questions) <= answered, sorted(set(questions) - answered)


def test_the_readme_quotes_every_nginx_profile_as_the_lab_writes_it():
    from lab.proxy.profiles import PROFILES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for profile in PROFILES.values():
        for line in profile.location.splitlines():
            assert line in readme, f"the README does not quote {profile.name}'s line {line!r}"
