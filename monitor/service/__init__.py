"""Running it: the scheduler's jobs, the single-scheduler lock and the scheduler loop."""
