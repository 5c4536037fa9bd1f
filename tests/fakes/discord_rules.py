"""Discord's message validation limits and mention rules, as the fake enforces them.

Limits: https://discord.com/developers/docs/resources/message and .../components/reference.
Mentions: https://discord.com/developers/docs/resources/message#allowed-mentions-object
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.discord_model import FLAG_COMPONENTS_V2

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
ACTION_ROWS_MAX = 5
ROW_ITEMS_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
V2_COMPONENTS_MAX = 40
V2_TEXT_MAX = 4000
NONCE_MAX = 25

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_EVERYONE = re.compile(r"@(everyone|here)")

Errors = dict[str, Any]


def _error(errors: Errors, path: list[str | int], code: str, message: str) -> None:
    node = errors
    for key in path:
        node = node.setdefault(str(key), {})
    node.setdefault("_errors", []).append({"code": code, "message": message})


def _max_len(errors: Errors, path: list[str | int], value: object, limit: int) -> int:
    if not isinstance(value, str):
        return 0
    if len(value) > limit:
        _error(errors, path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return len(value)


def _validate_embed(errors: Errors, index: int, embed: dict[str, Any]) -> int:
    base: list[str | int] = ["embeds", index]
    total = _max_len(errors, [*base, "title"], embed.get("title"), 256)
    total += _max_len(errors, [*base, "description"], embed.get("description"), 4096)
    footer = embed.get("footer") or {}
    total += _max_len(errors, [*base, "footer", "text"], footer.get("text"), 2048)
    author = embed.get("author") or {}
    total += _max_len(errors, [*base, "author", "name"], author.get("name"), 256)
    fields = embed.get("fields") or []
    if len(fields) > 25:
        _error(errors, [*base, "fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for field_index, embed_field in enumerate(fields):
        total += _max_len(errors, [*base, "fields", field_index, "name"], embed_field.get("name"), 256)
        total += _max_len(errors, [*base, "fields", field_index, "value"], embed_field.get("value"), 1024)
    return total


def _walk_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for component in components:
        found.append(component)
        found.extend(_walk_components(component.get("components") or []))
        accessory = component.get("accessory")
        if isinstance(accessory, dict):
            found.append(accessory)
    return found


def _validate_components(errors: Errors, components: list[dict[str, Any]], *, v2: bool) -> None:
    if not v2 and len(components) > ACTION_ROWS_MAX:
        _error(errors, ["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    for row_index, row in enumerate(components):
        children = row.get("components") or []
        if row.get("type") == 1 and len(children) > ROW_ITEMS_MAX:
            _error(
                errors, ["components", row_index, "components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer."
            )
    every = _walk_components(components)
    for index, component in enumerate(every):
        _max_len(errors, ["components", index, "custom_id"], component.get("custom_id"), CUSTOM_ID_MAX)
        if component.get("type") == 2:
            _max_len(errors, ["components", index, "label"], component.get("label"), BUTTON_LABEL_MAX)
    if v2:
        if len(every) > V2_COMPONENTS_MAX:
            _error(errors, ["components"], "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer components.")
        text = sum(len(c.get("content") or "") for c in every if c.get("type") == 10)
        if text > V2_TEXT_MAX:
            _error(errors, ["components"], "BASE_TYPE_MAX_LENGTH", "Must be 4000 or fewer characters.")


def validate_message(body: dict[str, Any]) -> Errors | None:
    """Return Discord's `errors` object for an invalid create/edit body, or None when it is valid."""
    errors: Errors = {}
    content = body.get("content")
    _max_len(errors, ["content"], content, CONTENT_MAX)
    embeds = body.get("embeds") or []
    if len(embeds) > EMBEDS_MAX:
        _error(errors, ["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    embed_total = sum(_validate_embed(errors, i, e) for i, e in enumerate(embeds))
    if embed_total > EMBED_TOTAL_MAX:
        _error(errors, ["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    flags = int(body.get("flags") or 0)
    v2 = bool(flags & FLAG_COMPONENTS_V2)
    components = body.get("components") or []
    _validate_components(errors, components, v2=v2)
    if v2 and (content or embeds):
        _error(
            errors,
            ["content"],
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used when using MessageFlags.IS_COMPONENTS_V2",
        )
    nonce = body.get("nonce")
    if isinstance(nonce, str) and len(nonce) > NONCE_MAX:
        _error(errors, ["nonce"], "BASE_TYPE_MAX_LENGTH", f"Must be {NONCE_MAX} or fewer in length.")
    mentions = body.get("allowed_mentions")
    if isinstance(mentions, dict):
        parse = mentions.get("parse") or []
        for kind in ("users", "roles"):
            if kind in parse and mentions.get(kind):
                _error(
                    errors,
                    ["allowed_mentions"],
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
                )
    return errors or None


def is_empty_create(body: dict[str, Any], attachment_count: int) -> bool:
    return not (
        body.get("content")
        or body.get("embeds")
        or body.get("components")
        or attachment_count
        or body.get("sticker_ids")
        or body.get("poll")
    )


def compute_pings(
    content: str,
    allowed_mentions: dict[str, Any] | None,
    *,
    known_users: set[int],
    known_roles: set[int],
    replied_user_id: int | None = None,
) -> tuple[set[int], set[int], bool]:
    """Who a message with this content would notify: (users, roles, everyone).

    Without `allowed_mentions` Discord parses users, roles and @everyone/@here; a reply pings
    the replied-to author unless `replied_user` is false (default false once allowed_mentions is given).
    """
    mentioned_users = {int(m) for m in _USER_MENTION.findall(content)} & known_users
    mentioned_roles = {int(m) for m in _ROLE_MENTION.findall(content)} & known_roles
    has_everyone = bool(_EVERYONE.search(content))
    if allowed_mentions is None:
        users = set(mentioned_users)
        if replied_user_id is not None:
            users.add(replied_user_id)
        return users, mentioned_roles, has_everyone
    parse = set(allowed_mentions.get("parse") or [])
    allowed_users = {int(u) for u in allowed_mentions.get("users") or []}
    allowed_roles = {int(r) for r in allowed_mentions.get("roles") or []}
    users = mentioned_users if "users" in parse else mentioned_users & allowed_users
    roles = mentioned_roles if "roles" in parse else mentioned_roles & allowed_roles
    if replied_user_id is not None and allowed_mentions.get("replied_user"):
        users = users | {replied_user_id}
    return users, roles, has_everyone and "everyone" in parse
