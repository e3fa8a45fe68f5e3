"""Where numbers are kept: the SQLite store with vintages, its migrations, the raw archive, users and fetch requests."""
