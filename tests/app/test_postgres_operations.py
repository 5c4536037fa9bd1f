"""The operator's side of PostgreSQL: DATABASE_URL selects it, `check` checks its connection and
schema, `migrate-store` moves a SQLite database into it, and a process refuses a schema newer than it
knows with one line. Run as an operator would: `python -m bot ...` in a subprocess."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from bot.engine.api.models import LocalOutcome, TaskStatus
from bot.engine.store.postgres.migrations import LATEST_VERSION
from bot.engine.store.postgres.store import PostgresTaskStore
from bot.engine.store.sqlite.store import SqliteTaskStore
from bot.settings import ConfigurationError, load_settings
from bot.testing.fake_gateway.server import FakeGateway
from tests.app.test_cli import run_module
from tests.engine.store.contract.support import T0, at, created, new_task, poll
from tests.fakes.discord import FakeDiscord


def test_database_url_selects_sqlite_or_postgresql_and_refuses_anything_else():
    base = {"discord_token": "t", "tt_api_key": "k", "_env_file": None}
    sqlite = load_settings(**base, database_url="sqlite:///var/bot/bot.sqlite3")
    assert (sqlite.database_kind, sqlite.local_dir) == ("sqlite", Path("var/bot"))  # as before
    postgres = load_settings(**base, database_url="postgresql://bot:secret@db:5432/bot", database_pool_size=5)
    assert (postgres.database_kind, postgres.database_pool_size, postgres.lease_seconds) == (
        "postgresql",
        5,
        30,
    )
    assert postgres.local_dir == Path("data")
    # In Docker the working directory is not writable: the heartbeat goes on the volume.
    in_docker = load_settings(**base, database_url="postgresql://db/bot", data_dir="/data")
    assert in_docker.local_dir == Path("/data")
    assert load_settings(**base, database_url="postgres://db/bot").database_kind == "postgresql"
    with pytest.raises(
        ConfigurationError, match="DATABASE_URL is invalid: use sqlite:///PATH or postgresql://"
    ):
        load_settings(**base, database_url="mysql://db/bot")
    with pytest.raises(ConfigurationError, match="DATABASE_POOL_SIZE is invalid"):
        load_settings(**base, database_url="postgresql://db/bot", database_pool_size=0)


@pytest.fixture
async def fakes():
    async with FakeDiscord() as discord_fake, FakeGateway(api_key="gw-key-for-pg-tests") as gateway:
        yield discord_fake, gateway


def env_for(discord_fake: FakeDiscord, gateway: FakeGateway, database_url: str) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": discord_fake.token,
        "TT_API_KEY": gateway.api_key,
        "MINDPROXY_BASE_URL": gateway.base_url,
        "DISCORD_API_BASE_URL": discord_fake.rest_base,
        "DATABASE_URL": database_url,
    }


async def test_check_reports_the_postgresql_connection_and_schema(fakes, postgres_url, tmp_path):
    discord_fake, gateway = fakes
    env = env_for(discord_fake, gateway, postgres_url)
    code, output = await run_module("check", cwd=tmp_path, env=env)
    assert code == 0, output
    [line] = [line for line in output.splitlines() if "database" in line]
    assert line.startswith("[ok  ] database: postgresql://"), line
    assert (
        f"schema version 0: migrated to {LATEST_VERSION} at the first start" in line
    )  # check changes nothing
    async with PostgresTaskStore(postgres_url) as store:
        await store.insert(new_task("waiting"), now=T0, next_poll_at=None)
    code, output = await run_module("check", cwd=tmp_path, env=env)
    assert code == 0, output
    [line] = [line for line in output.splitlines() if "database" in line]
    assert f"(schema version {LATEST_VERSION}, 1 unfinished tasks, 0 bot processes running)" in line, line


async def test_check_names_an_unreachable_database_and_a_newer_schema(fakes, postgres_url, tmp_path):
    discord_fake, gateway = fakes
    unreachable = "postgresql://bot:hunter2@127.0.0.1:9/nowhere"
    code, output = await run_module("check", cwd=tmp_path, env=env_for(discord_fake, gateway, unreachable))
    assert code == 1
    [line] = [line for line in output.splitlines() if "database" in line]
    assert line.startswith("[FAIL] database: cannot reach postgresql://bot:***@127.0.0.1:9/nowhere"), line
    assert "hunter2" not in output

    async with PostgresTaskStore(postgres_url):
        pass
    conn = await asyncpg.connect(postgres_url)
    await conn.execute("UPDATE schema_version SET version = 99")
    await conn.close()
    code, output = await run_module("check", cwd=tmp_path, env=env_for(discord_fake, gateway, postgres_url))
    assert code == 1
    assert f"schema version 99 is newer than this code supports ({LATEST_VERSION})" in output


async def test_the_bot_refuses_a_newer_schema_with_one_line(fakes, postgres_url, tmp_path):
    discord_fake, gateway = fakes
    async with PostgresTaskStore(postgres_url):
        pass
    conn = await asyncpg.connect(postgres_url)
    await conn.execute("UPDATE schema_version SET version = 7")
    await conn.close()
    code, output = await run_module(cwd=tmp_path, env=env_for(discord_fake, gateway, postgres_url))
    assert code == 1
    lines = [line for line in output.splitlines() if "schema version 7" in line]
    assert len(lines) == 1, output
    assert "Traceback" not in output


async def sqlite_database_with_everything(path: Path) -> dict[str, object]:
    """A SQLite database as a running bot leaves it: finished, unfinished and owed tasks, preferences,
    tombstones. Returns what the migration must carry over."""
    async with SqliteTaskStore(path) as store:
        await store.insert(new_task("waiting", metadata={"locale": "de"}), now=T0, next_poll_at=at(30))
        await created(store, "running")
        await poll(store, "running", TaskStatus.PROCESSING, progress="50%", now=at(10))  # report owed
        await created(store, "done")
        await poll(store, "done", TaskStatus.SUCCEEDED, now=at(11))
        await store.mark_notified("done", status=TaskStatus.SUCCEEDED, outcome=None, progress=None)
        await store.insert(new_task("refused"), now=T0, next_poll_at=at(1))
        await store.record_outcome(
            "refused", outcome=LocalOutcome.REJECTED, error_code="bad", error_message="no", now=at(2)
        )
        await created(store, "old")
        await poll(store, "old", TaskStatus.FAILED, completed_at=at(1))
        await store.mark_notified("old", status=TaskStatus.FAILED, outcome=None, progress=None)
        assert await store.prune_finished(completed_before=at(5), now=at(6)) == 1
        await store.set_notify_dm(77, enabled=True, now=T0)
        await store.set_notify_dm(78, enabled=False, now=T0)
        await store.claim_task("running", owner="this-process", now=at(10), lease_until=at(40))
        return {key: await store.get(key) for key in ("waiting", "running", "done", "refused")}


async def test_migrate_store_moves_every_table_and_says_what_it_moved(postgres_url, tmp_path):
    source = tmp_path / "data" / "bot.sqlite3"
    before = await sqlite_database_with_everything(source)
    code, output = await run_module(
        "migrate-store", "--from", f"sqlite:///{source}", "--to", postgres_url, cwd=tmp_path, env={}
    )
    assert code == 0, output
    assert "moved 4 tasks (2 unfinished, 2 reports owed), 2 user preferences, 1 forgotten task id" in output
    async with PostgresTaskStore(postgres_url) as store:
        for key, record in before.items():
            moved = await store.get(key)
            assert moved is not None
            # Every field as it was, leases aside: they named a process of the old database.
            assert moved == _without_leases(record)
        assert await store.count_unfinished() == 2
        assert await store.notify_dm(77) and not await store.notify_dm(78)
        assert await store.was_forgotten("old")
        owed = await store.due_for_notify(now=at(1000), limit=10, exclude=set())
        assert sorted(r.key for r in owed) == ["refused", "running"]


def _without_leases(record):
    return replace(record, lease_owner=None, lease_until=None, report_owner=None, report_until=None)


async def test_migrate_store_refuses_a_non_empty_target_unless_told(postgres_url, tmp_path):
    source = tmp_path / "bot.sqlite3"
    await sqlite_database_with_everything(source)
    async with PostgresTaskStore(postgres_url) as store:
        await store.insert(new_task("already-there"), now=T0, next_poll_at=None)
    argv = ("migrate-store", "--from", f"sqlite:///{source}", "--to", postgres_url)
    code, output = await run_module(*argv, cwd=tmp_path, env={})
    assert code == 1
    assert output.strip().splitlines()[-1].startswith("refusing to migrate into a database that holds data")
    code, output = await run_module(*argv, "--into-non-empty", cwd=tmp_path, env={})
    assert code == 0, output
    assert "moved 4 tasks" in output
    code, output = await run_module(*argv, "--into-non-empty", cwd=tmp_path, env={})
    assert code == 0, output
    assert "moved 0 tasks" in output and "4 tasks already there were kept" in output


async def test_migrate_store_refuses_while_a_bot_runs_on_the_sqlite_file(postgres_url, tmp_path):
    from bot.app.single_process import exclusive_database_lock

    source = tmp_path / "bot.sqlite3"
    await sqlite_database_with_everything(source)
    with exclusive_database_lock(source):
        code, output = await asyncio.wait_for(
            run_module(
                "migrate-store", "--from", f"sqlite:///{source}", "--to", postgres_url, cwd=tmp_path, env={}
            ),
            60,
        )
    assert code == 1
    assert "another bot process is already running" in output
