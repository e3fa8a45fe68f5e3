"""Telling ops: alert episodes from evaluations and fetch runs, their e-mails, and the outbox that sends them."""
