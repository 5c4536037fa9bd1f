"""The background work: one poller loop, what each step does to a row, timing, progress and reports."""
