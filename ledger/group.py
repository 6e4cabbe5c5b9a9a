"""Group commit: stand-alone entries from many threads, written a batch per transaction.

Use ``GroupPoster`` for entries that need not share a transaction with any other write of
their caller, fed by many threads at once: a busy merchant's redemptions, a programme's budget
debits. Why: a hot account's row stays locked until COMMIT returns, and COMMIT costs an fsync
and a round trip, so one commit per entry caps every account at 1 / commit latency entries
per second (about 500/s on the 2-core development machine) however many workers write. One
background thread gathers the waiting entries, writes them with ``post_each`` (one
``ledger_post_many`` call on PostgreSQL) and commits once for all of them.

An entry that must commit together with the caller's own rows (a voucher's state and its
hold, say) keeps calling ``ledger.post`` in the caller's transaction. Sealing stays the
caller's business: call ``ledger.seal`` afterwards as after any commit.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from . import service
from .service import Result

# Callers wait for room beyond this many entries queued: back-pressure, not unbounded memory.
MAX_WAITING_ENTRIES = 10_000
# How long ``post`` waits for room in the queue and then for its answer. A caller that times
# out may still see its entry written later: it retries with the same idempotency key.
WAIT_TIMEOUT_SECONDS = 120.0
CLOSE_TIMEOUT_SECONDS = 120.0
MAX_WAIT_SECONDS_LIMIT = 1.0


@dataclass
class _Request:
    entry: dict
    answer: object = None
    done: threading.Event = field(default_factory=threading.Event)


class GroupPoster:
    """Posts entries for many threads, a batch of them per transaction (see the module's
    docstring for when to use it). Thread-safe; ``close()`` (or leaving a ``with`` block)
    writes what is still queued and stops the thread.

    ``max_wait_seconds`` is how long the poster, once free, holds a batch open for more
    entries; a caller waits at most for the batch being written, that long, and its own
    batch. ``batches_committed`` and ``entries_written`` count the transactions committed
    and the entries they created: their ratio is the batching actually achieved.
    """

    def __init__(self, session_factory, *, max_batch_entries: int = 200,
                 max_wait_seconds: float = 0.002):
        if not 1 <= max_batch_entries <= service.MAX_BATCH_ENTRIES:
            raise ValueError(f"max_batch_entries must be 1 .. {service.MAX_BATCH_ENTRIES}")
        if not 0 <= max_wait_seconds <= MAX_WAIT_SECONDS_LIMIT:
            raise ValueError(f"max_wait_seconds must be 0 .. {MAX_WAIT_SECONDS_LIMIT}")
        self.session_factory = session_factory
        self.max_batch_entries = max_batch_entries
        self.max_wait_seconds = max_wait_seconds
        self.batches_committed = 0
        self.entries_written = 0
        self._expected_entries = max_batch_entries
        self._waiting: deque[_Request] = deque()
        self._changed = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="ledger-group-poster",
                                        daemon=True)
        self._thread.start()

    def post(self, *, idempotency_key: str, kind: str, postings, reference: str | None = None,
             memo: str | None = None, actor: str | None = None) -> Result:
        """``ledger.post`` in a transaction of its own, shared with other callers' entries.
        Returns once the entry is committed; raises its refusal (``InsufficientPoints``,
        ``IdempotencyConflict`` ...) or the database error that failed its batch."""
        request = _Request(dict(idempotency_key=idempotency_key, kind=kind, postings=postings,
                                reference=reference, memo=memo, actor=actor))
        with self._changed:
            if not self._changed.wait_for(self._has_room, WAIT_TIMEOUT_SECONDS):
                raise TimeoutError(f"{MAX_WAITING_ENTRIES} entries are already waiting")
            if self._closed:
                raise RuntimeError("the group poster is closed")
            self._waiting.append(request)
            self._changed.notify_all()
        if not request.done.wait(WAIT_TIMEOUT_SECONDS):
            raise TimeoutError("no answer in time; retry with the same idempotency key")
        if isinstance(request.answer, BaseException):
            raise request.answer
        return request.answer

    def close(self) -> None:
        """Write every entry already queued, then stop the thread."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join(CLOSE_TIMEOUT_SECONDS)
        if self._thread.is_alive():
            raise TimeoutError(f"the group poster did not drain in {CLOSE_TIMEOUT_SECONDS} s")

    def __enter__(self) -> GroupPoster:
        return self

    def __exit__(self, *exception) -> None:
        self.close()

    def _has_room(self) -> bool:
        return self._closed or len(self._waiting) < MAX_WAITING_ENTRIES

    def _run(self) -> None:
        # Ends once the poster is closed and nothing is left waiting.
        while batch := self._next_batch():
            self._write(batch)

    def _next_batch(self) -> list[_Request]:
        """Up to ``max_batch_entries`` requests; empty once closed and drained.

        The batch is taken once as many requests wait as the previous batch held (callers
        just answered tend to come back together, so waiting longer only idles the
        database), once it is full, once the poster is closing, or at the latest
        ``max_wait_seconds`` after the poster was free with a request waiting. Counting from
        the oldest request's arrival instead would send a straggler that came during the
        previous write alone, just before the others come back: batches of 7 and 1 instead
        of 8 (measured with 8 threads: about 1,000/s instead of 1,300/s)."""
        with self._changed:
            self._changed.wait_for(lambda: self._waiting or self._closed)
            if not self._waiting:
                return []
            enough = min(self._expected_entries, self.max_batch_entries)
            self._changed.wait_for(lambda: self._closed or len(self._waiting) >= enough,
                                   self.max_wait_seconds)
            count = min(len(self._waiting), self.max_batch_entries)
            batch = [self._waiting.popleft() for _ in range(count)]
            self._expected_entries = count
            self._changed.notify_all()
        return batch

    def _write(self, batch: list[_Request]) -> None:
        """One transaction for the batch. A refusal answers only its own caller; an error of
        the transaction itself (a lost connection, a failed COMMIT) answers all of them."""
        try:
            with self.session_factory() as session:
                answers = service.post_each(session, [request.entry for request in batch])
                session.commit()
        except Exception as error:  # handed to every caller of the batch, who re-raises it
            answers = [error] * len(batch)
        else:
            self.batches_committed += 1
            self.entries_written += sum(
                1 for answer in answers if isinstance(answer, Result) and answer.created)
        for request, answer in zip(batch, answers, strict=True):
            request.answer = answer
            request.done.set()
