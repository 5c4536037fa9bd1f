"""The task engine: MindProxy task API client, task store and poller.

Nothing in this package imports discord: another front end can reuse it as is.
"""
