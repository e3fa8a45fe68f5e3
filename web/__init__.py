"""The Flask web UI (arrives with the web UI issue)."""
