"""Test support code: fake sources over real HTTP, a real SMTP server, clocks, checks and helpers.

Imported as ``support.…`` inside pytest (pytest puts ``tests/`` on sys.path, since ``tests/`` has no
``__init__.py``) and as ``tests.support.…`` from the repository root (``python -m tests.support.fake_pxwebapi``).
The modules import each other relatively, so both names work.
"""
