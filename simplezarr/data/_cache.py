"""The demo-data cache: where images go, and writing them so a crash leaves no half image.

Design
------
- The cache folder is ``$SIMPLEZARR_DATA_DIR`` or ``~/.cache/simplezarr``,
  created on first use. Each demo image gets a name made of its parameters
  (``large_2d-16384-seed0-uint8-v0.5.ome.zarr``), so variants live side by side
  and a second call with the same parameters reuses the first one's output.
- An image is written to a hidden sibling ``.<name>.partial-<pid>-<token>``
  and renamed into place only when complete (a directory rename is atomic on
  one file system). An interrupted write therefore never leaves a broken
  image under the final name; leftovers of dead processes are removed on the
  next write of that image.
- Every image records its parameters in its root group's attributes
  (``simplezarr_demo``). An existing path is reused only if they match;
  anything else at that path is an error unless ``overwrite=True``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import zarr

__all__ = ["ATTRIBUTE", "data_dir", "ensure_image", "recorded_params", "stamp"]

ATTRIBUTE = "simplezarr_demo"


def data_dir() -> Path:
    """The demo-data folder: ``$SIMPLEZARR_DATA_DIR`` or ``~/.cache/simplezarr`` (created)."""
    env = os.environ.get("SIMPLEZARR_DATA_DIR")
    folder = Path(env).expanduser() if env else Path.home() / ".cache" / "simplezarr"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stamp(path: Path, params: Mapping[str, Any]) -> None:
    """Record a demo image's parameters in its root group (re-consolidating Zarr v2 metadata)."""
    group = zarr.open_group(str(path), mode="r+")
    group.attrs[ATTRIBUTE] = dict(params)
    if group.metadata.zarr_format == 2:
        zarr.consolidate_metadata(str(path))


def recorded_params(path: Path) -> dict[str, Any] | None:
    """The parameters a demo image at ``path`` was written with, or None if it is not one."""
    try:
        group = zarr.open_group(str(path), mode="r")
    except (FileNotFoundError, ValueError, OSError, KeyError):
        return None
    value = group.attrs.get(ATTRIBUTE)
    return dict(value) if isinstance(value, Mapping) else None


def ensure_image(
    fn: str,
    default_name: str,
    params: Mapping[str, Any],
    path: str | os.PathLike[str] | None,
    write: Callable[[Path], None],
    *,
    overwrite: bool = False,
) -> Path:
    """Return the path of a complete demo image, writing it first if needed.

    Parameters
    ----------
    fn : str
        The public function's name, for error messages.
    default_name : str
        File name inside `data_dir` when ``path`` is None.
    params : mapping
        JSON-able parameters; ``write`` must record them with `ATTRIBUTE`.
    path : path-like, optional
        Where the image goes.
    write : callable
        ``write(tmp_path)`` writes the whole image at ``tmp_path``.
    overwrite : bool
        Rewrite even if a matching image exists, and replace anything else.
    """
    target = Path(path).expanduser() if path is not None else data_dir() / default_name
    wanted = dict(params)
    if target.exists() and not overwrite:
        if recorded_params(target) == wanted:
            return target
        raise FileExistsError(
            f"{fn}: {str(target)!r} exists and is not this demo image "
            f"(parameters {wanted!r}); pass overwrite=True or another path"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(target)
    tmp = target.parent / f".{target.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        write(tmp)
        if recorded_params(tmp) != wanted:
            raise RuntimeError(f"{fn}: the writer did not record its parameters in {str(tmp)!r}")
        if target.exists():
            if not overwrite and recorded_params(target) == wanted:
                # another process finished the same image first: use theirs
                shutil.rmtree(tmp, ignore_errors=True)
                return target
            _remove(target)
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _remove_stale_partials(target: Path) -> None:
    """Delete partial writes of ``target`` left by processes that no longer run."""
    for partial in target.parent.glob(f".{target.name}.partial-*"):
        try:
            pid = int(partial.name.rsplit(".partial-", 1)[1].split("-")[0])
        except (IndexError, ValueError):
            continue
        if not _alive(pid):
            shutil.rmtree(partial, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
