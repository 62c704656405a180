"""The one exception class of a user's mistake.

A :class:`UserError` says what was wrong, with the value, and what to do next; ``vssl-bench``
prints it as one line and exits with code 2. Any other exception is a bug of the harness (or of
a library) and keeps its traceback: ``cli.main`` catches only this class (plus ``OSError``,
for missing or unwritable files), never every ``ValueError``.

It subclasses ``ValueError`` so that code and tests written against ``ValueError`` keep working.
:class:`ConfigError` is the kind raised for configs (suite, method, family). This module imports
nothing, so every layer (data, methods, runner, protocols) can raise them.
"""
from __future__ import annotations


class UserError(ValueError):
    """A value given by the user (config, command line, data file) that cannot be used; the
    message names the value and the fix."""


class ConfigError(UserError):
    """A config that cannot be run as it is; the message says what to change."""
