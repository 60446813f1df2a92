"""Output folders written atomically: a finished folder appears whole or not at all.

Every command that writes (``run``, ``pareto``, ``compare``) goes through
:func:`write_folder`: the files are written into a hidden temporary folder beside the
target, which is then renamed into place. A finished folder is replaced only with
``overwrite``, by an atomic exchange where the system allows it; without it, a folder
that appeared meanwhile (a second run to the same place) is never replaced: the rename
refuses to (Linux ``RENAME_NOREPLACE``, elsewhere a rename onto a non-empty folder
fails). :func:`check_output` finds a bad name or an unwritable folder before any work.
Files are strict JSON (no NaN or Infinity) and CSV.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import sys
import uuid
from pathlib import Path

import numpy as np

from fairshare.errors import InputError, Problem


class ResultExists(Exception):
    """A finished result is already in place and --overwrite was not given."""


def result_folder(out_root: str | Path, name: str) -> Path:
    """``out_root/name``, refusing a name that would write elsewhere."""
    folder = (Path(out_root) / name).resolve()
    if folder.parent != Path(out_root).resolve() or name in ("", ".", ".."):
        raise InputError([Problem(str(out_root), f"the name {name!r} would write outside the "
                                                 f"results folder {out_root}", column="name")])
    return folder


def check_output(out_root: str | Path, name: str, overwrite: bool = False) -> Path:
    """Before solving: the folder ``out_root/name`` can be written (the parent is made if
    missing) and, without ``overwrite``, does not hold a result yet. Returns it."""
    target = result_folder(out_root, name)
    _refuse_existing(target, overwrite)
    try:
        Path(out_root).mkdir(parents=True, exist_ok=True)
        probe = Path(out_root) / f".{name}.probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        probe.mkdir()
        probe.rmdir()
    except OSError as exc:
        raise InputError([Problem(str(out_root), f"cannot write results here: "
                                                 f"{exc.strerror or exc}; choose another folder "
                                                 "with -o")]) from None
    return target


def write_folder(out_root: str | Path, name: str, write_files, overwrite: bool = False) -> Path:
    """Write ``out_root/<name>/`` atomically: ``write_files(tmp_folder)`` fills a hidden
    temporary folder, which is then renamed into place.

    A run that dies mid-write leaves only a hidden ``.<name>.partial-<pid>-*`` folder
    (tidied by the next write); a finished folder is replaced only with ``overwrite``.
    """
    out_root = Path(out_root)
    target = result_folder(out_root, name)
    if out_root.is_dir():
        _recover(out_root, target)  # first: a result put back by it counts as existing
    _refuse_existing(target, overwrite)
    out_root.mkdir(parents=True, exist_ok=True)
    tmp = out_root / f".{name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        write_files(tmp)
        _swap_into_place(tmp, target, overwrite)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _refuse_existing(target: Path, overwrite: bool) -> None:
    if target.exists() and not overwrite:
        raise ResultExists(f"{target} already holds a result; use --overwrite to replace it")


def write_json(path: Path, obj) -> None:
    """Strict JSON (a non-finite number is written as null), synced to disk."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(strict(obj), f, indent=2, ensure_ascii=False, allow_nan=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def strict(obj):
    """``obj`` with numpy scalars as Python numbers, paths as text, NaN and ±inf as None."""
    if isinstance(obj, dict):
        return {str(k): strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _swap_into_place(tmp: Path, target: Path, overwrite: bool) -> None:
    """Rename the finished ``tmp`` to ``target``.

    Without ``overwrite`` the rename must not replace anything: a target that appeared
    since the check (another run) makes it raise :class:`ResultExists`. With it, an
    existing target is exchanged with ``tmp`` in one atomic step where the system can
    (Linux renameat2), else moved aside first; a run killed between those two renames is
    repaired by the next write (:func:`_recover`).
    """
    if not overwrite or not target.exists():
        _rename_no_replace(tmp, target)
        return
    if _exchange(tmp, target):  # tmp now holds the previous result
        shutil.rmtree(tmp, ignore_errors=True)
        return
    old = target.parent / f".{target.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except OSError:
        os.rename(old, target)  # put the previous result back
        raise
    shutil.rmtree(old, ignore_errors=True)


def _rename_no_replace(tmp: Path, target: Path) -> None:
    exists = ResultExists(f"{target} already holds a result (another run wrote it meanwhile); "
                          "use --overwrite to replace it")
    done = _renameat2(tmp, target, RENAME_NOREPLACE)
    if done is True:
        return
    if done is False:
        raise exists
    if target.exists() and any(target.iterdir()):  # no renameat2: a rename onto a non-empty
        raise exists                                 # folder fails anyway; say why first
    try:
        os.rename(tmp, target)
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise exists from None
        raise


RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    return _renameat2(a, b, RENAME_EXCHANGE) is True


def _renameat2(a: Path, b: Path, flags: int):
    """True if done; False if refused because ``b`` exists; None where unsupported."""
    import ctypes

    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return None
    AT_FDCWD = -100
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), flags) == 0:
        return True
    return False if ctypes.get_errno() == errno.EEXIST else None


def _recover(out_root: Path, target: Path) -> None:
    """Tidy what killed runs left: put back a previous result that was moved aside and not
    replaced, and delete temporary folders whose process is gone."""
    for p in sorted(out_root.glob(f".{target.name}.old-*")):
        if not target.exists() and not _alive(p.name) and (p / "summary.json").is_file():
            os.rename(p, target)
        elif not _alive(p.name):
            shutil.rmtree(p, ignore_errors=True)
    for p in out_root.glob(f".{target.name}.partial-*"):
        if not _alive(p.name):
            shutil.rmtree(p, ignore_errors=True)


def _alive(folder_name: str) -> bool:
    """Whether the process whose id is in a temporary folder's name still runs."""
    try:
        pid = int(folder_name.rsplit("-", 2)[-2])
    except (ValueError, IndexError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
