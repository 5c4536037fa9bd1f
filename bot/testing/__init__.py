"""Tools to try the bot without the real services: a simulated MindProxy gateway."""
