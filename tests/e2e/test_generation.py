"""/imagine and /video from a user's click to the delivered result, through both fakes."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.harness import (
    cancel_custom_ids,
    embed_text,
    ephemeral_texts,
    has,
    replies_to,
    running_bot,
    status_message,
)
from tests.fakes.discord import FakeDiscord
from tests.fakes.gateway import FakeGateway


async def test_imagine_success_shows_queued_then_image_and_pings_only_the_requester(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    alice = discord_fake.user("alice")
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        interaction = await discord_fake.slash_command(
            "imagine", {"prompt": "a lighthouse at dusk --ar 16:9"}, user=alice
        )
        message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
        first = message.states[0]
        assert first.route == "callback"
        assert "a lighthouse at dusk --ar 16:9" in embed_text(message)
        assert "flux-1-dev" in embed_text(message)
        assert cancel_custom_ids(message) == [f"mindproxy:cancel:{interaction.id}"]

        reply = await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10)
        result_reply = reply[0]
        task = gateway.tasks_by_key[str(interaction.id)]
        assert task.task_type.api_name == "async_image"
        assert isinstance(task.metadata, dict)
        assert task.metadata["user_id"] == str(alice.id)
        assert result_reply.pinged_users == {alice.id}
        assert not result_reply.pinged_everyone and not result_reply.pinged_roles
        assert "https://" in embed_text(result_reply)

        await discord_fake.wait_for(has(lambda: not cancel_custom_ids(message)))
        final = embed_text(message)
        assert "image_url" not in final  # rendered, not dumped
        assert any("image" in e for e in message.embeds), message.embeds
        assert not message.pinged_anyone
        assert ephemeral_texts(discord_fake, interaction.id) == []
