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
