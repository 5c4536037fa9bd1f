"""Versioned schema of the PostgreSQL task store, tracked in the `schema_version` table.

`MIGRATIONS[i]` turns a version-`i` database into version `i + 1`. A shipped step is never edited: a
schema change is a new step appended at the end. Each step runs in its own transaction together with
the version bump (PostgreSQL's DDL is transactional, so a failed step leaves the previous version),
and the whole run holds an advisory lock: processes starting together migrate one after the other,
and the later ones find nothing left to do.

Version 1 is the SQLite store's version 6 in native types: timestamptz, jsonb, bigint for Discord
ids, boolean; plus the process heartbeats of the shared gateway ceiling (processes.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.engine.store.interface import SchemaTooNewError
from bot.engine.store.postgres.sql import Connection

log = logging.getLogger(__name__)

# Unfinished, as the partial indexes spell it: 4..8 are the terminal statuses, and a status number
# the bot does not know (the gateway may add one) is unfinished. A literal: shipped steps never change.
UNFINISHED_SQL = "local_outcome IS NULL AND (status IS NULL OR status NOT BETWEEN 4 AND 8)"

# Held by the process migrating. An arbitrary constant of this application (pg_advisory_lock's keys
# are shared by everything on the database server).
MIGRATION_LOCK_KEY = 0x4D50_5441_534B_0001  # "MPTASK" 1

_V1_TASKS = """
CREATE TABLE tasks (
    key text PRIMARY KEY,
    task_type text NOT NULL,
    model text NOT NULL,
    prompt text NOT NULL,
    requester_id bigint NOT NULL,
    channel_id bigint NOT NULL,
    guild_id bigint,
    input_assets jsonb,
    metadata jsonb,
    message_id bigint,
    reply_token text,
    reply_token_expires_at timestamptz,
    task_id text,
    status integer,
    local_outcome text,
    progress text,
    events_seen integer NOT NULL DEFAULT 0,
    result jsonb,
    error_code text,
    error_message text,
    confirmed boolean NOT NULL DEFAULT false,
    cancel_requested boolean NOT NULL DEFAULT false,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    next_poll_at timestamptz,
    completed_at timestamptz,
    notified_status integer,
    notified_outcome text,
    notified_progress text,
    notify_due_at timestamptz,
    extra jsonb NOT NULL DEFAULT '{}',
    processing_started_at timestamptz,
    bad_reads integer NOT NULL DEFAULT 0,
    maybe_created boolean NOT NULL DEFAULT false,
    result_problem text,
    cancelled_by bigint,
    cancelled_by_name text,
    upload_limit bigint,
    origin_key text,
    origin_action text,
    reply_message_id bigint,
    media_state text,
    media_filename text,
    media_note text,
    lease_owner text,
    lease_until timestamptz,
    report_owner text,
    report_until timestamptz
)
"""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        _V1_TASKS,
        # What the poller's loop reads on every pass, and what the front end looks up.
        f"CREATE INDEX tasks_due_poll ON tasks (next_poll_at) WHERE {UNFINISHED_SQL}",
        "CREATE INDEX tasks_due_notify ON tasks (notify_due_at) WHERE notify_due_at IS NOT NULL",
        f"CREATE INDEX tasks_requester_unfinished ON tasks (requester_id, created_at) WHERE {UNFINISHED_SQL}",
        "CREATE INDEX tasks_completed ON tasks (completed_at) WHERE completed_at IS NOT NULL",
        "CREATE INDEX tasks_task_id ON tasks (lower(task_id)) WHERE task_id IS NOT NULL",
        "CREATE INDEX tasks_requester_guild ON tasks (requester_id, guild_id, created_at)",
        "CREATE INDEX tasks_media_pending ON tasks (completed_at) WHERE media_state = 'pending'",
        # A stopping process releases its leases by owner.
        "CREATE INDEX tasks_lease_owner ON tasks (lease_owner) WHERE lease_owner IS NOT NULL",
        "CREATE INDEX tasks_report_owner ON tasks (report_owner) WHERE report_owner IS NOT NULL",
        """CREATE TABLE user_prefs (
            user_id bigint PRIMARY KEY,
            notify_dm boolean NOT NULL DEFAULT false,
            updated_at timestamptz NOT NULL
        )""",
        """CREATE TABLE forgotten_tasks (
            key text PRIMARY KEY,
            task_id text,
            guild_id bigint,
            requester_id bigint NOT NULL,
            forgotten_at timestamptz NOT NULL
        )""",
        "CREATE INDEX forgotten_tasks_task_id ON forgotten_tasks (lower(task_id))",
        """CREATE TABLE engine_processes (
            owner text PRIMARY KEY,
            host text NOT NULL,
            pid integer NOT NULL,
            registered_at timestamptz NOT NULL,
            beat_at timestamptz NOT NULL,
            live_count integer NOT NULL DEFAULT 0
        )""",
    ),
    # v2: a result deleted with its Delete button stays deleted: who did it, and when.
    (
        "ALTER TABLE tasks ADD COLUMN deleted_by bigint",
        "ALTER TABLE tasks ADD COLUMN deleted_at timestamptz",
    ),
    # v3 (community controls): each server's settings; the waiting line; durations for the ETA.
    (
        """CREATE TABLE guild_settings (
            guild_id bigint PRIMARY KEY,
            settings jsonb NOT NULL,
            updated_at timestamptz NOT NULL,
            updated_by bigint
        )""",
        "ALTER TABLE tasks ADD COLUMN waiting_since timestamptz",
        "ALTER TABLE tasks ADD COLUMN started_at timestamptz",
        "ALTER TABLE tasks ADD COLUMN wait_limit integer",
        "CREATE INDEX tasks_waiting ON tasks (requester_id, guild_id, waiting_since) "
        "WHERE waiting_since IS NOT NULL",
        """CREATE TABLE task_durations (
            id bigserial PRIMARY KEY,
            task_type text NOT NULL,
            model text NOT NULL,
            seconds double precision NOT NULL,
            finished_at timestamptz NOT NULL
        )""",
        "CREATE INDEX task_durations_model ON task_durations (task_type, model, finished_at)",
    ),
    # v4 (sharded processes): who runs each once-per-cluster job (pruning, a command sync), until when.
    (
        """CREATE TABLE cluster_jobs (
            name text PRIMARY KEY,
            owner text NOT NULL,
            lease_until timestamptz NOT NULL
        )""",
    ),
)

LATEST_VERSION = len(MIGRATIONS)

_CREATE_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version integer NOT NULL
)"""


async def schema_version(conn: Connection) -> int:
    """The version recorded in the database; 0 for a database the bot never migrated."""
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    version = await conn.fetchval("SELECT version FROM schema_version")
    return int(version or 0)


async def migrate(conn: Connection, migrations: Sequence[Sequence[str]] = MIGRATIONS) -> tuple[int, int]:
    """Bring the database to `len(migrations)` under the migration lock; (version before, after).
    Raises `SchemaTooNewError`, changing nothing, when the database is newer than the code."""
    target = len(migrations)
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    try:
        before = await schema_version(conn)
        if before > target:
            raise SchemaTooNewError(before, target)
        if before < target:
            await conn.execute(_CREATE_VERSION_TABLE)
        for step_index in range(before, target):
            async with conn.transaction():
                for statement in migrations[step_index]:
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_version (version) VALUES ($1) "
                    "ON CONFLICT (only_row) DO UPDATE SET version = EXCLUDED.version",
                    step_index + 1,
                )
            log.info("task store schema migrated to version %d", step_index + 1)
        return before, await schema_version(conn)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
