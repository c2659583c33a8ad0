"""``lode://REV/PATH``: an fsspec file system over lode versions (read-only).

Registered for the ``lode`` protocol through the ``fsspec.specs`` entry point,
so ``pandas.read_csv("lode://v1/data/labels.csv")`` and
``pyarrow.parquet.read_table("lode://v1/data/t.parquet", filesystem=...)``
work once the package is installed. The workspace is the ``repo`` storage
option, else ``$LODE_REPO``, else the working directory.
"""
from __future__ import annotations

import shutil
import tempfile
from typing import Any, Dict, List, Optional, Tuple

from fsspec.spec import AbstractFileSystem

from . import _cli

#: Files up to this size are held in memory when opened; larger ones spill to a temporary file.
SPOOL_MAX = 64 << 20


class LodeFileSystem(AbstractFileSystem):
    """Read-only file system whose paths are ``REV/PATH`` (or ``REV:PATH``)."""

    protocol = "lode"
    root_marker = ""

    def __init__(self, repo: Optional[str] = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.repo = repo

    @staticmethod
    def split(path: str) -> Tuple[str, str]:
        """Split ``REV/PATH`` or ``REV:PATH`` into the revision and the repo path."""
        path = path.strip("/")
        slash = path.find("/")
        colon = path.find(":")
        if colon >= 0 and (slash < 0 or colon < slash):
            return path[:colon], path[colon + 1 :].strip("/")
        if slash < 0:
            return path, ""
        return path[:slash], path[slash + 1 :]

    @classmethod
    def _strip_protocol(cls, path: Any) -> str:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]  # type: ignore[return-value]
        path = str(path)
        if path.startswith("lode://"):
            path = path[len("lode://") :]
        return path.rstrip("/")

    def _entry(self, rev: str, e: Dict[str, Any]) -> Dict[str, Any]:
        return {
            "name": f"{rev}/{e['path']}",
            "size": e["size"],
            "type": "directory" if e["kind"] == "tree" else "file",
            "id": e["id"],
            "kind": e["kind"],
        }

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> List[Any]:
        rev, p = self.split(self._strip_protocol(path))
        if not rev:
            raise FileNotFoundError("lode:// paths start with a revision: lode://REV/PATH")
        result = _cli._run_json(["ls", f"{rev}:{p}"], self.repo)
        out = [self._entry(rev, e) for e in result["entries"]]
        return out if detail else [e["name"] for e in out]

    def info(self, path: str, **kwargs: Any) -> Dict[str, Any]:
        rev, p = self.split(self._strip_protocol(path))
        if p == "":
            return {"name": rev, "size": 0, "type": "directory"}
        result = _cli._run_json(["ls", f"{rev}:{p}"], self.repo)
        if result["kind"] != "tree":
            return self._entry(rev, result["entries"][0])
        return {"name": f"{rev}/{p}", "size": sum(e["size"] for e in result["entries"]), "type": "directory", "kind": "tree"}

    def cat_file(self, path: str, start: Optional[int] = None, end: Optional[int] = None, **kwargs: Any) -> bytes:
        rev, p = self.split(self._strip_protocol(path))
        data = _cli.read_bytes(p, rev=rev, repo=self.repo)
        return data[start:end] if (start is not None or end is not None) else data

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if mode != "rb":
            raise NotImplementedError("lode:// is read-only")
        rev, p = self.split(self._strip_protocol(path))
        # Readers such as pyarrow seek (Parquet keeps its index at the end):
        # spool the verified stream into a seekable file, in memory up to SPOOL_MAX.
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX)
        try:
            with _cli.open(p, rev=rev, repo=self.repo) as f:
                shutil.copyfileobj(f, spool, 1 << 20)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return spool

    def ukey(self, path: str) -> str:
        return self.info(path).get("id", path)
