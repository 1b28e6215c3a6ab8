"""A bounded, first-come queue in front of the language model: a clear "busy" beats a three-minute wait.

One LLM answers one question at a time. Under load (5–20 clients) questions used to wait in a
64-deep queue for 130–200 s and then time out with a message about prompt length. Now:

* at most ``max_waiting`` questions wait; the next one is refused at once with
  :class:`~rag.errors.BusyError` ("busy: N questions are waiting …, position N+1");
* a waiting question gives up after ``deadline_s`` with a BusyError naming the queue, not the prompt;
* questions are served in arrival order (``threading.Condition``; no starvation).

Example:
    >>> gate = AskQueue(max_waiting=2, deadline_s=30)
    >>> with gate.admit() as ticket:
    ...     ticket.position
    0
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rag.errors import BusyError, InputError


@dataclass
class Ticket:
    """One admitted question: how many were ahead of it on arrival and how long it waited (seconds)."""

    position: int
    waited_s: float = 0.0


class AskQueue:
    """Admits ``slots`` questions at a time; up to ``max_waiting`` more wait, at most ``deadline_s`` each."""

    def __init__(self, slots: int = 1, max_waiting: int = 8, deadline_s: float = 120.0) -> None:
        if slots < 1 or max_waiting < 0 or deadline_s <= 0:
            raise InputError(
                f"ask queue: slots={slots} must be >= 1, max_waiting={max_waiting} >= 0 and "
                f"deadline_s={deadline_s} positive"
            )
        self.slots = slots
        self.max_waiting = max_waiting
        self.deadline_s = deadline_s
        self._cond = threading.Condition()
        self._active = 0
        self._waiting: deque[Ticket] = deque()

    @property
    def waiting(self) -> int:
        """Questions waiting now (not counting those being answered)."""
        with self._cond:
            return len(self._waiting)

    @property
    def active(self) -> int:
        with self._cond:
            return self._active

    @contextmanager
    def admit(self) -> Iterator[Ticket]:
        """Hold a slot for the duration of the ``with`` block.

        Raises:
            BusyError: the queue is full (at once), or the deadline passed while waiting.
        """
        t0 = time.monotonic()
        with self._cond:
            ahead = len(self._waiting) + self._active
            if self._active >= self.slots and len(self._waiting) >= self.max_waiting:
                position = len(self._waiting) + 1
                raise BusyError(
                    f"busy: {self._active} question(s) being answered and {len(self._waiting)} waiting "
                    f"for the language model (the queue holds {self.max_waiting}); this one would be "
                    f"position {position}. Try again in a minute",
                    position=position,
                )
            ticket = Ticket(position=ahead)
            self._waiting.append(ticket)
            try:
                while self._active >= self.slots or self._waiting[0] is not ticket:
                    left = self.deadline_s - (time.monotonic() - t0)
                    if left <= 0:
                        position = list(self._waiting).index(ticket) + 1
                        raise BusyError(
                            f"busy: waited {self.deadline_s:g}s in the queue for the language model "
                            f"and was still at position {position} (other questions were being "
                            f"answered); try again later",
                            position=position,
                        )
                    self._cond.wait(left)
            except BaseException:
                self._waiting.remove(ticket)
                self._cond.notify_all()
                raise
            self._waiting.popleft()
            self._active += 1
            ticket.waited_s = time.monotonic() - t0
        try:
            yield ticket
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()


__all__ = ["AskQueue", "Ticket"]
