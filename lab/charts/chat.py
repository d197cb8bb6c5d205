"""How a chat answer feels over each transport (13) and what it costs (14): the cells of
`lab bench --chat`, against users.

13: time to first token, each token's delay (its receipt minus the moment the model made
it) and the gap between two tokens reaching the user, medians solid and p99 dashed, with
the theory of the model's known timing (lab.theory.chat_answer). 14: HTTP requests per
answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from lab.cell_selection import Point, points
from lab.cell_summary import CellSummary
from lab.charts.marks import flag_handles, plot_measured, plot_theory, spread_handles
from lab.charts.style import (
    LABEL_PT,
    MUTED,
    TRANSPORT_COLORS,
    WIDE_FIGSIZE,
    MissingData,
    legend_below,
    log_if_wide,
    new_figure,
    style_axes,
    theory_handle,
    titles,
    transport_handles,
    users_axis,
)
from lab.formatting import fmt_ms, fmt_number, fmt_seconds, join
from lab.names import TRANSPORTS, transport_label
from lab.run_folder import Run


def chat_series(rows: Sequence[CellSummary], column: str) -> dict[str, list[Point]]:
    """Each transport's points of `column` against users (repeats collapsed)."""
    found = {
        t: points([r for r in rows if r.transport == t], lambda r: r.users, column)
        for t in TRANSPORTS
    }
    return {t: p for t, p in found.items() if p}


def largest(series: dict[str, list[Point]]) -> dict[str, Point]:
    """Each transport's point at its largest user count."""
    return {t: max(p, key=lambda point: point.x) for t, p in series.items()}


def _need_chat(run: Run) -> list[CellSummary]:
    if not run.chat:
        raise MissingData("no chat cell in this run (lab bench --chat)")
    return run.chat


PANELS = (
    # (columns' prefix, title, theory column, logarithmic when values are far apart)
    ("ttft", "time to first token (ms)", "theory_ttft_ms", True),
    ("latency", "each token's delay (ms)", "theory_latency_mean_ms", True),
    # Linear: a gap of 0 (tokens in one read) is what this panel is there to show.
    ("gap", "gap between tokens (ms)", None, False),
)


def figure_chat_latency(run: Run) -> Figure:
    rows = _need_chat(run)
    fig = new_figure((WIDE_FIGSIZE[0] + 2, WIDE_FIGSIZE[1] + 0.5))
    axes = fig.subplots(1, 3)
    shown: set[str] = set()
    every: list[Point] = []
    for ax, (prefix, label, theory_column, may_log) in zip(axes, PANELS, strict=True):
        style_axes(ax)
        median = chat_series(rows, f"{prefix}_p50_ms")
        tail = chat_series(rows, f"{prefix}_p99_ms")
        values = [p.y for s in (median, tail) for ps in s.values() for p in ps]
        log_y = may_log and log_if_wide(ax, values)
        for transport, series in median.items():
            shown.add(transport)
            every += series
            plot_measured(ax, transport, series, log_y=log_y, annotate=False)
            plot_measured(
                ax, transport, tail.get(transport, []), log_y=log_y, linestyle="--",
                marker="^", annotate=False,
            )  # fmt: skip
            if theory_column:
                plot_theory(ax, transport, [(p.x, p.row.get(theory_column)) for p in series], log_y)
        users_axis(ax, [p.row.users for p in every])
        ax.set_xlabel(ax.get_xlabel().replace("simulated ", ""), fontsize=LABEL_PT)
        ax.set_title(label + (", log scale" if log_y else ""), fontsize=LABEL_PT)
    if not shown:
        raise MissingData("no chat cell has a time to first token")
    ttft = largest(chat_series(rows, "ttft_p50_ms"))
    model = next(iter(ttft.values())).row.model_first_token_ms or 0
    parts = [f"{fmt_ms(p.y)} over {transport_label(t)}" for t, p in ttft.items()]
    titles(
        fig,
        f"The model makes its first token in {fmt_ms(model)}; users had it after "
        + join(parts)
        + f" (median, {max(p.x for p in ttft.values()):,.0f} users)",
    )
    styles = [
        _line_handle("median", "-", "o"),
        _line_handle("p99", "--", "^"),
        theory_handle("theory (from the model's timing)"),
    ]
    legend_below(
        fig,
        transport_handles(t for t in TRANSPORTS if t in shown),
        styles,
        flag_handles(p.row for p in every) + spread_handles(every),
    )
    return fig


def _line_handle(label: str, linestyle: str, marker: str) -> Line2D:
    return Line2D([], [], color=MUTED, ls=linestyle, marker=marker, ms=8, lw=2.2, label=label)


def figure_chat_requests(run: Run) -> Figure:
    rows = _need_chat(run)
    series = chat_series(rows, "requests_per_answer")
    if not series:
        raise MissingData("no chat cell counted its requests per answer")
    fig = new_figure()
    ax = fig.add_subplot()
    style_axes(ax)
    all_points = [p for ps in series.values() for p in ps]
    log_y = log_if_wide(ax, [p.y for p in all_points], ratio=8)
    for transport, found in series.items():
        plot_measured(ax, transport, found, log_y=log_y)
        plot_theory(ax, transport, [(p.x, p.row.theory_requests_per_answer) for p in found], log_y)
        last = found[-1]
        ax.annotate(
            fmt_number(last.y),
            (last.x, last.y),
            xytext=(10, 0),
            textcoords="offset points",
            va="center",
            fontsize=LABEL_PT,
            color=TRANSPORT_COLORS[transport],
        )
    users_axis(ax, [p.row.users for p in all_points])
    ax.set_ylabel("HTTP requests per answer" + (" (log scale)" if log_y else ""), fontsize=LABEL_PT)
    at = largest(series)
    interval = next((p.row.interval_s for t, p in at.items() if t == "short_polling"), None)
    parts = [f"{transport_label(t)} {fmt_number(p.y)}" for t, p in at.items()]
    subtitle = (
        "One answer is the question plus every poll for its tokens. Long polling asks once "
        "per token (each comes long after a round trip)"
        + (
            f"; short polling once every {fmt_seconds(interval)} while the answer lasts"
            if interval
            else ""
        )
        + "."
    )
    titles(fig, "Requests per answer: " + ", ".join(parts), subtitle, ax)
    legend_below(
        fig,
        transport_handles(series),
        [theory_handle()],
        flag_handles(p.row for p in all_points) + spread_handles(all_points),
    )
    return fig
