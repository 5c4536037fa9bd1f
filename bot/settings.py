"""Configuration, read from the environment and from `.env` in the directory the bot is started in.

Nothing is read at import time: `load_settings()` is called by `python -m bot`, and a missing or bad
value stops the bot with one line naming the variable (see `describe_validation_error`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.engine.api.models import TaskType
from bot.engine.store.leases import EVERY_ROW, ReportScope

DEFAULT_BASE_URL = "https://gateway.mindproxy.ai"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """A public model a command offers, and the task type it runs as."""

    name: str
    task_type: TaskType


def parse_models(raw: str | list[str], *, default_type: TaskType) -> list[ModelChoice]:
    """Parse `name[:task_type],...`, e.g. `flux-1-dev,midjourney-v7:midjourney`."""
    items = raw.split(",") if isinstance(raw, str) else raw
    models: list[ModelChoice] = []
    for item in items:
        entry = item.strip()
        if not entry:
            continue
        name, _, type_name = entry.partition(":")
        name = name.strip()
        if not name or len(name) > 100:
            raise ValueError(f"bad model entry {entry!r}")
        try:
            task_type = TaskType.parse(type_name) if type_name.strip() else default_type
        except ValueError:
            choices = ", ".join(t.api_name for t in TaskType)
            raise ValueError(f"unknown task type in {entry!r} (use one of {choices})") from None
        models.append(ModelChoice(name, task_type))
    if not models:
        raise ValueError("at least one model is needed")
    if len(models) > 25:
        raise ValueError("at most 25 models (Discord's limit on choices)")
    return models


class Settings(BaseSettings):
    """Every setting of the bot. Field names are the environment variables, case-insensitive."""

    model_config = SettingsConfigDict(
        # A relative path: pydantic-settings resolves it against the working directory at load time.
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,  # `SYNC_GUILD_ID=` in .env means "not set", not an invalid number
    )

    discord_token: SecretStr = Field(min_length=1)
    tt_api_key: SecretStr = Field(min_length=1)
    mindproxy_base_url: str = DEFAULT_BASE_URL
    database_url: str = "sqlite:///data/bot.sqlite3"
    # PostgreSQL only: connections per process, and how long a process's claim on a task lasts.
    database_pool_size: int = Field(default=10, ge=1, le=100)
    lease_seconds: float = Field(default=30.0, ge=1, le=3600)
    # Discord shards: SHARD_COUNT in all, SHARD_IDS run by this process (all of them when unset).
    # Unset: one connection, as a bot in fewer than 2,500 servers needs.
    shard_count: int | None = Field(default=None, ge=1, le=100_000)
    shard_ids: Annotated[list[int] | None, NoDecode] = None
    # Where local files (the heartbeat) go; by default beside the SQLite file, or ./data with PostgreSQL.
    data_dir: Path | None = None

    poll_interval: float = Field(default=3.0, gt=0, le=300)
    gateway_max_rps: float = Field(default=20.0, gt=0, le=10_000)
    gateway_max_in_flight: int = Field(default=32, ge=1, le=1_000)
    gateway_timeout: float = Field(default=20.0, gt=0, le=600)
    task_max_age: float = Field(default=7200.0, gt=0)
    task_retention_days: float = Field(default=90.0, gt=0, le=36_500)

    # Minimum seconds between two edits of one status message (Discord rate-limits edits).
    status_edit_interval: float = Field(default=2.0, ge=0, le=60)
    # Seconds one download of a result file may take before the result stays a link (with a note).
    result_download_timeout: float = Field(default=60.0, gt=0, le=600)
    max_active_per_user: int = Field(default=3, ge=1, le=100)
    max_image_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    # Longest prompt accepted; 6000 is Discord's limit for a string option (the option's max_length).
    max_prompt_length: int = Field(default=4000, ge=1, le=6000)
    imagine_models: Annotated[list[ModelChoice], NoDecode] = Field(
        default_factory=lambda: parse_models(
            "flux-1-dev,sdxl-lightning,midjourney-v7:midjourney", default_type=TaskType.ASYNC_IMAGE
        )
    )
    video_models: Annotated[list[ModelChoice], NoDecode] = Field(
        default_factory=lambda: parse_models("kling-v2,veo-3-fast", default_type=TaskType.VIDEO)
    )

    # Discord's REST base, to route through a REST proxy such as nirn-proxy; Discord's own when unset.
    discord_api_base_url: str | None = None

    log_level: str = "INFO"
    sync_commands_on_start: bool = False
    sync_guild_id: int | None = None

    @field_validator("imagine_models", mode="before")
    @classmethod
    def _imagine_models(cls, value: object) -> object:
        if isinstance(value, str | list) and not _is_parsed(value):
            return parse_models(value, default_type=TaskType.ASYNC_IMAGE)
        return value

    @field_validator("video_models", mode="before")
    @classmethod
    def _video_models(cls, value: object) -> object:
        if isinstance(value, str | list) and not _is_parsed(value):
            return parse_models(value, default_type=TaskType.VIDEO)
        return value

    @field_validator("mindproxy_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("discord_api_base_url")
    @classmethod
    def _discord_api_base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return cls._base_url(value)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("sqlite:///") and len(value) > len("sqlite:///"):
            return value
        if value.startswith(POSTGRES_SCHEMES) and len(value.split("://", 1)[1]) > 0:
            return value
        raise ValueError(
            "use sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE (e.g. sqlite:///data/bot.sqlite3)"
        )

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            if not parts:
                return None
            try:
                return sorted({int(part) for part in parts})
            except ValueError:
                raise ValueError("must be shard numbers separated by commas, e.g. 0,2") from None
        return value

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("SHARD_IDS needs SHARD_COUNT (the shards of all processes together)")
            outside = [shard for shard in self.shard_ids if not 0 <= shard < self.shard_count]
            if outside:
                raise ValueError(f"SHARD_IDS {outside} are not shards of SHARD_COUNT={self.shard_count}")
            if self.database_kind == "sqlite" and len(self.shard_ids) < self.shard_count:
                raise ValueError(
                    "SHARD_IDS leaves shards to other processes, which need a shared PostgreSQL database "
                    "(DATABASE_URL=postgresql://...); one process on SQLite runs every shard"
                )
        return self

    @property
    def runs_shards(self) -> bool:
        """Whether this process connects to Discord as (some of) several shards."""
        return self.shard_count is not None

    @property
    def report_scope(self) -> ReportScope:
        """The tasks whose reports this process delivers: those of the servers on its shards."""
        if self.shard_count is None:
            return EVERY_ROW
        shards = self.shard_ids if self.shard_ids is not None else range(self.shard_count)
        return ReportScope(frozenset(shards), self.shard_count)

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @property
    def database_kind(self) -> Literal["sqlite", "postgresql"]:
        return "postgresql" if self.database_url.startswith(POSTGRES_SCHEMES) else "sqlite"

    @property
    def database_path(self) -> Path:
        """The SQLite file; a relative path is relative to the working directory."""
        if self.database_kind != "sqlite":
            raise ValueError("DATABASE_URL is not a SQLite file")
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def local_dir(self) -> Path:
        """Where the process keeps its local files (the heartbeat): `DATA_DIR` if set, else beside the
        SQLite file, or `data` in the working directory with PostgreSQL."""
        if self.data_dir is not None:
            return self.data_dir
        return self.database_path.parent if self.database_kind == "sqlite" else Path("data")


def _is_parsed(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, ModelChoice) for v in value)


class ConfigurationError(Exception):
    """A setting is missing or invalid; the message is one line naming it."""


def describe_validation_error(error: ValidationError) -> str:
    """One line per bad variable, naming it as the user sets it (upper case)."""
    lines = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]).upper() or "configuration"
        if item["type"] == "missing":
            lines.append(f"{name} is not set (put it in .env or the environment)")
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
            lines.append(f"{name} is invalid: {message}")
    return "; ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read the settings now; raise ConfigurationError with a one-line message on a bad value."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # field-checked by pydantic
    except ValidationError as error:
        raise ConfigurationError(describe_validation_error(error)) from None
