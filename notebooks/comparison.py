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
# ### What does each delivery cost?
#
# Before you look: a short poll asks on a clock, a long poll waits for news, an SSE stream
# stays open. Which of them should cost more requests per event when events are rare, and
# which when they are frequent?

# %%
show("01_requests_per_event")

# %%
show("02_bytes_vs_rate")

# %%
show("03_server_cpu_vs_rate")

# %% [markdown]
# ### How late does each transport deliver?
#
# Before you look: which transport's delay should depend on the poll interval, which on the
# load, and which on the network?

# %%
show("04_latency_vs_users")

# %%
show("05_latency_cdf")

# %%
show("06_latency_vs_rtt")

# %% [markdown]
# ### As users grow, and where the bytes go

# %%
show("07_requests_vs_users")

# %%
show("08_bytes_per_event")

# %% [markdown]
# ### How many polls were for nothing?

# %%
show("09_empty_polls")

# %% [markdown]
# ### Does it hold steady?

# %%
show("10_latency_over_time")

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
# Every question below can be answered from the reference run that comes with the lab,
# `results/reference` (the next cell loads it, whichever run you chose above), without
# running a benchmark. Write your prediction down *before* you look the number up. Each
# topic ends with an optional "run it yourself" exercise: it writes a new run folder and
# points `results/latest` at it; set `RUN` above to it and run the notebook again.
#
# `look(...)` shows the reference cells that match, with the columns you name, e.g.
# `look("requests_per_event", transport="short_polling", users=100)`.

# %%
COLUMNS = ("cell", "transport", "users", "rate", "interval_s", "rtt_ms", "repeat")
reference = read_run(choose_run("results/reference"))


def look(*columns: str, **where: object) -> None:
    """The reference cells whose settings match `where`, with their `columns`."""
    rows = [r for r in reference.rows if all(r.get(k) == v for k, v in where.items())]
    shown = [c for c in COLUMNS if c not in where] + list(columns)
    lines = ["| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    for row in rows:
        cells = [row.get(c) for c in shown]
        lines.append(
            "| " + " | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in cells) + " |"
        )
    display(Markdown("\n".join(lines) if rows else "No reference cell matches."))


look("requests_per_event", "empty_share", transport="short_polling", users=100, rtt_ms=0.0)

# %% [markdown]
# ### A. Requests per event
#
# 1. Short polling every 1 s at 100 users: how many requests per delivered event does it
#    make at 0.2, 1 and 5 events/s? Which formula gives all three?
# 2. At which events-per-interval (λT) do short polling and long polling make the same
#    number of requests per event? Check it on chart 1.
# 3. Long polling at 0.2 events/s: why is it slightly *above* one request per event?
#    (`look("requests_per_event", "empty_share", transport="long_polling")`)
#
# *Run it yourself:* predict short polling's requests per event at 2 events/s, then run
# `lab bench --transports short_polling --rate 2`.
#
# ### B. Empty polls
#
# 1. With Poisson arrivals the chance that a poll finds nothing is e^(−λT). Predict the
#    empty share at 0.2, 1 and 5 events/s every 1 s, then find `empty_share` above.
# 2. Every 5 s at 1 event/s has the same λT as every 1 s at 5 events/s. Do their empty
#    shares agree? (`look("empty_share", transport="short_polling", rate=1.0)`)
#
# *Run it yourself:* evenly spaced events make the empty share max(0, 1 − λT). Run
# `lab bench --transports short_polling --rate 0.5 --arrivals fixed` and compare with
# e^(−0.5).
#
# ### C. Bytes on the wire
#
# 1. At 0.2 events/s, how many bytes does short polling put on the wire per delivered event,
#    and how many of them are the event itself (`payload_bytes_per_event`)?
# 2. At which of the three rates is short polling cheaper in bytes than long polling? Why
#    can it be? (`look("bytes_per_event", users=100, rtt_ms=0.0, interval_s=None)` shows
#    the push transports; add `interval_s=1.0` for short polling.)
# 3. SSE's overhead per event: compare `overhead_bytes_per_event` with the 5 bytes the
#    notes claim. Which lines of an SSE frame make up the difference?
#
# *Run it yourself:* `lab bench --transports long_polling sse --rate 1 --payload-bytes 2000`.
# Does the overhead per event change when the payload grows? Does the overhead's share?
#
# ### D. Latency and the network
#
# 1. Short polling's median latency at 100 users, every 1, 2 and 5 s: compare with T/2.
# 2. Long polling's and SSE's median latency at 0, 50 and 200 ms of round trip
#    (`look("latency_p50_ms", users=100, rate=1.0, repeat=1)`). Which half of claim 4
#    ("long polling 100–200 ms, SSE 0.5 ms") holds where?
# 3. At 200 ms, why is long polling only a little slower than SSE, and not a whole round
#    trip slower?
#
# *Run it yourself:* `lab bench --transports long_polling sse --rate 5 --rtt 200`. At 5
# events/s a long poll is away reconnecting more often: predict the gap to SSE first.
#
# ### E. How sure are we? Repeats
#
# 1. The key cells ran three times. For short polling at 1 event/s, how far apart are the
#    three repeats' median latencies, and their requests per event?
#    (`look("latency_p50_ms", "requests_per_event", transport="short_polling", users=100,
#    rate=1.0, interval_s=1.0, rtt_ms=0.0)`)
# 2. Which of the two is a property of the clock (the same every time) and which depends on
#    chance?
#
# *Run it yourself:* `lab bench --transports short_polling --rate 1 --repeat 5`.
#
# ### F. Many users
#
# 1. From 10 to 1,000 users at 1 event/s, how does each transport's p99 latency change?
#    (`look("latency_p99_ms", rate=1.0, rtt_ms=0.0, repeat=1)`)
# 2. Which transport's server CPU per event *falls* as users grow, and why?
#
# *Run it yourself:* `lab bench --transports sse --users 2000 4000`. Is it the server or the
# load generator that runs out first? (Check the client CPU column and the flags.)
