"""PostgreSQL-only tests: a fresh schema per test (skipped without TEST_POSTGRES_URL)."""

from tests.postgres import postgres_database, postgres_url  # noqa: F401 - fixtures
