# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Short polling, long polling and SSE, side by side
#
# This notebook reads one run of `lab bench`, a folder `results/<run-id>/`, and walks through
# what it measured: how late each transport delivers an event, and what each delivery costs
# in requests, bytes and server CPU. Every number comes from the run's `summary.csv` (and
# `events.csv` for the distributions); nothing below is typed in by hand.
#
# **Which run?** Set `RUN` in the next code cell to a run folder (relative to the repository,
# e.g. `"results/2025-11-22T19-23-00"`), or leave it `None`: then the environment variable
# `LAB_RUN` is used if it is set, else `results/latest` (your newest run), else
# `results/reference` (the run that comes with the lab).

# %%
import io
import os
import sys
from pathlib import Path

from IPython.display import Image, Markdown, display

# %% tags=["parameters"]
RUN = None

# %%
MARKERS = ("pyproject.toml", "lab/run_folder.py")


def find_root() -> Path:
    """The repository root: the nearest folder, from the working directory (Jupyter starts in
    the notebook's folder) or from the installed `lab` package upwards, with pyproject.toml
    and lab/run_folder.py."""
    starts = [Path.cwd().resolve()]
    try:
        import lab

        starts.append(Path(lab.__file__).resolve().parent)
    except ImportError:
        pass
    for start in starts:
        for folder in (start, *start.parents):
            if all((folder / marker).is_file() for marker in MARKERS):
                return folder
    raise FileNotFoundError("cannot find the lab's repository above " + str(Path.cwd()))


ROOT = find_root()
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lab import charts, claims, report  # noqa: E402
from lab.run_folder import read_run  # noqa: E402
from lab.summary_table import summary_table  # noqa: E402


def choose_run(run: str | os.PathLike | None) -> Path:
    """The run folder to read: `run`, else $LAB_RUN, else results/latest, else
    results/reference. A relative path is taken from the repository root first, then from
    the working directory."""
    if run is None:
        run = os.environ.get("LAB_RUN") or None
    if run is not None:
        path = Path(run).expanduser()
        candidates = [path] if path.is_absolute() else [ROOT / path, Path.cwd() / path]
        for candidate in candidates:
            if (candidate / "summary.csv").is_file():
                return candidate
        raise FileNotFoundError(f"{run} is not a run folder: it has no summary.csv")
    for name in ("latest", "reference"):
        candidate = ROOT / "results" / name
        if (candidate / "summary.csv").is_file():
            return candidate
    raise FileNotFoundError(
        "no run found in results/latest or results/reference: run "
        "`lab bench` (or `lab bench --quick`) first, or set RUN"
    )


RUN_DIR = choose_run(RUN)
run = read_run(RUN_DIR)
manifest = run.manifest

try:
    shown = RUN_DIR.resolve().relative_to(ROOT)
except ValueError:
    shown = RUN_DIR
print(f"Run: {shown} ({len(run.rows)} cells)")
if manifest:
    machine = manifest.get("machine", {})
    print(
        f"Started {manifest.get('started', '?')} on {machine.get('cores', '?')} cores "
        f"({machine.get('cpu', '?')})"
    )
    if manifest.get("parameters", {}).get("quick"):
        print("This is a --quick smoke run: few users and short windows.")

# %% [markdown]
# ## The three transports
#
# All three serve the same events from one server; only the way they reach the browser
# differs.
#
# - **Short polling** (`/poll`): every client asks "anything new since event N?" every *T*
#   seconds, and gets an answer at once, empty or not. It is the simplest to build, but an
#   event waits for the next poll (on average *T*/2), and the server answers
#   users ÷ *T* requests a second whether anything happened or not.
# - **Long polling** (`/longpoll`): the client asks the same question, but the server holds
#   the request open until there is news (or a timeout passes), answers, and the client asks
#   again at once. Events arrive almost as soon as they are published, at the price of about
#   one full HTTP request and response per event per client.
# - **Server-Sent Events** (`/sse`): the client opens one HTTP response that never ends, and
#   the server writes each event into it as a few lines of text (`id:`, `event:`, `data:`).
#   There is one request per client for the whole session, and a few dozen bytes of framing
#   per event.

# %% [markdown]
# ## The summary table
#
# One row per cell (a transport at a user count), straight from `summary.csv`, rounded for
# reading. *Per event* means per delivery: one event reaching one user. Flagged cells
# (⚠) cannot be taken at face value: the list under the table says why.

# %%
display(Markdown(summary_table(run.rows)))
flagged = {row.cell: row.verdict.problems() for row in run.rows if not row.verdict.ok}
if flagged:
    print("PROBLEMS: these cells cannot be taken at face value:")
    for cell, problems in flagged.items():
        print(f"  {cell}: {'; '.join(problems)}")
else:
    print("No cell lost or repeated an event, hit an error or saturated its load generator.")

# %% [markdown]
# ## The charts
#
# Each chart is drawn by `lab.charts`, the same code that writes `charts/*.png` for the
# report. Its title states what the run shows; the line under it says what to look at.


# %%
def show(name: str) -> None:
    """Draw one chart of the run inline, with what to look at."""
    chart = next(c for c in charts.CHARTS if c.name == name)
    try:
        figure = chart.figure(run)
    except charts.MissingData as missing:
        print(f"Chart {name} is not drawn for this run: {missing}")
        return
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, facecolor="white")
    display(Image(data=buffer.getvalue()))
    display(Markdown("*" + report.CHART_NOTES.get(name, chart.what) + "*"))


# %% [markdown]
# ### How late does each transport deliver?
#
# Before you look: which transport's delay should depend on the poll interval, and which on
# the load?

# %%
show("01_latency_vs_users")

# %%
show("02_latency_cdf")

# %% [markdown]
# ### What does each delivery cost?
#
# Requests per second, bytes on the wire and server CPU, per delivered event.

# %%
show("03_requests_vs_users")

# %%
show("04_bytes_per_event")

# %%
show("05_server_cpu_per_event")

# %% [markdown]
# ### How many polls were for nothing?

# %%
show("06_empty_polls")

# %% [markdown]
# ### Does it hold steady?

# %%
show("07_latency_over_time")

# %% [markdown]
# ## Claims checked
#
# The lab's source notes make six claims about these transports. Here they are checked
# against this run by `lab.claims`, the same functions that write the report's "Claims
# checked" section. A verdict is `holds`, `does not hold`, `depends on …` (true at some user
# counts, not at others) or `not measured in this run`. Read the numbers, not just the
# verdict: do you agree with the thresholds?

# %%
for verdict in claims.check_claims(run.rows):
    display(
        Markdown(
            f"**{verdict.number}. “{verdict.claim}”** — verdict: "
            f"**{verdict.verdict}**\n\n{verdict.explanation}"
        )
    )

# %% [markdown]
# ## Exercises
#
# Write your prediction down *before* you run anything, then compare. Every command writes a
# new run folder and points `results/latest` at it: re-run this notebook to see it.
#
# 1. **Requests at scale.** Predict the requests per second of short polling every 1 s at
#    5,000 users. Then run `lab bench --transports short_polling --users 5000
#    --interval-sweep` and compare. If the cell is flagged client-bound, what does that tell
#    you about the number?
# 2. **Empty polls.** With Poisson arrivals, predict the share of empty polls at *T* = 2 s and
#    1 event/s (hint: the chance of no event in an interval is e^(−rate × *T*), here e^(−2)).
#    Then run `lab bench --transports short_polling --users 100 --arrivals poisson
#    --interval 2 --interval-sweep` and find `empty_share` in the table.
# 3. **Long polling at a high rate.** Run `lab bench --transports long_polling --users 100
#    --rate 20 --interval-sweep`. Why does long polling's request count exceed the number of
#    events the source published? Now look at requests per *delivery*: is it above or below
#    1, and why? (Think of timeouts, and of events that arrive while a client is between two
#    requests.)
# 4. **SSE's limit.** Find the user count at which SSE's p99 passes 100 ms on your machine,
#    e.g. with `lab bench --transports sse --users 500 1000 2000 4000 --interval-sweep`. Is
#    it the server or the load generator that runs out first? (Check the client CPU column.)
# 5. **Claim 1 yourself.** If the claims above say "not measured in this run", run the
#    missing cells (`lab bench --transports short_polling --users 100 --interval 5
#    --interval-sweep`) and check the verdict with `lab report`.
