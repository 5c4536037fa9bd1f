"""Creating and editing stored messages the way Discord does (validation, flags, mention pings)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from tests.fakes.discord_channels import FakeChannel
from tests.fakes.discord_http import ApiError, invalid_form
from tests.fakes.discord_model import (
    FLAG_COMPONENTS_V2,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FakeMessage,
    FakeUser,
    MessageState,
    StoredFile,
    UploadedFile,
)
from tests.fakes.discord_rules import compute_pings, is_empty_create, validate_message

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord

# Flags a sender may set; EPHEMERAL only sticks on interaction responses / follow-ups.
_SETTABLE_FLAGS = (1 << 2) | (1 << 12) | FLAG_COMPONENTS_V2 | FLAG_EPHEMERAL


class MessageStore:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        # (channel id, author id, nonce) -> (message id, when it was created): Discord's `enforce_nonce`.
        self.nonces: dict[tuple[int, int, str], tuple[int, float]] = {}

    def sent_with_nonce(
        self, channel: FakeChannel, author: FakeUser, body: dict[str, Any]
    ) -> FakeMessage | None:
        """The message `author` already sent to `channel` with this body's nonce within the fake's
        `nonce_window`, when the body asks for `enforce_nonce`; Discord answers a repeat with it.

        A deleted earlier message is not looked for (Discord answers 404 then; the fake creates anew).
        """
        nonce = body.get("nonce")
        if not body.get("enforce_nonce") or nonce is None:
            return None
        found = self.nonces.get((channel.id, author.id, str(nonce)))
        if found is None or time.monotonic() - found[1] >= self.fake.nonce_window:
            return None
        earlier = self.fake.messages_by_id.get(found[0])
        return earlier if earlier is not None and not earlier.deleted else None

    def _state(
        self,
        *,
        route: str,
        content: str,
        embeds: list[dict[str, Any]],
        components: list[dict[str, Any]],
        flags: int,
        allowed_mentions: dict[str, Any] | None,
        files: list[StoredFile],
        replied_user_id: int | None,
    ) -> MessageState:
        fake = self.fake
        if flags & FLAG_EPHEMERAL:
            # Ephemeral messages are shown to one user only and notify nobody.
            users: set[int] = set()
            roles: set[int] = set()
            everyone = False
        else:
            users, roles, everyone = compute_pings(
                content,
                allowed_mentions,
                known_users=set(fake.users_by_id),
                known_roles=set(fake.roles_by_id),
                replied_user_id=replied_user_id,
            )
        return MessageState(
            time=time.monotonic(),
            route=route,
            content=content,
            embeds=embeds,
            components=components,
            flags=flags,
            allowed_mentions=allowed_mentions,
            files=files,
            pinged_users=users,
            pinged_roles=roles,
            pinged_everyone=everyone,
        )

    def _replied_user(self, reference: dict[str, Any] | None) -> int | None:
        if not reference or "message_id" not in reference:
            return None
        target = self.fake.messages_by_id.get(int(reference["message_id"]))
        if target is None or target.author.bot:
            return None
        return target.author.id

    def create(
        self,
        channel: FakeChannel,
        body: dict[str, Any] | None,
        files: list[UploadedFile],
        *,
        route: str,
        author: FakeUser,
        interaction_id: int | None = None,
        extra_flags: int = 0,
        allow_empty: bool = False,
    ) -> FakeMessage:
        body = body or {}
        errors = validate_message(body)
        if errors:
            raise invalid_form(errors)
        if not allow_empty and is_empty_create(body, len(files)):
            raise ApiError(400, 50006, "Cannot send an empty message")
        self._check_sizes(files)
        flags = (int(body.get("flags") or 0) & _SETTABLE_FLAGS) | extra_flags
        if interaction_id is None:
            flags &= ~FLAG_EPHEMERAL
        reference = body.get("message_reference")
        state = self._state(
            route=route,
            content=body.get("content") or "",
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            flags=flags,
            allowed_mentions=body.get("allowed_mentions"),
            files=self._attachments([], body, files),
            replied_user_id=self._replied_user(reference),
        )
        message = FakeMessage(
            id=self.fake.snowflakes.next(),
            channel_id=channel.id,
            author=author,
            states=[state],
            webhook_id=self.fake.application_id if interaction_id is not None else None,
            interaction_id=interaction_id,
            message_reference=reference,
        )
        nonce = body.get("nonce")
        if nonce is not None:
            message.nonce = str(nonce)
            if body.get("enforce_nonce"):
                self.nonces[(channel.id, author.id, str(nonce))] = (message.id, message.created)
        self.fake.messages_by_id[message.id] = message
        return message

    def edit(
        self, message: FakeMessage, body: dict[str, Any] | None, files: list[UploadedFile], *, route: str
    ) -> FakeMessage:
        body = body or {}
        errors = validate_message(body)
        if errors:
            raise invalid_form(errors)
        self._check_sizes(files)
        old = message.current
        content = (body.get("content") or "") if "content" in body else old.content
        embeds = (body.get("embeds") or []) if "embeds" in body else old.embeds
        components = (body.get("components") or []) if "components" in body else old.components
        # Ephemeral-ness is fixed at creation; an edit clears the "thinking" flag.
        flags = old.flags & (FLAG_EPHEMERAL | FLAG_COMPONENTS_V2)
        if "flags" in body and body["flags"] is not None:
            flags |= int(body["flags"]) & FLAG_COMPONENTS_V2
        flags &= ~FLAG_LOADING
        if flags & FLAG_COMPONENTS_V2 and (content or embeds):
            raise invalid_form(
                {
                    "content": {
                        "_errors": [
                            {
                                "code": "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                                "message": "content/embeds not allowed with V2",
                            }
                        ]
                    }
                }
            )
        message.states.append(
            self._state(
                route=route,
                content=content,
                embeds=embeds,
                components=components,
                flags=flags,
                # An edit without allowed_mentions is parsed with the defaults again.
                allowed_mentions=body.get("allowed_mentions"),
                files=self._attachments(old.files, body, files),
                replied_user_id=None,
            )
        )
        return message

    def _check_sizes(self, files: list[UploadedFile]) -> None:
        if any(len(upload.data) > self.fake.upload_limit for upload in files):
            raise ApiError(413, 40005, "Request entity too large")

    def _attachments(
        self, old: list[StoredFile], body: dict[str, Any], files: list[UploadedFile]
    ) -> list[StoredFile]:
        """The attachments after a create or edit, as Discord decides them: without an `attachments`
        list an edit keeps the old ones (and a create takes every file); with one, each entry is an
        old attachment to keep (by its id) or a new file (its id is the n of files[n])."""
        listed = body.get("attachments")
        if listed is None:
            return old + [self._stored(upload) for upload in files]
        kept = {str(stored.id): stored for stored in old}
        uploads = {str(upload.index): upload for upload in files}
        result: list[StoredFile] = []
        for entry in listed:
            entry_id = str(entry.get("id"))
            if entry_id in uploads:
                result.append(self._stored(uploads[entry_id], entry.get("filename")))
            elif entry_id in kept:
                result.append(kept[entry_id])
        return result

    def _stored(self, upload: UploadedFile, filename: str | None = None) -> StoredFile:
        name = filename or upload.filename
        return StoredFile(self.fake.snowflakes.next(), name, upload.content_type, upload.data)

    def payload(self, message: FakeMessage) -> dict[str, Any]:
        channel = self.fake.channels_by_id.get(message.channel_id)
        body = message.payload(
            guild_id=channel.guild_id if channel else None,
            application_id=self.fake.application_id,
            users=self.fake.users_by_id,
        )
        for attachment in body["attachments"]:
            # Discord signs attachment links afresh each time it hands out a message.
            attachment["url"] = attachment["proxy_url"] = self.fake.cdn.url(message, attachment["filename"])
        interaction = self.fake.interactions_by_id.get(message.interaction_id or 0)
        if interaction is not None:
            body["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": interaction.user.payload(),
                "authorizing_integration_owners": interaction.payload["authorizing_integration_owners"],
            }
        return body
