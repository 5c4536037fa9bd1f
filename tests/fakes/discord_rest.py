"""REST handlers of the fake Discord: login, channels, DMs, commands, interaction callbacks, webhooks."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from tests.fakes.discord_channels import FakeChannel
from tests.fakes.discord_http import UNKNOWN_MESSAGE, ApiError, ApiRequest, HttpFrontend
from tests.fakes.discord_model import (
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FakeInteraction,
    FakeMessage,
    InteractionResponse,
)
from tests.fakes.discord_threads import ThreadRules

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord

Result = tuple[int, Any]


class RestHandlers:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.store = fake.store
        self.threads = ThreadRules(fake)

    def register(self, http: HttpFrontend) -> None:
        add = http.add
        add("GET", "/users/@me", "login", self.get_me)
        add("GET", "/oauth2/applications/@me", "login", self.get_application)
        add("GET", "/users/{user_id}", "users", self.get_user)
        add("GET", "/gateway", "gateway", self.get_gateway, auth=False)
        add("GET", "/gateway/bot", "gateway", self.get_gateway)
        add("POST", "/users/@me/channels", "dm_create", self.create_dm)
        add("POST", "/channels/{channel_id}/messages", "channel_message", self.send, bucket="channel_id")
        for method, handler in (("GET", self.get_message), ("PATCH", self.edit), ("DELETE", self.delete)):
            add(
                method,
                "/channels/{channel_id}/messages/{message_id}",
                "channel_message",
                handler,
                bucket="channel_id",
            )
        for scope in ("/applications/{app_id}/commands", "/applications/{app_id}/guilds/{guild_id}/commands"):
            add("PUT", scope, "commands", self.put_commands)
            add("GET", scope, "commands", self.get_commands)
        add(
            "POST",
            "/interactions/{interaction_id}/{token}/callback",
            "interaction_callback",
            self.callback,
            auth=False,
        )
        add("POST", "/webhooks/{app_id}/{token}", "webhook", self.followup, auth=False, bucket="token")
        for method in ("GET", "PATCH", "DELETE"):
            add(
                method,
                "/webhooks/{app_id}/{token}/messages/{message_id}",
                "webhook",
                self.webhook_message,
                auth=False,
                bucket="token",
            )

    # ---- login -------------------------------------------------------------------------------
    async def get_me(self, request: ApiRequest) -> Result:
        return 200, self.fake.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0}

    async def get_user(self, request: ApiRequest) -> Result:
        user = self.fake.users_by_id.get(int(request.params["user_id"]))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return 200, user.payload()

    async def get_application(self, request: ApiRequest) -> Result:
        fake = self.fake
        return 200, {
            "id": str(fake.application_id),
            "name": fake.bot_user.name,
            "description": "",
            "icon": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": fake.owner.payload(),
            "team": None,
            "verify_key": "0" * 64,
            "summary": "",
            "flags": 0,
            "bot": fake.bot_user.payload(),
        }

    async def get_gateway(self, request: ApiRequest) -> Result:
        return 200, {
            "url": self.fake.gateway_url,
            "shards": self.fake.shard_count,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
        }

    # ---- channels ----------------------------------------------------------------------------
    def _channel(self, request: ApiRequest, *, sending: bool = False) -> FakeChannel:
        channel = self.fake.channels_by_id.get(int(request.params["channel_id"]))
        if channel is None:
            raise ApiError(404, 10003, "Unknown Channel")
        if channel.forbidden:
            raise ApiError(403, 50001, "Missing Access")
        if sending and channel.recipient_id is not None:
            recipient = self.fake.users_by_id[channel.recipient_id]
            if not recipient.dms_open:
                raise ApiError(403, 50007, "Cannot send messages to this user")
        return channel

    def _channel_message(self, request: ApiRequest, channel: FakeChannel) -> FakeMessage:
        message = self.fake.messages_by_id.get(int(request.params["message_id"]))
        if message is None or message.deleted or message.channel_id != channel.id or message.ephemeral:
            raise ApiError(*UNKNOWN_MESSAGE)
        return message

    async def create_dm(self, request: ApiRequest) -> Result:
        user = self.fake.users_by_id.get(int((request.json or {}).get("recipient_id", 0)))
        if user is None:
            raise ApiError(
                400,
                50035,
                "Invalid Form Body",
                {"recipient_id": {"_errors": [{"code": "INVALID_USER", "message": "Unknown user"}]}},
            )
        channel = self.fake.dm_channel(user)
        return 200, channel.payload() | {"recipients": [user.payload()]}

    async def send(self, request: ApiRequest) -> Result:
        channel = self._channel(request, sending=True)
        self.threads.before_send(channel)
        earlier = self.store.sent_with_nonce(channel, self.fake.bot_user, request.json or {})
        if earlier is not None:
            return 200, self.store.payload(earlier)
        message = self.store.create(
            channel, request.json, request.files, route="channel", author=self.fake.bot_user
        )
        self.threads.after_send(channel)
        return 200, self.store.payload(message)

    async def get_message(self, request: ApiRequest) -> Result:
        channel = self._channel(request)
        return 200, self.store.payload(self._channel_message(request, channel))

    async def edit(self, request: ApiRequest) -> Result:
        channel = self._channel(request)
        message = self._channel_message(request, channel)
        if message.author.id != self.fake.bot_user.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        self.threads.before_edit(channel)
        self.store.edit(message, request.json, request.files, route="channel")
        return 200, self.store.payload(message)

    async def delete(self, request: ApiRequest) -> Result:
        channel = self._channel(request)
        message = self._channel_message(request, channel)
        message.deleted, message.deleted_by = True, "bot"
        return 204, None

    # ---- application commands ----------------------------------------------------------------
    async def put_commands(self, request: ApiRequest) -> Result:
        guild_id = request.params.get("guild_id")
        key = int(guild_id) if guild_id else None
        old = {c["name"]: c for c in self.fake.commands.get(key, [])}
        stored = []
        for command in request.json or []:
            previous = old.get(command["name"])
            stored.append(
                {"type": 1, "description": "", "options": []}
                | command
                | {
                    "id": previous["id"] if previous else str(self.fake.snowflakes.next()),
                    "application_id": str(self.fake.application_id),
                    "version": str(self.fake.snowflakes.next()),
                }
                | ({"guild_id": guild_id} if guild_id else {})
            )
        self.fake.commands[key] = stored
        return 200, stored

    async def get_commands(self, request: ApiRequest) -> Result:
        guild_id = request.params.get("guild_id")
        return 200, self.fake.commands.get(int(guild_id) if guild_id else None, [])

    # ---- interactions ------------------------------------------------------------------------
    async def callback(self, request: ApiRequest) -> Result:
        fake = self.fake
        interaction = fake.interactions_by_id.get(int(request.params["interaction_id"]))
        if interaction is None or interaction.token != request.params["token"]:
            raise ApiError(404, 10062, "Unknown interaction")
        if interaction.acknowledged:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - interaction.created > fake.callback_deadline:
            raise ApiError(404, 10062, "Unknown interaction")
        body = request.json or {}
        callback_type = int(body.get("type", 0))
        data = body.get("data") or {}
        ephemeral = bool(int(data.get("flags") or 0) & FLAG_EPHEMERAL)
        message: FakeMessage | None = None
        if callback_type == 4:
            message = self.store.create(
                interaction.channel,
                data,
                request.files,
                route="callback",
                author=fake.bot_user,
                interaction_id=interaction.id,
            )
            interaction.original_message_id = message.id
        elif callback_type == 5:
            message = self.store.create(
                interaction.channel,
                {"flags": data.get("flags", 0)},
                [],
                route="callback",
                author=fake.bot_user,
                interaction_id=interaction.id,
                extra_flags=FLAG_LOADING,
                allow_empty=True,
            )
            interaction.original_message_id = message.id
        elif callback_type in (6, 7):
            if interaction.type != 3:
                raise ApiError(
                    400,
                    50035,
                    "Invalid Form Body",
                    {
                        "type": {
                            "_errors": [
                                {
                                    "code": "INTERACTION_RESPONSE_TYPE_INVALID",
                                    "message": "Only for components",
                                }
                            ]
                        }
                    },
                )
            message = fake.messages_by_id.get(int(interaction.payload["message"]["id"]))
            if message is None or message.deleted:
                raise ApiError(*UNKNOWN_MESSAGE)
            if callback_type == 7:
                self.store.edit(message, data, request.files, route="callback")
            interaction.original_message_id = message.id
            ephemeral = message.ephemeral
        elif callback_type == 9:
            interaction.modals.append(data)
        elif callback_type != 1:
            raise ApiError(
                400,
                50035,
                "Invalid Form Body",
                {
                    "type": {
                        "_errors": [
                            {"code": "BASE_TYPE_CHOICES", "message": f"Unknown callback type {callback_type}"}
                        ]
                    }
                },
            )
        interaction.acknowledged = True
        interaction.callback_type = callback_type
        interaction.responses.append(
            InteractionResponse(
                "callback", callback_type, data, ephemeral, message_id=message.id if message else None
            )
        )
        resource: dict[str, Any] = {"type": callback_type}
        if message is not None and callback_type != 6:
            resource["message"] = self.store.payload(message)
        return 200, {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "activity_instance_id": None,
                "response_message_id": str(message.id) if message else None,
                "response_message_loading": callback_type == 5,
                "response_message_ephemeral": ephemeral,
            },
            "resource": resource,
        }

    def _token_interaction(self, request: ApiRequest) -> FakeInteraction:
        fake = self.fake
        if request.params["app_id"] != str(fake.application_id):
            raise ApiError(404, 10015, "Unknown Webhook")
        interaction = fake.interactions_by_token.get(request.params["token"])
        if (
            interaction is None
            or interaction.token_expired
            or time.monotonic() - interaction.created > fake.token_lifetime
        ):
            raise ApiError(401, 50027, "Invalid Webhook Token")
        return interaction

    async def followup(self, request: ApiRequest) -> Result:
        interaction = self._token_interaction(request)
        if not interaction.acknowledged:
            raise ApiError(404, 10015, "Unknown Webhook")
        original = self.fake.messages_by_id.get(interaction.original_message_id or 0)
        body = request.json or {}
        if interaction.callback_type == 5 and original is not None and original.loading:
            # Discord turns the first follow-up after a "thinking" defer into the deferred message itself.
            self.threads.before_edit(interaction.channel)
            self.store.edit(original, body, request.files, route="webhook")
            message = original
        else:
            self.threads.before_send(interaction.channel)
            message = self.store.create(
                interaction.channel,
                body,
                request.files,
                route="webhook",
                author=self.fake.bot_user,
                interaction_id=interaction.id,
            )
            self.threads.after_send(interaction.channel)
            interaction.followup_ids.append(message.id)
        interaction.responses.append(
            InteractionResponse("followup", None, body, message.ephemeral, message_id=message.id)
        )
        return 200, self.store.payload(message)

    async def webhook_message(self, request: ApiRequest) -> Result:
        interaction = self._token_interaction(request)
        raw_id = request.params["message_id"]
        message_id = interaction.original_message_id if raw_id == "@original" else int(raw_id)
        allowed = {interaction.original_message_id, *interaction.followup_ids}
        message = self.fake.messages_by_id.get(message_id or 0)
        if message is None or message.deleted or message.id not in allowed:
            raise ApiError(*UNKNOWN_MESSAGE)
        kind = "original" if message.id == interaction.original_message_id else "followup"
        if request.method == "GET":
            return 200, self.store.payload(message)
        if request.method == "DELETE":
            message.deleted, message.deleted_by = True, "bot"
            interaction.responses.append(
                InteractionResponse(f"delete_{kind}", None, {}, message.ephemeral, message_id=message.id)
            )
            return 204, None
        self.threads.before_edit(self.fake.channels_by_id[message.channel_id])
        self.store.edit(message, request.json, request.files, route="webhook")
        interaction.responses.append(
            InteractionResponse(
                f"edit_{kind}", None, request.json or {}, message.ephemeral, message_id=message.id
            )
        )
        return 200, self.store.payload(message)
