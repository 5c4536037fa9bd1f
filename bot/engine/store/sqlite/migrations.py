"""Versioned schema of the SQLite task store, tracked with `PRAGMA user_version`.

`MIGRATIONS[i]` turns a version-`i` database into version `i + 1`. A shipped step is never edited:
a schema change is a new step appended at the end. Each step runs in its own transaction together
with the `user_version` bump, so a crash mid-migration leaves the database at the previous version.

Datetimes are INTEGER microseconds since the Unix epoch, UTC (exact round trip, cheap comparisons);
enums are stored as their values; dicts and result assets as JSON text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import aiosqlite

from bot.engine.store.interface import SchemaTooNewError

log = logging.getLogger(__name__)

# "Unfinished" as the partial indexes spell it. SQLite only uses a partial index when the query repeats
# its WHERE term verbatim, so queries import this exact text. 4..8 are the terminal statuses; a status
# number the bot does not know (the gateway may add one) is unfinished. Literals, because a shipped
# migration must not change with the code: v1 and v2 keep the text they shipped with.
UNFINISHED_SQL = "local_outcome IS NULL AND (status IS NULL OR status NOT BETWEEN 4 AND 8)"
_V1_UNFINISHED_SQL = "local_outcome IS NULL AND (status IS NULL OR status < 4)"

_V1_CREATE_TASKS = """
CREATE TABLE tasks (
    key TEXT PRIMARY KEY NOT NULL,
    task_type TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    requester_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    guild_id INTEGER,
    input_assets TEXT,
    metadata TEXT,
    message_id INTEGER,
    reply_token TEXT,
    reply_token_expires_at INTEGER,
    task_id TEXT,
    status INTEGER,
    local_outcome TEXT,
    progress TEXT,
    events_seen INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    error_code TEXT,
    error_message TEXT,
    confirmed INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    next_poll_at INTEGER,
    completed_at INTEGER,
    notified_status INTEGER,
    notified_outcome TEXT,
    notified_progress TEXT,
    notify_due_at INTEGER,
    extra TEXT NOT NULL DEFAULT '{}'
)
"""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # v1: the tasks table, with the two indexes the poller's loop reads on every tick.
    (
        _V1_CREATE_TASKS,
        f"CREATE INDEX tasks_due_poll ON tasks (next_poll_at) WHERE {_V1_UNFINISHED_SQL}",
        "CREATE INDEX tasks_due_notify ON tasks (notify_due_at) WHERE notify_due_at IS NOT NULL",
    ),
    # v2: /cancel and the per-user limit look up a requester's unfinished tasks, newest first.
    (
        "CREATE INDEX tasks_requester_unfinished ON tasks (requester_id, created_at) "
        f"WHERE {_V1_UNFINISHED_SQL}",
    ),
    # v3 (truth in every outcome): when processing started; reads that could not be used (an unreadable
    # success, a 404) in a row; whether a create may have reached the gateway; why a result is
    # unusable; unknown status numbers are unfinished (indexes rebuilt); finished rows by age (pruning).
    (
        "ALTER TABLE tasks ADD COLUMN processing_started_at INTEGER",
        "ALTER TABLE tasks ADD COLUMN bad_reads INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE tasks ADD COLUMN maybe_created INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE tasks ADD COLUMN result_problem TEXT",
        # A row whose create failed before may have reached the gateway: assume it did.
        "UPDATE tasks SET maybe_created = 1 WHERE task_id IS NULL AND attempts > 0",
        "DROP INDEX tasks_due_poll",
        f"CREATE INDEX tasks_due_poll ON tasks (next_poll_at) WHERE {UNFINISHED_SQL}",
        "DROP INDEX tasks_requester_unfinished",
        f"CREATE INDEX tasks_requester_unfinished ON tasks (requester_id, created_at) WHERE {UNFINISHED_SQL}",
        "CREATE INDEX tasks_completed ON tasks (completed_at) WHERE completed_at IS NOT NULL",
    ),
    # v4 (rights and ids): who cancelled a task; look-ups by the gateway's task id (any case) and by a
    # requester's tasks in one server (an id prefix, the latest unfinished one, history).
    (
        "ALTER TABLE tasks ADD COLUMN cancelled_by INTEGER",
        "ALTER TABLE tasks ADD COLUMN cancelled_by_name TEXT",
        "CREATE INDEX tasks_task_id ON tasks (task_id COLLATE NOCASE) WHERE task_id IS NOT NULL",
        "CREATE INDEX tasks_requester_guild ON tasks (requester_id, guild_id, created_at)",
    ),
    # v5 (results that last): the upload limit that applied to the request; what a task was made from
    # (reroll, vary, animate of another task); the result reply's id; the re-hosted file's state; the
    # users who want a DM when a job ends; the ids of pruned tasks, so they can be called "forgotten".
    (
        "ALTER TABLE tasks ADD COLUMN upload_limit INTEGER",
        "ALTER TABLE tasks ADD COLUMN origin_key TEXT",
        "ALTER TABLE tasks ADD COLUMN origin_action TEXT",
        "ALTER TABLE tasks ADD COLUMN reply_message_id INTEGER",
        "ALTER TABLE tasks ADD COLUMN media_state TEXT",
        "ALTER TABLE tasks ADD COLUMN media_filename TEXT",
        "ALTER TABLE tasks ADD COLUMN media_note TEXT",
        "CREATE INDEX tasks_media_pending ON tasks (completed_at) WHERE media_state = 'pending'",
        """CREATE TABLE user_prefs (
            user_id INTEGER PRIMARY KEY NOT NULL,
            notify_dm INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL
        )""",
        """CREATE TABLE forgotten_tasks (
            key TEXT PRIMARY KEY NOT NULL,
            task_id TEXT,
            guild_id INTEGER,
            requester_id INTEGER NOT NULL,
            forgotten_at INTEGER NOT NULL
        )""",
        "CREATE INDEX forgotten_tasks_task_id ON forgotten_tasks (task_id COLLATE NOCASE)",
    ),
    # v6 (leases, shared with the PostgreSQL store): which process polls a row and which reports it,
    # until when. One process per SQLite file, so these only ever name this process (see leases.py).
    (
        "ALTER TABLE tasks ADD COLUMN lease_owner TEXT",
        "ALTER TABLE tasks ADD COLUMN lease_until INTEGER",
        "ALTER TABLE tasks ADD COLUMN report_owner TEXT",
        "ALTER TABLE tasks ADD COLUMN report_until INTEGER",
    ),
    # v7: a result deleted with its Delete button stays deleted: who did it, and when.
    (
        "ALTER TABLE tasks ADD COLUMN deleted_by INTEGER",
        "ALTER TABLE tasks ADD COLUMN deleted_at INTEGER",
    ),
    # v8 (community controls): each server's settings (one validated JSON document); the waiting line
    # (a request at its requester's limit waits: since when, under which limit; TASK_MAX_AGE counts from
    # `started_at`); the durations of successful tasks per model, for an honest ETA.
    (
        """CREATE TABLE guild_settings (
            guild_id INTEGER PRIMARY KEY NOT NULL,
            settings TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            updated_by INTEGER
        )""",
        "ALTER TABLE tasks ADD COLUMN waiting_since INTEGER",
        "ALTER TABLE tasks ADD COLUMN started_at INTEGER",
        "ALTER TABLE tasks ADD COLUMN wait_limit INTEGER",
        "CREATE INDEX tasks_waiting ON tasks (requester_id, guild_id, waiting_since) "
        "WHERE waiting_since IS NOT NULL",
        """CREATE TABLE task_durations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            task_type TEXT NOT NULL,
            model TEXT NOT NULL,
            seconds REAL NOT NULL,
            finished_at INTEGER NOT NULL
        )""",
        "CREATE INDEX task_durations_model ON task_durations (task_type, model, finished_at)",
    ),
)

__all__ = ["LATEST_VERSION", "MIGRATIONS", "UNFINISHED_SQL", "SchemaTooNewError", "migrate", "schema_version"]

LATEST_VERSION = len(MIGRATIONS)


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row is not None else 0


async def migrate(
    conn: aiosqlite.Connection, migrations: Sequence[Sequence[str]] = MIGRATIONS
) -> tuple[int, int]:
    """Bring the database to `len(migrations)`; returns (version before, version after).

    `conn` must be in autocommit mode (isolation_level=None) so the explicit BEGIN here is the only
    transaction. The version is re-read inside each step's write transaction, so two processes opening
    the same file at once cannot apply a step twice.
    """
    target = len(migrations)
    before = await schema_version(conn)
    if before > target:
        raise SchemaTooNewError(before, target)
    for step_index in range(before, target):
        await conn.execute("BEGIN IMMEDIATE")
        try:
            current = await schema_version(conn)
            if current > step_index:  # another process applied it meanwhile
                await conn.execute("ROLLBACK")
                continue
            for statement in migrations[step_index]:
                await conn.execute(statement)
            # PRAGMA does not take bound parameters; the value is our own integer.
            await conn.execute(f"PRAGMA user_version = {step_index + 1:d}")
            await conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise
        log.info("task store schema migrated to version %d", step_index + 1)
    return before, await schema_version(conn)
