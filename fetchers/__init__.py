"""Fetchers: one module per online source, each turning a source's responses into observations."""
