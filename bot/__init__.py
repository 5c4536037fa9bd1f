"""MindProxy Discord bot: /imagine and /video as long-running gateway tasks."""
