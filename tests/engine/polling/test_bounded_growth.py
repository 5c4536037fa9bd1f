"""Issue 8: what the engine keeps is bounded: finals that cannot be delivered are abandoned after a
bounded time (loudly), finished rows are pruned after the retention period, tokens are dropped."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from bot.engine.api.models import TaskStatus
from bot.testing.fake_gateway.server import Script
from tests.engine.support import config_with, new_task, running_engine, submit_and_confirm, wait_for_row


async def test_a_final_the_front_end_keeps_refusing_is_abandoned_after_a_bounded_time(
    fake_gateway, client, store, notifier, caplog
):
    fake_gateway.script_when("fox", Script.success(after=0.0))
    notifier.failures_left["k-undeliverable"] = 10_000
    config = config_with(report_give_up_after=0.5, notify_retry=0.05, max_backoff=0.1)
    with caplog.at_level(logging.ERROR, logger="bot.engine.polling.reporting"):
        async with running_engine(client, store, notifier=notifier, config=config) as engine:
            await submit_and_confirm(engine, new_task("k-undeliverable"))
            row = await wait_for_row(
                store, "k-undeliverable", lambda r: r.is_finished and r.notify_due_at is None
            )
            await notifier.wait_for(lambda: notifier.abandoned == ["k-undeliverable"])
    assert row.status is TaskStatus.SUCCEEDED
    assert 5 <= notifier.failed_calls < 200  # retried with backoff, not in a tight loop
    assert any("k-undeliverable" in r.getMessage() and "giving up" in r.getMessage() for r in caplog.records)


async def test_the_reply_token_is_dropped_once_the_final_is_delivered(fake_gateway, client, store, notifier):
    fake_gateway.script_when("fox", Script.success(after=0.0))
    async with running_engine(client, store, notifier=notifier) as engine:
        await submit_and_confirm(engine, replace(new_task("k-token"), reply_token="interaction-token"))
        row = await wait_for_row(store, "k-token", lambda r: r.is_finished and r.notify_due_at is None)
    assert row.reply_token is None


async def test_finished_rows_are_pruned_after_the_retention_period_and_running_ones_kept(
    fake_gateway, client, store, notifier
):
    fake_gateway.script_when("quick", Script.success(after=0.0))
    fake_gateway.script_when("slow", Script.never_finishes())
    config = config_with(retention=0.3, prune_every=0.1)
    async with running_engine(client, store, notifier=notifier, config=config) as engine:
        await submit_and_confirm(engine, new_task("k-done", prompt="quick"))
        await submit_and_confirm(engine, new_task("k-running", prompt="slow"))
        await notifier.wait_final("k-done")
        for _ in range(100):  # up to 5 s
            if await store.get("k-done") is None:
                break
            await asyncio.sleep(0.05)
        assert await store.get("k-done") is None
        running = await store.get("k-running")
    assert running is not None and not running.is_finished
