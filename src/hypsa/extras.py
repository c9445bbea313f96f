"""Optional parts of hypsa and the packages each needs.

``pip install hypsa`` carries the analysis (read, analyse, report, simulate). The clinic web app,
Dask batch and the eeghdf reader come as extras: ``pip install 'hypsa[web]'``, ``'hypsa[batch]'``,
``'hypsa[hdf5]'``. Their modules import these packages only when used, and
:func:`require_extra` turns a missing one into one line that names the extra to install.
"""

from __future__ import annotations

import importlib.util

from hypsa.errors import HypsaError

__all__ = ["EXTRAS", "MissingExtraError", "missing_modules", "require_extra"]

#: Import names of the packages of each extra (as in pyproject.toml).
EXTRAS: dict[str, tuple[str, ...]] = {
    "web": ("fastapi", "uvicorn", "sqlalchemy", "alembic", "multipart", "argon2",
            "itsdangerous", "platformdirs", "psycopg"),
    "batch": ("dask", "distributed", "pyarrow"),
    "hdf5": ("eeghdf", "h5py"),
    "study": ("sklearn", "statsmodels", "pingouin", "krippendorff"),
}


class MissingExtraError(HypsaError, ImportError):
    """A command or format needs an extra that is not installed."""


def missing_modules(extra: str) -> list[str]:
    """Import names of the extra's packages that are not installed.

    Parameters
    ----------
    extra : str
        ``"web"``, ``"batch"`` or ``"hdf5"``.

    Returns
    -------
    list of str
        Empty when everything is there.
    """
    out = []
    for mod in EXTRAS[extra]:
        try:
            found = importlib.util.find_spec(mod) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            out.append(mod)
    return out


def require_extra(extra: str, what: str) -> None:
    """Raise :class:`MissingExtraError` unless every package of ``extra`` is installed.

    Parameters
    ----------
    extra : str
        ``"web"``, ``"batch"`` or ``"hdf5"``.
    what : str
        What needs it, for the message (``"hypsa serve"``).

    Raises
    ------
    MissingExtraError
        ``<what> needs the 'web' extra: pip install 'hypsa[web]' (missing: fastapi, ...)``.
    """
    missing = missing_modules(extra)
    if missing:
        raise MissingExtraError(
            f"{what} needs the {extra!r} extra: pip install 'hypsa[{extra}]' "
            f"(missing: {', '.join(missing)})"
        )
