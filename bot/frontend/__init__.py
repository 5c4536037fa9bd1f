"""The Discord side every feature shares: the bot client, the command tree, components, delivery."""
