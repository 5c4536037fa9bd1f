"""Showing engine updates in Discord: the notifier and the per-channel edit budget."""
