"""Writing fetched content so a failure never leaves a half-written feed behind."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path, PurePosixPath
from types import TracebackType

from garrison.intel.fetching.errors import FeedFetchError

_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")
_MAX_NAME_LENGTH = 150
TEMP_PREFIX = ".fetch-"


def safe_file_name(name: str, fallback: str = "feed") -> str:
    """A plain file name (no folders, no control characters, no leading dot) built from a
    name a server or an archive chose, so it cannot escape or hide in the destination."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = _UNSAFE_CHARACTERS.sub("_", base).strip().lstrip(".").strip()
    if len(base) > _MAX_NAME_LENGTH:
        stem, dot, suffix = base.rpartition(".")
        if dot and stem and len(suffix) <= 20:
            base = stem[: _MAX_NAME_LENGTH - len(suffix) - 1] + "." + suffix
        else:
            base = base[:_MAX_NAME_LENGTH]
    return base or fallback


class PartialFile:
    """A temporary file in the destination folder, hashed while written, that takes its
    final name only by an atomic rename once complete; otherwise it is deleted.

    Use it as a context manager: leaving the block removes it unless it was committed."""

    def __init__(self, directory: Path, url: str) -> None:
        self.url = url
        try:
            handle, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=directory)
        except OSError as error:
            raise FeedFetchError(url, f"cannot write in {directory}: {error}") from error
        self.path = Path(name)
        self._stream = os.fdopen(handle, "wb")
        self._hash = hashlib.sha256()
        self.size = 0
        self._committed = False

    def write(self, chunk: bytes) -> None:
        try:
            self._stream.write(chunk)
        except OSError as error:
            raise FeedFetchError(self.url, f"cannot write {self.path}: {error}") from error
        self._hash.update(chunk)
        self.size += len(chunk)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def finish(self) -> None:
        """Flush the content to disk; reading it back is allowed from here on."""
        if self._stream.closed:
            return
        try:
            self._stream.flush()
            os.fsync(self._stream.fileno())
            self._stream.close()
        except OSError as error:
            raise FeedFetchError(self.url, f"cannot write {self.path}: {error}") from error

    def head(self, size: int) -> bytes:
        self.finish()
        with self.path.open("rb") as stream:
            return stream.read(size)

    def commit(self, destination: Path) -> None:
        """Replace `destination` in one step: readers see the old file or the new one."""
        self.finish()
        try:
            os.replace(self.path, destination)
        except OSError as error:
            raise FeedFetchError(self.url, f"cannot store {destination}: {error}") from error
        self._committed = True

    def discard(self) -> None:
        self._stream.close()
        if not self._committed:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> PartialFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.discard()
