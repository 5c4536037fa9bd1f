"""Settings added for results that last: validated at start, with one line naming the variable."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings, describe_validation_error

SECRETS = {"discord_token": "t", "tt_api_key": "k"}


def test_the_result_download_timeout_defaults_to_a_minute_and_must_be_positive() -> None:
    assert Settings(_env_file=None, **SECRETS).result_download_timeout == 60.0  # type: ignore[call-arg]
    for bad in ("0", "-1", "601", "soon"):
        with pytest.raises(ValidationError) as raised:
            Settings(_env_file=None, result_download_timeout=bad, **SECRETS)  # type: ignore[call-arg]
        assert describe_validation_error(raised.value).startswith("RESULT_DOWNLOAD_TIMEOUT is invalid")


PG = "postgresql://bot@db.example/bot"


def test_without_shard_settings_one_process_reports_every_server() -> None:
    settings = Settings(_env_file=None, **SECRETS)  # type: ignore[call-arg]
    assert not settings.runs_shards
    assert settings.report_scope.everything


def test_shard_ids_are_the_shards_this_process_runs_and_decide_whose_reports_it_delivers() -> None:
    settings = Settings(_env_file=None, shard_count="4", shard_ids="2, 0", database_url=PG, **SECRETS)  # type: ignore[call-arg]
    assert settings.shard_ids == [0, 2]
    scope = settings.report_scope
    assert scope.covers(0 << 22) and scope.covers(2 << 22) and not scope.covers(1 << 22)
    every = Settings(_env_file=None, shard_count="4", **SECRETS)  # type: ignore[call-arg]
    assert every.report_scope.shard_ids == frozenset(range(4))  # all shards of SQLite's one process


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"shard_ids": "0"}, "SHARD_IDS needs SHARD_COUNT"),
        ({"shard_count": "2", "shard_ids": "0,2", "database_url": PG}, "[2] are not shards of SHARD_COUNT=2"),
        ({"shard_count": "2", "shard_ids": "one"}, "shard numbers separated by commas"),
        ({"shard_count": "2", "shard_ids": "1"}, "need a shared PostgreSQL database"),
    ],
)
def test_bad_shard_settings_stop_the_bot_with_one_line(values: dict[str, str], says: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, **values, **SECRETS)  # type: ignore[call-arg]
    assert says in describe_validation_error(raised.value)
