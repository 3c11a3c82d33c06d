"""Periodic jobs of a running server (feed pulls now; outbox delivery and SLA timers later).

One daemon thread runs each job when it is due, one job at a time; a job that fails is
logged and tried again at its next turn, and never stops the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("garrison.scheduler")


@dataclass
class Job:
    name: str
    every_seconds: float
    run: Callable[[], None]
    next_at: float = field(default=0.0)


class Scheduler:
    def __init__(self, tick_seconds: float = 5.0) -> None:
        self.jobs: list[Job] = []
        self.tick_seconds = tick_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, name: str, every_seconds: float, run: Callable[[], None]) -> None:
        self.jobs.append(Job(name, every_seconds, run))

    def run_due(self, now: float | None = None) -> list[str]:
        """Run every job whose time has come; returns the names of those that ran."""
        ran: list[str] = []
        for job in self.jobs:
            moment = time.monotonic() if now is None else now
            if moment < job.next_at:
                continue
            job.next_at = moment + job.every_seconds
            ran.append(job.name)
            try:
                job.run()
            except Exception:  # a job's failure must not stop the server's other jobs
                log.exception("scheduled job %s failed", job.name)
        return ran

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                self.run_due()
                self._stop.wait(self.tick_seconds)

        self._thread = threading.Thread(target=loop, name="garrison-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
