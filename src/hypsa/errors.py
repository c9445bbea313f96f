"""Typed exceptions raised by hypsa.

Every problem with an input file is an :class:`InputError` whose ``str()`` is one line naming the
file and the problem, so the command line can print it as is and exit with status 2.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "HypsaError",
    "InputError",
    "FileAccessError",
    "UnsupportedFormatError",
    "CorruptFileError",
    "NoEEGChannelsError",
    "BadSignalError",
    "ParameterError",
]


class HypsaError(Exception):
    """Base class of every error hypsa raises on purpose."""


class ParameterError(HypsaError, ValueError):
    """A function or command was given an invalid parameter value."""


class InputError(HypsaError):
    """An input file cannot be used.

    Parameters
    ----------
    path : str or Path
        The offending file.
    problem : str
        What is wrong, in one line, ideally with what was expected and what to do.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.path}: {self.problem}")


class FileAccessError(InputError):
    """The file does not exist, is a directory, or cannot be read."""


class UnsupportedFormatError(InputError):
    """The file's extension or content is not a format hypsa reads."""


class CorruptFileError(InputError):
    """The file claims a format but its header or data are inconsistent (truncated, lying
    header)."""


class NoEEGChannelsError(InputError):
    """The file holds no usable EEG channel."""


class BadSignalError(InputError):
    """The signals cannot be analysed (NaN samples, every EEG channel flat)."""
