"""What the ledger's writers answer, in the ``result`` field of their outcome: the PostgreSQL
functions (``ledger/sql``) and the ORM path that SQLite takes (``service._execute_with_core``)
alike. One enum, so that Python compares against these names and nothing else; a test holds it
to the literals the ``.sql`` files return."""

from enum import StrEnum


class Verdict(StrEnum):
    CREATED = "created"  # written now
    EXISTING = "existing"  # this key wrote the same entry before: the first answer
    CONFLICT = "conflict"  # this key wrote another entry before
    UNKNOWN_ACCOUNT = "unknown_account"
    UNIT_MISMATCH = "unit_mismatch"
    ACCOUNT_CLOSED = "account_closed"
    INSUFFICIENT = "insufficient"  # a no-overdraft account would go below zero
    SETTLED = "settled"  # the hold was settled by another entry
    REVERSED = "reversed"  # the entry was reversed by another entry
    RETRY = "retry"  # a batch raced a concurrent writer; nothing written, ask again
