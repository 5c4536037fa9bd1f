"""Text helpers shared by every renderer: Discord limits, truncation, escaping, timestamps, links."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import discord

# Discord's message limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
CONTENT_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
# Discord refuses an embed whose image URL is longer than this (and the whole edit with it).
EMBED_URL_LIMIT = 2048

ELLIPSIS = "…"

_URL_RE = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with an ellipsis when something was cut."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def escape_user_text(text: str) -> str:
    """User text made safe for an embed: Discord markdown cannot break the layout.

    Links are left alone (escaping them would break them) and mid-line `--ar 16:9` flags stay as they
    are; a flag at the start of a line gets a backslash that Discord hides when it renders.
    """
    return discord.utils.escape_markdown(text)


def escape_for_content(text: str) -> str:
    """User text made safe for message content: no markdown and no mention can ping anyone."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def inline_code(text: str, limit: int) -> str:
    """`text` as inline code; backticks are dropped because they cannot be escaped inside code spans."""
    cleaned = " ".join(text.replace("`", "'").split()) or "?"
    return f"`{truncate(cleaned, max(limit - 2, 1))}`"


def quote_block(text: str) -> str:
    """Every line of (already escaped) `text` as a Markdown block quote."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines() or [""])


def one_line(text: str) -> str:
    """Collapse runs of whitespace (newlines included) into single spaces."""
    return " ".join(text.split())


def short_ref(value: str, length: int) -> str:
    """`value` if it is short, else its first characters followed by an ellipsis."""
    return value if len(value) <= length else value[: length - 1] + ELLIPSIS


def as_aware(moment: datetime) -> datetime:
    """A naive datetime read from storage is UTC; an aware one is kept as it is."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def discord_timestamp(moment: datetime, style: str = "R") -> str:
    """A `<t:UNIX:style>` tag: Discord renders it in the reader's time zone and keeps `R` up to date."""
    return f"<t:{int(as_aware(moment).timestamp())}:{style}>"


def parse_moment(value: object) -> datetime | None:
    """A datetime from a datetime, an ISO 8601 string or UNIX seconds; None for anything else."""
    if isinstance(value, datetime):
        return as_aware(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value:
        try:
            return as_aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def format_duration(seconds: float) -> str:
    """A short human duration: `45s`, `2m 05s`, `1h 02m`."""
    total = max(round(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def format_bytes(size: int) -> str:
    """A size in the units people read: `512 bytes`, `340 KB`, `12.5 MB`."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    megabytes = size / (1024 * 1024)
    return f"{megabytes:.0f} MB" if megabytes == int(megabytes) else f"{megabytes:.1f} MB"


def usable_url(value: object) -> str | None:
    """`value` when it is an http(s) URL Discord accepts in an embed; None otherwise.

    A bad URL in `set_image` makes Discord refuse the whole message, so anything doubtful is left out.
    """
    if not isinstance(value, str):
        return None
    url = value.strip()
    if len(url) > EMBED_URL_LIMIT or not _URL_RE.fullmatch(url):
        return None
    return url


def markdown_link(label: str, url: str) -> str:
    """`[label](url)`; parentheses in the URL are percent-encoded so they cannot end the link early."""
    safe_url = url.replace("(", "%28").replace(")", "%29")
    safe_label = label.replace("[", "(").replace("]", ")")
    return f"[{safe_label}]({safe_url})"


def message_link(guild_id: int | None, channel_id: int, message_id: int) -> str:
    """A Discord message link (a jump link), in a server or in DMs."""
    server = guild_id if guild_id is not None else "@me"
    return f"https://discord.com/channels/{server}/{channel_id}/{message_id}"
