"""Asker indicator monitor: catalogue, store, evaluation and reporting of the handlingsprogram's indicators."""

__version__ = "0.1.0"
