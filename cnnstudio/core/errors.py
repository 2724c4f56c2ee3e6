"""Errors that carry a message written for the person using CNN Studio."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input (file, value, setting): shown as one plain line.

    The command line prints it as ``error: <message>`` and exits with status 2.
    """


class ProjectError(UserError):
    """A project file that cannot be read or is not a valid network."""


class DatasetError(UserError):
    """A dataset that cannot be found, read, downloaded or used with this network."""
