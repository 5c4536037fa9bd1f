"""Issue 8's chaos run: 50 jobs while both services misbehave; every job still ends with exactly one
visible final message, and it tells the truth.

The gateway answers some creates too late (the create was accepted: the re-sent one is a replay, often
already final), serves unreadable results, forgets tasks (404) and fails others; Discord resets some
progress edits and refuses some final edits as if the thread were archived (400/50083).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import CreateRequest, FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_model import FakeMessage
from tests.harness import running_bot, status_message

JOBS = 50
KINDS = ("quick", "unreadable", "vanish", "fails", "slow")
CHARGE_WORDS = re.compile(r"nothing was charged|not charged", re.IGNORECASE)


def script_for(create: CreateRequest) -> Script:
    kind = create.prompt.split()[0]
    if kind == "unreadable":
        return Script.invalid_result(after=0.3)
    if kind == "fails":
        return Script.failure(after=0.4, code="nsfw_filter", message="the prompt was refused by the filter")
    if kind == "slow":
        return Script.success(after=2.0, progress=["10%", "30%", "50%", "70%", "90%"])
    if kind == "vanish":
        return Script.never_finishes()
    return Script.success(after=0.0)  # quick: often final by the time a late create is re-sent


async def forget_vanishing_tasks(gateway: FakeGateway) -> None:
    """The gateway loses every 'vanish' task once it has answered its create: later reads are 404."""
    while True:
        for task_id, task in list(gateway.tasks.items()):
            if task.prompt.startswith("vanish"):
                gateway.tasks.pop(task_id, None)
        await asyncio.sleep(0.05)


def visible_finals(discord_fake: FakeDiscord, task_ref: str, status: FakeMessage) -> list[FakeMessage]:
    """Public messages other than the status message that name the task: its final announcements."""
    return [
        m
        for m in discord_fake.messages_by_id.values()
        if m.id != status.id and not m.ephemeral and not m.deleted and task_ref in m.content
    ]


async def test_fifty_jobs_through_failing_services_each_end_with_one_true_final_message(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = script_for
    gateway.slow_next(8, delay=1.5, kind="create")  # accepted, answered after the bot's time-out
    discord_fake.faults.abort_next("webhook", 6, method="PATCH")  # progress edits reset mid-flight
    discord_fake.faults.fail_next(
        "webhook", 3, status=400, code=50083, method="PATCH", message="Thread is archived"
    )
    discord_fake.faults.fail_next(
        "channel_message", 3, status=400, code=50083, method="PATCH", message="Thread is archived"
    )
    forgetting = asyncio.create_task(forget_vanishing_tasks(gateway))
    try:
        async with running_bot(
            discord_fake, gateway, tmp_path / "bot.sqlite3", gateway_timeout=0.5, max_active_per_user=100
        ):
            users = ("alice", "bob", "carol")
            interactions = await asyncio.gather(
                *(
                    discord_fake.slash_command(
                        "imagine", {"prompt": f"{KINDS[n % len(KINDS)]} job {n}"}, user=users[n % len(users)]
                    )
                    for n in range(JOBS)
                )
            )
            statuses = {
                i.id: await discord_fake.wait_for(lambda i=i: status_message(discord_fake, i.id), timeout=15)
                for i in interactions
            }

            def task_ref(interaction_id: int) -> str:
                task = gateway.tasks_by_key.get(str(interaction_id))
                return task.task_id if task is not None else str(interaction_id)

            def all_final() -> bool:
                return all(visible_finals(discord_fake, task_ref(i.id), statuses[i.id]) for i in interactions)

            await discord_fake.wait_for(all_final, timeout=60)
            await asyncio.sleep(1.0)  # anything posted twice would show up now
    finally:
        forgetting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await forgetting

    assert len(gateway.tasks_by_key) == JOBS  # one gateway task per request, late creates included
    for interaction in interactions:
        kind = interaction.payload["data"]["options"][0]["value"].split()[0]
        task = gateway.tasks_by_key[str(interaction.id)]
        finals = visible_finals(discord_fake, task.task_id, statuses[interaction.id])
        assert len(finals) == 1, (kind, [m.content for m in finals])
        text = finals[0].content
        if kind in ("quick", "slow"):
            assert f"https://cdn.fake.test/{task.task_id}.png" in text, text  # the result reached them
        elif kind == "unreadable":
            assert "could not be read" in text and "https://cdn.fake.test/x.png" in text, text
        elif kind == "vanish":
            assert "lost" in text, text
        else:
            assert "the prompt was refused by the filter" in text, text
        if kind != "fails":  # only the gateway's FAILED says nothing was charged
            assert not CHARGE_WORDS.search(text), text
        else:
            assert CHARGE_WORDS.search(text), text
    # The chaos really happened: late creates were re-sent (and answered as replays), and Discord failed.
    keys = [r.json_body["idempotency_key"] for r in gateway.requests_of("create")]
    assert sum(1 for key in set(keys) if keys.count(key) > 1) >= 4
    # The injected Discord failures really happened.
    assert any(c.status == 0 for c in discord_fake.calls)
    assert any(c.status == 400 for c in discord_fake.calls)
