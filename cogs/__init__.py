"""Slash-command extensions, each loaded by the bot's setup_hook."""
