"""PostgreSQL fixtures (tests/postgres.py) for the operator commands' tests."""

from tests.postgres import postgres_database, postgres_url  # noqa: F401 - fixtures
