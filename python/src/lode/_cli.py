"""The lode CLI as Python functions: processes, their streams and their errors."""
from __future__ import annotations

import builtins
import io
import json
import os
import shutil
import subprocess
from typing import IO, Any, Dict, List, Optional, Sequence, Union

#: Exit code of ``lode`` for "not found" (a path, a revision, content): docs/cli.md.
EXIT_NOT_FOUND = 6


class LodeError(RuntimeError):
    """A ``lode`` command failed: ``exit_code`` is its status, ``hint`` its ``hint:`` line."""

    def __init__(self, message: str, exit_code: int, hint: Optional[str] = None, command: Sequence[str] = ()):
        super().__init__(message if not hint else f"{message} (hint: {hint})")
        self.message = message
        self.exit_code = exit_code
        self.hint = hint
        self.command = list(command)


class LodeNotFoundError(LodeError, FileNotFoundError):
    """A path, revision or content that does not exist (``lode`` exit status 6)."""


def lode_command() -> List[str]:
    """The argv prefix that runs lode: ``$LODE_BIN`` (a ``.js`` file runs with node), else ``lode`` on PATH."""
    bin_ = os.environ.get("LODE_BIN")
    if bin_:
        if bin_.endswith(".js"):
            return [os.environ.get("LODE_NODE") or shutil.which("node") or "node", bin_]
        return [bin_]
    found = shutil.which("lode")
    if not found:
        raise LodeError("the lode program is not on PATH", 127, "install lode (npm), or set LODE_BIN to its path")
    return [found]


def _repo_dir(repo: Optional[Union[str, os.PathLike]]) -> str:
    return os.fspath(repo) if repo is not None else os.environ.get("LODE_REPO") or os.getcwd()


def _argv(args: Sequence[str], repo: Optional[Union[str, os.PathLike]]) -> List[str]:
    return [*lode_command(), "-C", _repo_dir(repo), "-q", *args]


def _error(argv: Sequence[str], code: int, stderr: bytes) -> LodeError:
    message, hint = "", None
    for line in stderr.decode("utf-8", "replace").splitlines():
        if line.startswith("error:") and not message:
            message = line[len("error:"):].strip()
        elif line.startswith("hint:") and hint is None:
            hint = line[len("hint:"):].strip()
    if not message:
        message = f"lode exited with status {code}"
    cls = LodeNotFoundError if code == EXIT_NOT_FOUND else LodeError
    return cls(message, code, hint, argv)


def _run_json(args: Sequence[str], repo: Optional[Union[str, os.PathLike]]) -> Any:
    argv = _argv([*args, "--json"], repo)
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise _error(argv, p.returncode, p.stderr)
    return json.loads(p.stdout)


def _spec(path: str, rev: str) -> str:
    path = os.fspath(path)
    return f"{rev}:{path.lstrip('/')}"


class _CatStream(io.RawIOBase):
    """The stdout of one ``lode cat``: raises LodeError at the end if lode failed (a damaged chunk, say)."""

    def __init__(self, argv: List[str]):
        self._argv = argv
        self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._done:
            return 0
        n = self._proc.stdout.readinto(b)  # type: ignore[union-attr]
        if not n:
            self._finish()
            return 0
        return n

    def _finish(self) -> None:
        self._done = True
        stderr = self._proc.stderr.read()  # type: ignore[union-attr]
        code = self._proc.wait()
        if code != 0:
            raise _error(self._argv, code, stderr)

    def close(self) -> None:
        if not self.closed:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            for s in (self._proc.stdout, self._proc.stderr):
                if s:
                    s.close()
        super().close()


def open(
    path: str,
    rev: str = "HEAD",
    repo: Optional[Union[str, os.PathLike]] = None,
    mode: str = "rb",
    encoding: Optional[str] = None,
    errors: Optional[str] = None,
    newline: Optional[str] = None,
) -> IO[Any]:
    """Open PATH (from the top of the workspace) as it is at REV, for reading.

    ``mode`` is ``"rb"`` (a buffered binary stream) or ``"r"`` (text). The
    stream reads ``lode cat`` as it writes: bytes are verified by lode before
    they arrive, and a big file is never held in memory. A path or revision
    that does not exist raises LodeNotFoundError here, before any read.
    """
    if mode not in ("r", "rb", "rt"):
        raise ValueError(f"lode.open is read-only: mode {mode!r} (use 'rb' or 'r')")
    raw = _CatStream(_argv(["cat", _spec(path, rev)], repo))
    f = io.BufferedReader(raw, buffer_size=1 << 20)
    try:
        # lode resolves the path before it writes a byte: wait for the first
        # bytes (or the end) so a bad path fails at open, not at first read.
        f.peek(1)
    except BaseException:
        f.close()
        raise
    if mode == "rb":
        return f
    return io.TextIOWrapper(f, encoding=encoding or "utf-8", errors=errors, newline=newline)


def read_bytes(path: str, rev: str = "HEAD", repo: Optional[Union[str, os.PathLike]] = None) -> bytes:
    """The whole content of PATH at REV."""
    with open(path, rev=rev, repo=repo) as f:
        return f.read()


def ls(
    path: str = "",
    rev: str = "HEAD",
    repo: Optional[Union[str, os.PathLike]] = None,
    recursive: bool = False,
    detail: bool = False,
) -> Union[List[str], List[Dict[str, Any]]]:
    """List PATH at REV (default: the top): repo-relative paths, or with ``detail`` the entries of ``lode ls --json``.

    A file lists as itself. ``recursive`` lists every file beneath PATH.
    """
    result = _run_json(["ls", _spec(path, rev), *(["-r"] if recursive else [])], repo)
    entries = result["entries"]
    return entries if detail else [e["path"] for e in entries]
