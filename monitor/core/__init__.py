"""The shared kernel: the data model, the error tree, settings, timestamps, number formats and the fetch-block schema; imports nothing else of the monitor."""
