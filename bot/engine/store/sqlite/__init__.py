"""The SQLite task store: connection and transactions, row encoding, versioned migrations."""
