"""Text files written whole into a folder: a province's province.json, index.html and map beside its county plans; a
sweep's sweep.csv and sweep.html."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_files(out: Path, files: dict[str, str]) -> None:
    """Write each file into ``out`` atomically (a temporary file in ``out``, then a rename), so that a reader or
    an interrupted run never sees half a province.json; the county plan directories beside them are left as
    they are."""
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, out / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
