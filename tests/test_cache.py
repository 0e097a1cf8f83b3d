"""planner.io.cache: where the travel-time cache lives, atomic entries, corrupt and read-only caches, the size cap."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest

from planner.io.cache import TravelTimeCache, cache_root, travel_time_cache
from planner.network import build_network, locate_villages, travel_times
from tests.test_network import RULES, triangle, villages

CRS = "EPSG:32650"


def matrix(n: int = 3, value: float = 1.0) -> np.ndarray:
    return np.full((n, n), value)


def small_case():
    net = build_network(triangle(), rules=RULES, crs=CRS)
    acc = locate_villages(net, villages({"A": (0, 0), "C": (6000, 3000)}), rules=RULES)
    return net, acc


def test_location_override_then_planner_cache_then_xdg_then_home(monkeypatch, tmp_path):
    """The cache directory is --cache-dir, else $PLANNER_CACHE, else $XDG_CACHE_HOME/planner, else ~/.cache/planner."""
    monkeypatch.delenv("PLANNER_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "planner"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "planner"
    monkeypatch.setenv("PLANNER_CACHE", str(tmp_path / "pc"))
    assert cache_root() == tmp_path / "pc"
    assert cache_root(tmp_path / "opt") == tmp_path / "opt"
    assert travel_time_cache(tmp_path / "opt").root == tmp_path / "opt" / "travel_times"


def test_put_then_get_round_trips_and_leaves_no_temporary_file(tmp_path):
    """An entry is written through a temporary file renamed into place: afterwards only the entry is there."""
    cache = TravelTimeCache(tmp_path / "c")
    cache.put("k1", matrix(value=7.0))
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["travel-times-k1.npz"]
    np.testing.assert_array_equal(cache.get("k1", shape=(3, 3)), matrix(value=7.0))
    assert cache.get("missing", shape=(3, 3)) is None


def test_a_failed_write_leaves_neither_entry_nor_temporary_file(tmp_path, monkeypatch):
    """When writing fails half-way, no partial entry is left that a later run could read."""
    cache = TravelTimeCache(tmp_path)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    cache.put("k1", matrix())
    assert list(tmp_path.iterdir()) == []
    assert not cache.writable


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[:40]), id="truncated"),
        pytest.param(lambda p: p.write_bytes(b"not a zip file at all"), id="not-a-zip"),
        pytest.param(lambda p: np.savez(p, seconds=np.zeros((2, 5))), id="wrong-shape"),
        pytest.param(lambda p: np.savez(p, other=np.zeros((3, 3))), id="no-seconds"),
        pytest.param(lambda p: np.savez(p, seconds=np.full((3, 3), np.nan)), id="nan"),
    ],
)
def test_a_corrupt_entry_is_removed_with_a_warning(tmp_path, caplog, damage):
    """A truncated or corrupt entry (BadZipFile, missing or wrong arrays) is removed and reported, not read."""
    cache = TravelTimeCache(tmp_path)
    cache.put("k1", matrix())
    damage(cache.path("k1"))
    with caplog.at_level(logging.WARNING, logger="planner.io.cache"):
        assert cache.get("k1", shape=(3, 3)) is None
    assert "unusable" in caplog.text
    assert not cache.path("k1").exists()


def test_travel_times_rebuild_a_corrupt_entry(tmp_path, caplog):
    """travel_times over a corrupt entry computes the matrix again, the same as without a cache, and re-stores it."""
    net, acc = small_case()
    cache = TravelTimeCache(tmp_path)
    first = travel_times(net, acc, cache=cache)
    (entry,) = tmp_path.glob("*.npz")
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    with caplog.at_level(logging.WARNING, logger="planner.io.cache"):
        again = travel_times(net, acc, cache=cache)
    assert "unusable" in caplog.text
    np.testing.assert_array_equal(again.seconds, first.seconds)
    key = entry.name.removeprefix("travel-times-").removesuffix(".npz")
    np.testing.assert_array_equal(cache.get(key, shape=(2, 2)), first.seconds)


def test_an_unwritable_cache_location_turns_caching_off(tmp_path, caplog):
    """A cache path that cannot be created (here under a file; also as root) warns and plans on without a cache."""
    (tmp_path / "file").write_text("")
    net, acc = small_case()
    cache = TravelTimeCache(tmp_path / "file" / "travel_times")
    with caplog.at_level(logging.WARNING, logger="planner.io.cache"):
        tt = travel_times(net, acc, cache=cache)
    assert np.isfinite(tt.seconds).all()
    assert "caching is off" in caplog.text


def test_size_cap_prunes_the_least_recently_used_entries(tmp_path):
    """Past max_bytes the oldest entries go first; an entry read recently counts as new; the new one stays."""
    one = 0
    cache = TravelTimeCache(tmp_path, max_bytes=10**9)
    for i, key in enumerate(["a", "b", "c"]):
        cache.put(key, matrix(n=20, value=float(i)))
        os.utime(cache.path(key), (1_000_000 + i, 1_000_000 + i))
        one = cache.path(key).stat().st_size
    assert cache.get("a", shape=(20, 20)) is not None  # "a" is used again: "b" is now the oldest
    cache.max_bytes = 3 * one
    cache.put("d", matrix(n=20, value=3.0))
    assert sorted(p.name for p in cache.entries()) == [
        "travel-times-a.npz",
        "travel-times-c.npz",
        "travel-times-d.npz",
    ]
    cache.max_bytes = one // 2  # smaller than one entry: everything but the one just written goes
    cache.put("e", matrix(n=20, value=4.0))
    assert [p.name for p in cache.entries()] == ["travel-times-e.npz"]


def test_entries_ignore_other_files(tmp_path):
    """Only the cache's own entries are counted and pruned, never other files in the directory."""
    (tmp_path / "notes.txt").write_text("keep me")
    cache = TravelTimeCache(tmp_path, max_bytes=1)
    cache.put("a", matrix())
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    assert isinstance(cache.entries()[0], Path)
