"""The MindProxy task API: the client, its typed errors, the parsed answers, pacing and redaction."""
