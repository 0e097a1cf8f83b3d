"""The walkthrough notebook runs top to bottom on the demo region and is in step with its generator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_notebook_matches_its_generator(tmp_path: Path) -> None:
    """walkthrough.ipynb is what make_walkthrough.py writes (the cells are reviewed as code there)."""
    script = (NOTEBOOKS / "make_walkthrough.py").read_text(encoding="utf-8")
    (tmp_path / "make_walkthrough.py").write_text(script, encoding="utf-8")
    subprocess.run([sys.executable, str(tmp_path / "make_walkthrough.py")], check=True, timeout=60)
    fresh = nbformat.read(tmp_path / "walkthrough.ipynb", as_version=4)
    shipped = nbformat.read(NOTEBOOKS / "walkthrough.ipynb", as_version=4)
    assert [c.source for c in fresh.cells] == [c.source for c in shipped.cells]


@pytest.mark.slow
def test_walkthrough_runs_without_errors() -> None:
    """Every cell of the walkthrough executes; the patrol cell plans a month with visits in it."""
    nb = nbformat.read(NOTEBOOKS / "walkthrough.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    streams = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "66 villages" in streams
    assert "'visits':" in streams
