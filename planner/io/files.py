"""Reading and writing layers and tables, and writing output directories atomically.

Every reader here turns the ways a file can be wrong into a :class:`~planner.errors.ValidationError` that names
the file and says what to do; every writer writes to a temporary place first and then moves it into place, so
that an interrupted run never leaves a half-written file or plan directory behind (INTERFACE.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import importlib.resources
import logging
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors

from planner.errors import ValidationError
from planner.io.formats import INPUT_EXTENSIONS, LAYER_DRIVERS, TABLE_SUFFIXES, read_table
from planner.model import ROSTER_EXTRA

log = logging.getLogger(__name__)

_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qmd")
_MAX_PROBLEMS = 20
_GDAL_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError)


def check_input_path(
    path: str | os.PathLike[str], *, what: str, what_zh: str, extensions: tuple[str, ...] = INPUT_EXTENSIONS
) -> Path:
    """Return ``path`` as a Path after checking that it exists and has a supported extension.

    Parameters
    ----------
    path
        The file given by the user.
    what, what_zh
        What the file is meant to hold, for the message ("village layer", "村庄图层").
    extensions
        The accepted extensions (lower case, with the dot).

    Raises
    ------
    ValidationError
        The file does not exist, is a directory, or has another extension.
    """
    p = Path(path)
    if not p.exists():
        raise ValidationError(
            f"{what} {p}: file not found; check the path",
            zh=f"{what_zh} {p}:文件不存在,请检查路径",
        )
    if p.is_dir():
        raise ValidationError(
            f"{what} {p} is a directory; give the file itself (one of {', '.join(extensions)})",
            zh=f"{what_zh} {p} 是目录,请给出文件本身({'、'.join(extensions)})",
        )
    if p.suffix.lower() not in extensions:
        raise ValidationError(
            f"{what} {p}: unsupported file type '{p.suffix}'; give one of {', '.join(extensions)}",
            zh=f"{what_zh} {p}:不支持的文件类型“{p.suffix}”,请使用 {'、'.join(extensions)}",
        )
    return p


def shapefile_encoding(path: Path, *, encoding: str | None = None) -> str | None:
    """The encoding to read the attribute text of a Shapefile with.

    ``encoding`` wins; otherwise a ``.cpg`` file or a code-page byte in the ``.dbf`` header is honoured (GDAL
    reads them, so None is returned). Without either, the text is tried as UTF-8 and, when it does not decode,
    read as GB18030 (a superset of GBK and GB2312, the usual encodings of Chinese desktop GIS files).

    Parameters
    ----------
    path
        The ``.shp`` file.
    encoding
        An explicit encoding from the user.

    Returns
    -------
    str or None
        The encoding to pass to pyogrio, or None to let GDAL use the one the file declares.
    """
    if encoding:
        return encoding
    if path.with_suffix(".cpg").exists() or path.with_suffix(".CPG").exists():
        return None
    dbf = next((q for q in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if q.exists()), None)
    if dbf is None:
        return None  # GDAL reports the missing .dbf
    raw = dbf.read_bytes()
    if len(raw) > 29 and raw[29] != 0:
        return None  # the language-driver byte names a code page; GDAL honours it
    try:
        raw[32:].decode("utf-8")
    except UnicodeDecodeError:
        log.info("%s has no .cpg and its text is not UTF-8: reading it as GB18030 (GBK)", path)
        return "GB18030"
    return "UTF-8"


def read_layer_file(
    path: Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    what: str,
    what_zh: str,
    prefer_layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read one layer of a GeoPackage, Shapefile, GeoJSON or FlatGeobuf file.

    Parameters
    ----------
    path
        The file (checked by :func:`check_input_path`).
    layer
        Layer name inside a multi-layer file; default: ``prefer_layer`` when the file has it, else the first
        layer (logged when there are several).
    encoding
        Text encoding (Shapefile); detected when omitted, see :func:`shapefile_encoding`.
    what, what_zh
        What the file is meant to hold, for messages.
    prefer_layer
        The layer to read by default when a file holds several.

    Raises
    ------
    ValidationError
        The file cannot be opened, the layer does not exist, or the text does not decode.
    """
    if path.suffix.lower() == ".shp" and not any(path.with_suffix(e).exists() for e in (".dbf", ".DBF")):
        # GDAL reads a .shp without its .dbf as geometries without attributes: every column would be "missing"
        raise ValidationError(
            f"{what} {path}: the Shapefile's .dbf file ({path.with_suffix('.dbf').name}, which holds the attribute "
            "table: ids, names, population) is missing; copy it beside the .shp, with the .shx and .prj",
            zh=f"{what_zh} {path}:缺少 Shapefile 的 .dbf 文件({path.with_suffix('.dbf').name}, 存放属性表:编号、名称、"
            "人口);请把它与 .shx、.prj 一起放在 .shp 旁边",
        )
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except _GDAL_ERRORS as exc:
        raise ValidationError(
            f"{what} {path} cannot be read ({exc}); check that it is a valid {path.suffix} file "
            "(open it in QGIS) or export it again",
            zh=f"{what_zh} {path} 无法读取({exc});请确认它是有效的 {path.suffix} 文件(可用 QGIS 打开)或重新导出",
        ) from exc
    if layer is not None and layer not in layers:
        raise ValidationError(
            f"{what} {path} has no layer '{layer}'; its layers are: {', '.join(layers)} (choose one with --layer)",
            zh=f"{what_zh} {path} 中没有图层“{layer}”;现有图层:{'、'.join(layers)}(用 --layer 选择)",
        )
    if layer is None and len(layers) > 1:
        layer = prefer_layer if prefer_layer in layers else layers[0]
        log.warning(
            "%s holds %d layers (%s): reading '%s' (choose another with --layer)",
            path,
            len(layers),
            ", ".join(layers),
            layer,
        )
    enc = shapefile_encoding(path, encoding=encoding) if path.suffix.lower() == ".shp" else encoding
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer, encoding=enc)
    except UnicodeDecodeError as exc:
        declared = enc or "the encoding the file declares (.cpg)"
        raise ValidationError(
            f"{what} {path}: the attribute text or a field name does not decode as {declared} ({exc}); "
            "pass the right encoding with --encoding (e.g. GBK, GB18030, UTF-8)",
            zh=f"{what_zh} {path}:属性文字或字段名无法按 {declared} 解码;请用 --encoding 指定正确编码(如 GBK、GB18030、UTF-8)",
        ) from exc
    except LookupError as exc:
        raise ValidationError(
            f"{what} {path}: unknown encoding '{enc}'; use e.g. UTF-8, GBK or GB18030",
            zh=f"{what_zh} {path}:未知编码“{enc}”,请使用 UTF-8、GBK 或 GB18030 等",
        ) from exc
    except _GDAL_ERRORS as exc:
        raise ValidationError(
            f"{what} {path} cannot be read ({exc}); check that it is a valid {path.suffix} file "
            "(for a Shapefile the .shp, .shx and .dbf files must sit together) or export it again",
            zh=f"{what_zh} {path} 无法读取({exc});请确认文件有效(Shapefile 的 .shp、.shx、.dbf 须在同一目录)"
            "或重新导出",
        ) from exc
    gdf.columns = [c if c == gdf.geometry.name else str(c).strip() for c in gdf.columns]
    return gdf


def _layer_for_writing(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy fit for GDAL: a named index becomes the first column; dates become ISO text."""
    named = [n for n in gdf.index.names if n is not None]
    out = gdf.reset_index() if named and not set(named) & set(gdf.columns) else gdf.reset_index(drop=True)
    for col in out.columns:
        if col == out.geometry.name:
            continue
        s = out[col]
        if s.dtype == object and s.map(lambda v: hasattr(v, "isoformat")).any():
            out[col] = s.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
    return out


def _shapefile_field_names(columns: list[str], encoding: str) -> dict[str, str]:
    """Field names cut to the 10 bytes a .dbf holds, on character boundaries, made unique."""
    renamed: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        name = col
        while len(name.encode(encoding, errors="replace")) > 10:
            name = name[:-1]
        k = 1
        base = name
        while name.lower() in used:
            suffix = f"_{k}"
            name = base
            while len((name + suffix).encode(encoding, errors="replace")) > 10:
                name = name[:-1]
            name += suffix
            k += 1
        used.add(name.lower())
        if name != col:
            renamed[col] = name
    return renamed


def write_layer(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    layer: str = "villages",
    encoding: str | None = None,
) -> Path:
    """Write a GeoDataFrame as a GeoPackage, GeoJSON, FlatGeobuf or Shapefile, atomically.

    The file is written under a temporary name beside ``path`` and then moved over it (``os.replace``), so a
    reader never sees a half-written file. An existing file at ``path`` is replaced as a whole (a GeoPackage
    is not appended to). A named index (e.g. ``village_id``) is written as the first column.

    Parameters
    ----------
    gdf
        The layer; not modified.
    path
        ``.gpkg``, ``.geojson``/``.json``, ``.fgb`` or ``.shp``.
    layer
        Layer name (GeoPackage; other formats take the name from the file).
    encoding
        Attribute text encoding of a Shapefile (default UTF-8; e.g. ``"GBK"`` for older Chinese desktop GIS).
        A ``.cpg`` file naming it is always written beside the Shapefile.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ValidationError
        Unsupported extension, or the data cannot be stored in that format or encoding.
    """
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in LAYER_DRIVERS:
        raise ValidationError(
            f"output {p}: unsupported file type '{p.suffix}'; use one of {', '.join(LAYER_DRIVERS)}",
            zh=f"输出文件 {p}:不支持的文件类型“{p.suffix}”,请使用 {'、'.join(LAYER_DRIVERS)}",
        )
    if encoding and ext != ".shp":
        log.info("encoding=%s applies to Shapefiles only; %s is written as UTF-8", encoding, p)
    p.parent.mkdir(parents=True, exist_ok=True)
    data = _layer_for_writing(gdf)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{p.name}.tmp-", dir=p.parent))
    try:
        tmp = tmp_dir / p.name
        kwargs: dict[str, Any] = {"driver": LAYER_DRIVERS[ext]}
        if ext == ".gpkg":
            kwargs["layer"] = layer
        if ext == ".shp":
            kwargs["encoding"] = encoding or "UTF-8"
            fields = [c for c in data.columns if c != data.geometry.name]
            renamed = _shapefile_field_names(fields, kwargs["encoding"])
            if renamed:
                log.info(
                    "%s: Shapefile field names hold 10 bytes; renamed %s",
                    p.name,
                    ", ".join(f"{a} -> {b}" for a, b in renamed.items()),
                )
                data = data.rename(columns=renamed)
        try:
            pyogrio.write_dataframe(data, tmp, **kwargs)
        except UnicodeEncodeError as exc:
            raise ValidationError(
                f"output {p}: some text cannot be written in encoding {encoding} ({exc}); "
                "use UTF-8 or GB18030",
                zh=f"输出文件 {p}:部分文字无法用 {encoding} 编码写出;请改用 UTF-8 或 GB18030",
            ) from exc
        except _GDAL_ERRORS as exc:
            raise ValidationError(
                f"output {p} cannot be written as {LAYER_DRIVERS[ext]} ({exc}); use a GeoPackage (.gpkg)",
                zh=f"输出文件 {p} 无法写成 {LAYER_DRIVERS[ext]}({exc});请改用 GeoPackage(.gpkg)",
            ) from exc
        if ext == ".shp":
            for part in _SHAPEFILE_PARTS:  # stale parts of an older shapefile must not outlive it
                old = p.with_suffix(part)
                if old.exists() and not (tmp_dir / old.name).exists():
                    old.unlink()
            for new in sorted(tmp_dir.iterdir()):
                os.replace(new, p.parent / new.name)
        else:
            os.replace(tmp, p)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    log.info("wrote %d features to %s", len(data), p)
    return p


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


#: The file that names a directory as a plan the planner wrote; only such a directory is ever replaced.
PLAN_MARKER = ".planner-plan"
#: What a plan directory of planner 0.1 (written before the marker existed) holds: such a directory, holding
#: nothing else, is recognised as a plan too, so that plans made before the marker can still be replaced.
_PLAN_NAMES = frozenset(
    {
        PLAN_MARKER,
        "plan.gpkg",
        "summary.json",
        "schedule.csv",
        "schedule.xlsx",
        "map.html",
        "report.html",
        "report.pdf",
        "route_sheets.html",
        "travel_times.npz",
        "officers.csv",
        "shp",
    }
)
#: Free space below which a plan directory is refused before any solving (a plan is a few MB; a county's
#: map and Shapefiles can reach tens of MB).
MIN_FREE_BYTES = 100 * 2**20
# a full disk, a quota, a read-only or forbidden folder: the run's surroundings, told as such, not a bug
_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def is_plan_dir(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a directory the planner wrote: it holds the marker, or only a 0.1 plan's files."""
    p = Path(path)
    if not p.is_dir() or p.is_symlink():
        return False
    if (p / PLAN_MARKER).is_file():
        return True
    names = {q.name for q in p.iterdir()}
    return "plan.gpkg" in names and names <= _PLAN_NAMES


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_writable(target: Path, out: str | os.PathLike[str]) -> None:
    """The folder that will hold ``target`` can take a new directory: found by trying, before any solving."""
    where = _nearest_existing(target.parent)
    if not where.is_dir():
        raise ValidationError(
            f"--out {out}: {where} is a file, not a folder, so the plan directory cannot be made there; "
            "choose another --out",
            zh=f"--out {out}:{where} 是文件而非文件夹,无法在其中建立方案目录;请换一个 --out",
        )
    try:
        with tempfile.TemporaryFile(dir=where):
            pass
    except OSError as exc:
        raise ValidationError(
            f"--out {out}: the folder {where} cannot be written to ({exc.strerror or exc}); "
            "choose a folder you can write to",
            zh=f"--out {out}:文件夹 {where} 不可写({exc.strerror or exc});请换一个可写的文件夹",
        ) from None
    free = shutil.disk_usage(where).free
    if free < MIN_FREE_BYTES:
        raise ValidationError(
            f"--out {out}: only {free / 2**20:.0f} MB free on the disk of {where}; a plan needs up to "
            f"{MIN_FREE_BYTES // 2**20} MB: free some space or choose another --out",
            zh=f"--out {out}:{where} 所在磁盘仅剩 {free / 2**20:.0f} MB;方案最多需要 {MIN_FREE_BYTES // 2**20} MB,"
            "请清理空间或换一个 --out",
        )


def check_output_dir(
    out: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    marker: str | None = None,
    inputs: tuple[str | os.PathLike[str], ...] = (),
    writable: bool = False,
) -> Path:
    """Check that ``out`` may become an output directory; return it as an absolute Path.

    Called by :func:`atomic_output_dir` and, before any work starts, by the CLI, so that a run that would
    end by refusing to write its plan refuses at once.

    Parameters
    ----------
    out
        The directory to create or replace.
    overwrite
        Replace an existing non-empty directory.
    marker
        The name of the file that marks a directory as ours (:data:`PLAN_MARKER` for a plan directory): then
        only a directory holding it (or only a 0.1 plan's files) is replaced, whatever ``overwrite`` says.
    inputs
        Input files of the run: ``out`` must neither be one nor hold one (it is replaced as a whole).
    writable
        Also check that the folder that will hold ``out`` can be written to and has some free space.

    Raises
    ------
    ValidationError
        ``out`` is a symbolic link, a file, the current folder or one holding it, holds an input, is a
        non-empty directory that is not ours, or an existing one without ``overwrite``.
    """
    target = Path(os.path.abspath(out))  # "." or "plan/" must still have a parent and a name
    if target.is_symlink():
        raise ValidationError(
            f"--out {out} is a symbolic link; give the folder itself (the plan directory is replaced as a "
            "whole, and a link would be replaced instead of what it points to)",
            zh=f"--out {out} 是符号链接;请给出文件夹本身(方案目录会被整体替换)",
        )
    real = target.resolve()
    for given in inputs:
        path = Path(given).resolve()
        if path.exists() and (path == real or path.is_relative_to(real)):
            raise ValidationError(
                f"--out {out} holds the input {given}: the plan directory is created or replaced as a whole, so "
                f"it must not contain the inputs; choose a new folder, e.g. --out {target / 'plan'}",
                zh=f"--out {out} 中有输入文件 {given}:方案目录会被整体建立或替换,不能包含输入文件;"
                f"请换一个新文件夹,例如 --out {target / 'plan'}",
            )
    cwd = Path.cwd().resolve()
    if cwd == real or cwd.is_relative_to(real):
        raise ValidationError(
            f"--out {out} is the current folder or holds it; the plan directory is created or replaced as a "
            f"whole: choose a new folder, e.g. --out {target / 'plan'}",
            zh=f"--out {out} 是当前文件夹或包含当前文件夹;方案目录会被整体建立或替换,请换一个新文件夹,"
            f"例如 --out {target / 'plan'}",
        )
    if target.exists() and not target.is_dir():
        raise ValidationError(
            f"output {out} exists and is a file, not a directory; choose another --out",
            zh=f"输出位置 {out} 已存在且是文件而非目录;请换一个 --out",
        )
    if target.is_dir() and any(target.iterdir()):
        if marker is not None and not ((target / marker).is_file() or is_plan_dir(target)):
            foreign = sorted(p.name for p in target.iterdir() if p.name not in _PLAN_NAMES)[:5]
            raise ValidationError(
                f"output directory {out} holds files that are not a planner plan ({', '.join(foreign)}); "
                f"the planner replaces only a plan directory it wrote (one holding {marker}), even with "
                "--overwrite: choose a new or empty --out",
                zh=f"输出目录 {out} 中有不属于方案的文件({'、'.join(foreign)});即使加 --overwrite,"
                f"本程序也只替换它自己写出的方案目录(含 {marker} 文件):请换一个新的或空的 --out",
            )
        if not overwrite:
            raise ValidationError(
                f"output directory {out} exists and is not empty; pass --overwrite to replace it "
                "or choose another --out",
                zh=f"输出目录 {out} 已存在且非空;如要替换请加 --overwrite,或换一个 --out",
            )
    if writable:
        _check_writable(target, out)
    return target


def _lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}.lock"


def _lock_holder(lock: Path) -> tuple[int, str] | None:
    """(pid, host) written in a lock file, or None when it cannot be read (being written, or garbled)."""
    try:
        pid_text, host = lock.read_text(encoding="utf-8").split("\n")[:2]
        return int(pid_text), host
    except (OSError, ValueError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    except OSError:
        return False
    return True


@contextlib.contextmanager
def output_lock(out: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the lock of output directory ``out`` (a file ``.NAME.lock`` beside it) for the block.

    A second run into the same ``out`` is refused while the first holds the lock. A lock left by a run that
    was killed (its process is gone) is recognised by its PID and taken over, with a warning. Re-entrant: a
    process that holds the lock may enter again (the CLI holds it for the whole run, the writer for the write).
    SIGTERM inside the block is turned into KeyboardInterrupt, so the lock is released as on Ctrl-C.

    Raises
    ------
    ValidationError
        Another live run holds the lock.
    """
    target = Path(os.path.abspath(out))
    lock = _lock_path(target)
    me = (os.getpid(), socket.gethostname())
    if _lock_holder(lock) == me:
        yield lock
        return
    created = [d for d in (target.parent, *target.parent.parents) if not d.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _lock_holder(lock)
            if holder is None:
                try:
                    young = time.time() - lock.stat().st_mtime < 10
                except FileNotFoundError:
                    continue
                if young:  # another run is writing its PID into it right now
                    holder = (-1, me[1])
            if holder is not None and (holder[1] != me[1] or holder[0] < 0 or _pid_alive(holder[0])):
                pid = "?" if holder[0] < 0 else str(holder[0])
                raise ValidationError(
                    f"another planner run (PID {pid} on {holder[1]}) is writing to --out {out}; wait until it "
                    f"ends or choose another --out (if no run is going on, delete {lock})",
                    zh=f"另一个规划进程(PID {pid},主机 {holder[1]})正在写入 --out {out};请等待其结束或换一个"
                    f" --out(如确无进程在运行,请删除 {lock})",
                ) from None
            log.warning("removing the stale lock %s left by a run that no longer exists", lock)
            lock.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"{me[0]}\n{me[1]}\n")
        break
    else:
        raise ValidationError(
            f"--out {out}: could not take the lock {lock}; delete it if no planner run is going on",
            zh=f"--out {out}:无法取得锁文件 {lock};如确无规划进程在运行,请删除它",
        )
    in_main = threading.current_thread() is threading.main_thread()
    old_handler = signal.signal(signal.SIGTERM, _raise_interrupt) if in_main else None
    try:
        yield lock
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, old_handler if old_handler is not None else signal.SIG_DFL)
        if _lock_holder(lock) == me:
            lock.unlink(missing_ok=True)
        if not target.exists():  # a run that wrote nothing leaves no empty folders behind either
            for d in created:
                with contextlib.suppress(OSError):
                    d.rmdir()


@contextlib.contextmanager
def atomic_output_dir(
    out: str | os.PathLike[str], *, overwrite: bool = False, marker: str | None = None
) -> Iterator[Path]:
    """Build an output directory in a temporary place and move it to ``out`` only when complete.

    Yields a fresh temporary directory beside ``out`` (same file system, so the final move is a rename).
    When the block finishes, the temporary directory becomes ``out``; an old ``out`` (``overwrite=True``) is
    moved aside first and deleted only after the new one is in place. When the block raises (including
    KeyboardInterrupt, and SIGTERM, which is turned into KeyboardInterrupt inside the block) the temporary
    directory is removed and ``out`` is left untouched. The lock of ``out`` (:func:`output_lock`) is held
    throughout.

    Parameters
    ----------
    out
        The directory to create or replace.
    overwrite
        Replace an existing non-empty ``out``.
    marker
        A file name that marks the directory as ours: written (one line of text) into the new directory,
        and an existing ``out`` is replaced only when it holds it (see :func:`check_output_dir`).

    Yields
    ------
    Path
        The temporary directory to write into.

    Raises
    ------
    ValidationError
        ``out`` may not be written (see :func:`check_output_dir`), or another run holds its lock.
    """
    with output_lock(out):
        target = check_output_dir(out, overwrite=overwrite, marker=marker)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; the result should look like any new directory
        try:
            yield tmp
            if marker is not None:
                (tmp / marker).write_text(
                    "This folder is a plan written by planner; `planner plan --overwrite` may replace it as a "
                    "whole. / 本文件夹是 planner 写出的方案, 可被 --overwrite 整体替换。\n",
                    encoding="utf-8",
                )
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if exc.errno not in _DISK_ERRORS:
                raise
            raise ValidationError(
                f"--out {out}: writing the plan failed ({exc.strerror or exc}); nothing was changed in --out: "
                "free some disk space or choose a folder you can write to",
                zh=f"--out {out}:写出方案失败({exc.strerror or exc});--out 未被改动:请清理磁盘空间或换一个可写的文件夹",
            ) from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        backup = None
        if target.exists():
            backup = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(target, backup)
        try:
            os.replace(tmp, target)
        except OSError:
            if backup is not None:
                os.replace(backup, target)
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
        log.info("wrote %s", target)


# ---------------------------------------------------------------------------------------------------------------
# Officer roster
# ---------------------------------------------------------------------------------------------------------------
ROSTER_ALIASES: dict[str, tuple[str, ...]] = {
    "officer_id": ("officer_id", "officer", "警员编号", "警员", "警号", "民警"),
    "office": ("office", "office_id", "警务室", "警务室编号"),
    "kind": ("kind", "type", "类型", "类别"),
    "village_id": ("village_id", "village", "村代码", "村编号", "驻村村"),
    "unavailable": ("unavailable", "不可用日期", "请假日期", "不在岗日期"),
    # optional, for the stations (R9) and the matching by need (R10)
    "name": ("name", "officer_name", "姓名"),
    "station": ("station", "派出所", "所属派出所"),
    "home_village": ("home_village", "家乡村", "籍贯村", "户籍村"),
    "skills": ("skills", "skill", "专长", "技能"),
}
#: Officer kinds as written in rosters -> the planner's word (DOMAIN.md: 驻村民警 / 挂村民警, 包村民警).
OFFICER_KINDS = {
    "resident": "resident",
    "驻村": "resident",
    "驻村民警": "resident",
    "linked": "linked",
    "挂村": "linked",
    "挂村民警": "linked",
    "包村": "linked",
    "包村民警": "linked",
}


def _parse_dates(text: str) -> list[dt.date]:
    """``2026-12-01;2026-12-03..2026-12-05`` -> the dates; raises ValueError naming the bad part."""
    out: list[dt.date] = []
    for raw in text.replace("；", ";").replace(",", ";").split(";"):
        part = raw.strip()
        if not part:
            continue
        if ".." in part:
            a, b = (x.strip() for x in part.split("..", 1))
            start, end = dt.date.fromisoformat(a), dt.date.fromisoformat(b)
            if end < start:
                raise ValueError(f"range {part} ends before it starts")
            out.extend(start + dt.timedelta(days=k) for k in range((end - start).days + 1))
        else:
            out.append(dt.date.fromisoformat(part))
    return out


def read_roster(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the officer roster CSV.

    Parameters
    ----------
    path
        CSV (UTF-8 or GBK) with columns ``officer_id``, ``office`` (office id or the village id of the office),
        ``kind`` (``resident`` / ``linked``; 驻村 / 挂村 / 包村 accepted), optional ``village_id`` (the resident
        officer's own village) and optional ``unavailable``: ISO dates and inclusive ranges separated by
        semicolons, e.g. ``2026-12-01;2026-12-10..2026-12-12``.

    Returns
    -------
    pandas.DataFrame
        Columns ``officer_id``, ``office``, ``kind``, ``village_id`` (str, "" when not given) and
        ``unavailable`` (sorted tuple of ``datetime.date``), one row per officer in file order.

    Raises
    ------
    ValidationError
        Missing columns, empty or duplicate officer ids, unknown kinds or unparseable dates; rows are named
        by their CSV line.
    """
    what, what_zh = "officer roster", "警员名册"
    p = check_input_path(path, what=what, what_zh=what_zh, extensions=TABLE_SUFFIXES)
    df = read_table(p, what=what, what_zh=what_zh)
    if len(df) == 0:
        raise ValidationError(f"{what} {p} has no officers", zh=f"{what_zh} {p} 中没有警员")
    lower = {c.lower(): c for c in df.columns}
    cols: dict[str, str | None] = {}
    for key, aliases in ROSTER_ALIASES.items():
        cols[key] = next((lower[a.lower()] for a in aliases if a.lower() in lower), None)
    missing = [k for k in ("officer_id", "office", "kind") if cols[k] is None]
    if missing:
        raise ValidationError(
            f"{what} {p}: missing column(s) {', '.join(missing)}; its columns are: {', '.join(df.columns)}",
            zh=f"{what_zh} {p}:缺少字段 {'、'.join(missing)};现有字段:{'、'.join(df.columns)}",
        )

    def column(key: str) -> list[str]:
        name = cols[key]
        return [str(v).strip() for v in df[name]] if name is not None else [""] * len(df)

    officer, office, kind_raw = column("officer_id"), column("office"), column("kind")
    village, unavailable_raw = column("village_id"), column("unavailable")
    problems_en: list[str] = []
    problems_zh: list[str] = []
    kinds: list[str] = []
    dates: list[tuple[dt.date, ...]] = []
    for i in range(len(df)):
        line = i + 2
        if not officer[i]:
            problems_en.append(f"line {line}: empty officer_id")
            problems_zh.append(f"第 {line} 行:警员编号为空")
        if not office[i]:
            problems_en.append(f"line {line}: empty office")
            problems_zh.append(f"第 {line} 行:警务室为空")
        kind = OFFICER_KINDS.get(kind_raw[i].lower())
        if kind is None:
            problems_en.append(f"line {line}: kind {kind_raw[i]!r} is not resident or linked (驻村 / 挂村)")
            problems_zh.append(f"第 {line} 行:类型“{kind_raw[i]}”不是 resident/linked(驻村/挂村)")
        kinds.append(kind or "")
        try:
            dates.append(tuple(sorted(set(_parse_dates(unavailable_raw[i])))))
        except ValueError as exc:
            problems_en.append(
                f"line {line}: unavailable {unavailable_raw[i]!r} is not ISO dates ({exc}); "
                "write e.g. 2026-12-01;2026-12-10..2026-12-12"
            )
            problems_zh.append(
                f"第 {line} 行:不可用日期“{unavailable_raw[i]}”格式错误;"
                "请写如 2026-12-01;2026-12-10..2026-12-12"
            )
            dates.append(())
    counts = pd.Series([o for o in officer if o]).value_counts()
    for dup in counts.index[counts > 1]:
        lines = [str(i + 2) for i, o in enumerate(officer) if o == dup]
        problems_en.append(f"officer_id {dup} appears more than once (lines {', '.join(lines)})")
        problems_zh.append(f"警员编号 {dup} 重复(第 {'、'.join(lines)} 行)")
    if problems_en:
        raise ValidationError(
            f"{what} {p}: " + "; ".join(problems_en[:_MAX_PROBLEMS]),
            zh=f"{what_zh} {p}:" + ";".join(problems_zh[:_MAX_PROBLEMS]),
        )
    out = pd.DataFrame(
        {
            "officer_id": pd.array(officer, dtype="str"),
            "office": pd.array(office, dtype="str"),
            "kind": pd.array(kinds, dtype="str"),
            "village_id": pd.array(village, dtype="str"),
            "unavailable": pd.Series(dates, dtype=object),
        }
    )
    for key in ROSTER_EXTRA:  # name, station, home village and skills (R9, R10), kept when given
        if cols[key] is not None:
            out[key] = pd.Series([x if x.lower() != "nan" else "" for x in column(key)], dtype=object)
    return out


def demo_dir() -> Path:
    """The demo region shipped with the package (``planner/demo``; ``data/demo`` in a checkout links to it)."""
    return Path(str(importlib.resources.files("planner") / "demo"))


DEMO_DIR = demo_dir()
