"""Chat answers as jobs, for the clients that poll: the answer is generated on the server
into a job, and clients ask for the tokens after the last one they have.

A job generates in a greenlet of its own, at its question's timing, whoever is asking. It
ends finished, or aborted when its client deletes it or stops asking for longer than
`IDLE_ABORT_S` (a polling client that vanished says nothing; the server notices the silence).
A job is forgotten `KEEP_S` after it ended, or sooner when more than `KEPT_PER_ANSWER`
times the limit have ended since (the oldest first). At most `limit` jobs generate at once.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import gevent
import gevent.event

from lab.chat.model import answer_tokens
from lab.chat.request import ChatRequest
from lab.metrics import ChatCounters

IDLE_ABORT_S = 10.0
"""An unfinished job nobody has asked about for this long, and for which no long poll is
waiting, is aborted: its client has gone (a short poller asks every few seconds)."""
KEEP_S = 60.0
"""How long an ended job's tokens can still be read."""
KEPT_PER_ANSWER = 5
"""Ended jobs kept, per answer the server may generate at once: at a busy server's pace
(about 26 answers a second for 100 users) they are forgotten after some 40 s instead of 60,
and memory stays bounded whatever the pace."""
SWEEP_EVERY_S = 1.0
"""Requests look for idle jobs at most this often: a busy server answers thousands of polls
a second, and each needs no more than a one-second-old look."""


class TooManyJobs(Exception):
    """The server already has its maximum of chat jobs."""


@dataclass
class Token:
    index: int
    text: str
    ts: float

    def as_json(self) -> dict:
        return {"index": self.index, "text": self.text, "ts": self.ts}


@dataclass
class Job:
    id: str
    question: ChatRequest
    tokens: list[Token] = field(default_factory=list)
    done: bool = False
    aborted: bool = False
    ended_at: float | None = None
    last_asked: float = field(default_factory=time.monotonic)
    waiting: int = 0
    """Long polls held for this job now: while one waits, its client is there."""
    news: gevent.event.Event = field(default_factory=gevent.event.Event)
    """Set when a token is added or the job ends; replaced by a fresh one each time."""
    worker: gevent.Greenlet | None = None

    @property
    def ended(self) -> bool:
        return self.done or self.aborted

    def idle(self, now: float) -> bool:
        return not self.waiting and now - self.last_asked > IDLE_ABORT_S

    def tokens_after(self, after: int) -> list[Token]:
        return self.tokens[after + 1 :] if after >= -1 else self.tokens

    def announce(self) -> None:
        news, self.news = self.news, gevent.event.Event()
        news.set()


class ChatJobs:
    """The server's chat jobs: started, read, deleted, aborted when idle, forgotten.

    `limit` bounds the answers generated at once (streamed ones included: they share the
    `generating` counter); the ended jobs kept are bounded by `KEEP_S` and
    `KEPT_PER_ANSWER`."""

    def __init__(
        self, counters: ChatCounters, limit: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.counters = counters
        self.limit = limit
        self.clock = clock
        self._jobs: dict[str, Job] = {}
        self._ended: dict[str, Job] = {}
        """The ended jobs still kept, in the order they ended (oldest first)."""
        self._swept_at = -SWEEP_EVERY_S

    @property
    def count(self) -> int:
        return len(self._jobs)

    def start(self, question: ChatRequest) -> Job:
        self._sweep_now_and_then()
        if self.counters.generating >= self.limit:
            raise TooManyJobs(self.limit)
        job = Job(id=secrets.token_urlsafe(9), question=question, last_asked=self.clock())
        self._jobs[job.id] = job
        self.counters.answers_started += 1
        self.counters.generating += 1
        job.worker = gevent.spawn(self._generate, job)
        # A link runs however the worker ends, even killed before it ever ran.
        job.worker.link(lambda _worker: self._end(job))
        return job

    def get(self, job_id: str) -> Job | None:
        """The job, marked as asked about now (None when unknown, or forgotten)."""
        self._sweep_now_and_then()
        job = self._jobs.get(job_id)
        if job is not None:
            job.last_asked = self.clock()
        return job

    def delete(self, job_id: str) -> bool:
        job = self._jobs.pop(job_id, None)
        if job is None:
            return False
        self._ended.pop(job_id, None)
        self._abort(job)
        return True

    def sweep(self) -> None:
        """Abort the jobs nobody asks about; forget the ones that ended long enough ago."""
        now = self._swept_at = self.clock()
        for job in [j for j in self._jobs.values() if not j.ended]:
            if job.idle(now):
                self._abort(job)
        self._forget(now)

    def _sweep_now_and_then(self) -> None:
        if self.clock() - self._swept_at >= SWEEP_EVERY_S:
            self.sweep()

    def _forget(self, now: float) -> None:
        """Forget ended jobs, oldest first: those past `KEEP_S`, and any beyond the most
        that are kept."""
        most = self.limit * KEPT_PER_ANSWER
        while self._ended:
            job_id, job = next(iter(self._ended.items()))
            stale = job.ended_at is not None and now - job.ended_at > KEEP_S
            if not stale and len(self._ended) <= most:
                break
            del self._ended[job_id]
            self._jobs.pop(job_id, None)

    def abort_all(self) -> None:
        for job in list(self._jobs.values()):
            self._abort(job)

    def _abort(self, job: Job) -> None:
        if job.ended:
            return
        job.aborted = True
        if job.worker is not None:
            job.worker.kill(block=False)

    def _generate(self, job: Job) -> None:
        asked = time.monotonic()
        question = job.question
        try:
            for index, text in enumerate(answer_tokens(question.prompt, question.max_tokens)):
                wait = asked + question.timing.due_s(index) - time.monotonic()
                if wait > 0:
                    gevent.sleep(wait)
                if job.idle(self.clock()):
                    return  # its client has gone quiet: stop without waiting for a sweep
                self.counters.tokens_generated += 1
                job.tokens.append(Token(index, text, time.time()))
                job.announce()
            job.done = True
        finally:
            job.aborted = not job.done

    def _end(self, job: Job) -> None:
        job.aborted = not job.done
        job.ended_at = self.clock()
        if job.id in self._jobs:
            self._ended[job.id] = job
            self._forget(job.ended_at)
        self.counters.generating -= 1
        if job.done:
            self.counters.answers_finished += 1
        else:
            self.counters.answers_aborted += 1
        job.announce()
