"""The travel-time cache on disk: one ``.npz`` matrix per key, written atomically, checked when read, capped in size.

Where it lives (the first that is set): the ``--cache-dir`` option (:func:`travel_time_cache`'s ``override``),
``$PLANNER_CACHE``, ``$XDG_CACHE_HOME/planner``, ``~/.cache/planner``; matrices go to its ``travel_times/``.

The cache is only ever a shortcut, never a reason to fail: an entry that cannot be read (a truncated or corrupt
file, arrays of the wrong shape) is removed, reported with a warning and computed again; a cache directory that
cannot be written (read-only, full disk) turns caching off for the run with a warning. When the entries pass
:data:`planner.settings.CACHE_MAX_BYTES`, the least recently used ones are removed.
"""

from __future__ import annotations

import logging
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from planner.settings import CACHE_MAX_BYTES

log = logging.getLogger(__name__)

ENTRY_PREFIX = "travel-times-"
ENTRY_SUFFIX = ".npz"


def cache_root(override: str | os.PathLike[str] | None = None) -> Path:
    """The planner's cache directory: ``override``, else ``$PLANNER_CACHE``, ``$XDG_CACHE_HOME/planner``, ``~/.cache/planner``.

    Parameters
    ----------
    override
        A directory chosen by the user (the CLI's ``--cache-dir``); empty or None means "not given".
    """
    if override:
        return Path(override).expanduser()
    if os.environ.get("PLANNER_CACHE"):
        return Path(os.environ["PLANNER_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "planner"


def travel_time_cache(
    override: str | os.PathLike[str] | None = None, *, max_bytes: int = CACHE_MAX_BYTES
) -> TravelTimeCache:
    """The travel-time cache in :func:`cache_root` (``travel_times/`` inside it), for the CLI to hand to the pipeline."""
    return TravelTimeCache(cache_root(override) / "travel_times", max_bytes=max_bytes)


class TravelTimeCache:
    """Travel-time matrices stored under a key, in ``root`` (created on the first write).

    Parameters
    ----------
    root
        The directory of the entries.
    max_bytes
        After a write, the least recently used entries are removed until the rest fit.
    """

    def __init__(self, root: str | os.PathLike[str], *, max_bytes: int = CACHE_MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = int(max_bytes)
        # turned off for the rest of the run after a failed write, so that a read-only cache warns once
        self.writable = True

    def __repr__(self) -> str:
        return f"TravelTimeCache({str(self.root)!r}, max_bytes={self.max_bytes})"

    def path(self, key: str) -> Path:
        """The file of an entry."""
        return self.root / f"{ENTRY_PREFIX}{key}{ENTRY_SUFFIX}"

    def get(self, key: str, *, shape: tuple[int, int]) -> np.ndarray | None:
        """The stored matrix of ``key``, or None when there is none or it is unusable (then it is removed).

        Parameters
        ----------
        key
            The entry's key (:func:`planner.network.travel_times_key`).
        shape
            The shape the matrix must have; a stored matrix of another shape is taken for a corrupt entry.
        """
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                seconds = np.asarray(z["seconds"])
            problem = _matrix_problem(seconds, shape)
        except (zipfile.BadZipFile, ValueError, KeyError, EOFError, OSError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            log.warning(
                "travel-time cache entry %s is unusable (%s): removed, the matrix is computed again",
                path,
                problem,
            )
            self._remove(path)
            return None
        try:
            os.utime(path)  # a read counts as a use: pruning removes the least recently used entries
        except OSError:
            log.debug("cannot mark %s as used (read-only cache)", path)
        log.info("travel times read from cache %s", path)
        return seconds

    def put(self, key: str, seconds: np.ndarray) -> None:
        """Store ``seconds`` under ``key`` (a temporary file renamed into place), then prune to ``max_bytes``."""
        if not self.writable:
            return
        path = self.path(key)
        tmp: Path | None = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=self.root)
            tmp = Path(name)
            with os.fdopen(fd, "wb") as f:
                np.savez(f, seconds=seconds)
            os.replace(tmp, path)
            tmp = None
        except OSError as exc:
            self.writable = False
            log.warning(
                "travel-time cache %s cannot be written (%s): caching is off for this run", self.root, exc
            )
            return
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        log.info("travel times cached in %s", path)
        self.prune(keep=path)

    def entries(self) -> list[Path]:
        """The entries, least recently used first."""
        try:
            found = [p for p in self.root.glob(f"{ENTRY_PREFIX}*{ENTRY_SUFFIX}") if p.is_file()]
            return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))
        except OSError:
            return []

    def prune(self, *, keep: Path | None = None) -> list[Path]:
        """Remove the least recently used entries until the rest fit ``max_bytes``; returns the removed files.

        ``keep`` (the entry just written) is never removed, even when it alone is larger than the cap.
        """
        entries = self.entries()
        sizes = {p: _size(p) for p in entries}
        total = sum(sizes.values())
        removed: list[Path] = []
        for p in entries:
            if total <= self.max_bytes:
                break
            if p == keep:
                continue
            if self._remove(p):
                total -= sizes[p]
                removed.append(p)
        if removed:
            log.info(
                "travel-time cache %s: %d old entries removed to stay under %d bytes",
                self.root,
                len(removed),
                self.max_bytes,
            )
        return removed

    def _remove(self, path: Path) -> bool:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot remove the travel-time cache entry %s (%s)", path, exc)
            return False
        return True


def _matrix_problem(seconds: np.ndarray, shape: tuple[int, int]) -> str:
    """Why a stored matrix cannot be a travel-time matrix of ``shape`` (empty when it can)."""
    if seconds.shape != tuple(shape):
        return f"shape {seconds.shape}, expected {tuple(shape)}"
    if seconds.dtype.kind != "f":
        return f"dtype {seconds.dtype}, expected floats"
    if seconds.size and (np.isnan(seconds).any() or (seconds < 0).any()):
        return "NaN or negative times"
    return ""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
