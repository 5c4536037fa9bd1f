"""Where task rows live: the `TaskStore` interface (interface.py) and its implementations."""
