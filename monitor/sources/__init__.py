"""The online sources: the one source registry, the one fetch pipeline with its change checks and per-table runs, and the online checks (the only part that uses fetchers)."""
