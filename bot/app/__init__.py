"""Process wiring and operator commands: run (runtime), check, sync, health, simulate."""
