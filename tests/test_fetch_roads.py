"""planner fetch-roads against a local Overpass server (127.0.0.1) that answers with the demo's roads (issue 14)."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from pathlib import Path

import osmium
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _overpass_answer(osm: Path) -> bytes:
    """The demo's drivable roads as an Overpass JSON answer (what the real API returns for a drive query)."""
    elements: list[dict] = []
    for obj in osmium.FileProcessor(str(osm)):
        if obj.is_node():
            elements.append({"type": "node", "id": obj.id, "lat": obj.location.lat, "lon": obj.location.lon})
        elif obj.is_way():
            elements.append(
                {"type": "way", "id": obj.id, "nodes": [n.ref for n in obj.nodes], "tags": dict(obj.tags)}
            )
    return json.dumps({"version": 0.6, "elements": elements}).encode()


@pytest.fixture(scope="module")
def overpass():
    """A local Overpass API: /status says a slot is free, /interpreter answers every query with the demo roads;
    it counts the queries it gets."""
    body = _overpass_answer(ROOT / "data" / "demo" / "roads.osm.bz2")
    queries: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            text = b"Connected as: 1\nCurrent time: 2026-12-01T00:00:00Z\nAnnounced endpoint: none\nRate limit: 2\n2 slots available now.\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(text)

        def do_POST(self) -> None:
            queries.append(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api", queries
    server.shutdown()


@pytest.mark.slow
def test_fetch_roads_writes_a_road_file_that_plan_reads_and_caches_the_answer(overpass, tmp_path):
    """The roads of the demo's extent come from the server, are written as OSM XML that planner.io.roads reads
    like the extract itself, and a second run is answered from the cache without a query."""
    url, queries = overpass
    env_cache = {"PLANNER_CACHE": str(tmp_path / "cache")}
    out = tmp_path / "roads.osm"
    cmd = [
        sys.executable,
        "-m",
        "planner",
        "fetch-roads",
        "--villages",
        str(ROOT / "data" / "demo" / "villages.gpkg"),
        "--out",
        str(out),
        "--overpass-url",
        url,
        "--lang",
        "en",
    ]
    import os

    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, **env_cache})
    assert p.returncode == 0, p.stderr
    assert "roads" in p.stdout and len(queries) >= 1 and "highway" in queries[0]
    from planner.io.roads import read_roads

    fetched, extract = read_roads(out), read_roads(ROOT / "data" / "demo" / "roads.osm.bz2")
    assert abs(len(fetched) - len(extract)) <= 0.02 * len(extract)  # the same network, cut to the extent
    km = [r.to_crs(32631).geometry.length.sum() / 1000 for r in (fetched, extract)]
    assert km[0] == pytest.approx(km[1], rel=0.05)
    n = len(queries)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, **env_cache})
    assert p.returncode == 0, p.stderr
    assert len(queries) == n  # cached


def test_fetch_roads_without_a_server_says_what_to_do(tmp_path):
    """No server at the address: an input error (exit 2) naming the server and the way out (--roads)."""
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "planner",
            "fetch-roads",
            "--villages",
            str(ROOT / "data" / "demo" / "villages.gpkg"),
            "--out",
            str(tmp_path / "r.osm"),
            "--overpass-url",
            "http://127.0.0.1:9/api",
            "--lang",
            "en",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 2, p.stderr
    assert "Overpass" in p.stderr and "--roads" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "r.osm").exists()
