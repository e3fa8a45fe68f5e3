"""The monitor command line: each command group in its own module, errors turned into one bokmål sentence."""
