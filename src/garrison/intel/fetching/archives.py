"""Unpacking gzip and zip feeds, refusing truncated archives and decompression bombs.

The archive kind is decided from the first bytes, not from the file name or Content-Type:
a server that sends `feed.csv.gz` with `Content-Encoding: gzip` has already had its gzip
layer removed by the HTTP client, and the name alone would then lie.
"""

from __future__ import annotations

import gzip
import lzma
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from garrison.intel.fetching.errors import FeedFetchError
from garrison.intel.fetching.limits import FetchLimits, human_size
from garrison.intel.fetching.storage import PartialFile, safe_file_name

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_GZIP_SUFFIXES = (".gz", ".gzip")
_CHUNK = 1024 * 1024
_LISTED_MEMBERS = 20
# What the standard library raises on damaged compressed data, besides its own types.
_DAMAGE = (zipfile.BadZipFile, EOFError, zlib.error, lzma.LZMAError, OSError, ValueError)


@dataclass(frozen=True)
class Unpacked:
    """The content to store and the name it goes by (an archive's inner name if any)."""

    content: PartialFile
    name: str
    archive: str | None
    """'gzip' or 'zip' when the download was unpacked, else None."""


def unpack(
    download: PartialFile, name: str, *, member: str | None, limits: FetchLimits
) -> Unpacked:
    """The download itself, or a new file holding what its gzip or zip archive contains.

    `member` picks one file of a zip archive holding several; asking for a member of
    something that is not a zip archive is an error, since the source is then set up wrong."""
    head = download.head(4)
    if head[:4] in ZIP_MAGICS:
        return _unzip(download, member, limits)
    if member is not None:
        raise FeedFetchError(
            download.url, f"member {member!r} was asked for, but the download is not a zip archive"
        )
    if head.startswith(GZIP_MAGIC):
        return Unpacked(_gunzip(download, limits), _without_gzip_suffix(name), "gzip")
    return Unpacked(download, _without_gzip_suffix(name), None)


def _without_gzip_suffix(name: str) -> str:
    for suffix in _GZIP_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _gunzip(download: PartialFile, limits: FetchLimits) -> PartialFile:
    url = download.url
    content = PartialFile(download.path.parent, url)
    try:
        with gzip.open(download.path, "rb") as stream:
            _copy_bounded(stream.read, content, download.size, limits, "gzip file")
    except EOFError as error:
        content.discard()
        raise FeedFetchError(
            url, "the gzip file is truncated (it ends before its end-of-stream marker)"
        ) from error
    except _DAMAGE as error:
        content.discard()
        raise FeedFetchError(url, f"the gzip file is damaged: {error}") from error
    except BaseException:
        content.discard()
        raise
    return content


def _unzip(download: PartialFile, member: str | None, limits: FetchLimits) -> Unpacked:
    url = download.url
    try:
        archive = zipfile.ZipFile(download.path)
    except (*_DAMAGE, NotImplementedError) as error:
        raise FeedFetchError(url, f"the zip archive is truncated or damaged: {error}") from error
    with archive:
        chosen = _choose_member(archive, member, url)
        if chosen.flag_bits & 0x1:
            raise FeedFetchError(url, f"zip member {chosen.filename!r} is encrypted")
        if chosen.file_size > limits.max_uncompressed_bytes:
            raise _bomb(url, f"zip member {chosen.filename!r} announces", chosen.file_size, limits)
        content = PartialFile(download.path.parent, url)
        try:
            with archive.open(chosen) as stream:
                packed = min(chosen.compress_size, download.size)
                _copy_bounded(
                    stream.read, content, packed, limits, f"zip member {chosen.filename!r}"
                )
        except (*_DAMAGE, NotImplementedError, RuntimeError) as error:
            content.discard()
            raise FeedFetchError(
                url, f"zip member {chosen.filename!r} is truncated or damaged: {error}"
            ) from error
        except BaseException:
            content.discard()
            raise
    name = safe_file_name(PurePosixPath(chosen.filename).name)
    return Unpacked(content, name, "zip")


def _choose_member(archive: zipfile.ZipFile, member: str | None, url: str) -> zipfile.ZipInfo:
    files = [info for info in archive.infolist() if not info.is_dir()]
    names = [info.filename for info in files]
    listed = ", ".join(names[:_LISTED_MEMBERS]) + (" …" if len(names) > _LISTED_MEMBERS else "")
    if member is None:
        if len(files) == 1:
            return files[0]
        if not files:
            raise FeedFetchError(url, "the zip archive holds no file")
        raise FeedFetchError(
            url, f"the zip archive holds {len(files)} files; say which one to read: {listed}"
        )
    matches = [info for info in files if info.filename == member] or [
        info for info in files if PurePosixPath(info.filename).name == member
    ]
    if len(matches) != 1:
        problem = "no member" if not matches else "several members"
        raise FeedFetchError(url, f"the zip archive has {problem} named {member!r}: {listed}")
    return matches[0]


def _copy_bounded(
    read: Callable[[int], bytes],
    content: PartialFile,
    packed_size: int,
    limits: FetchLimits,
    what: str,
) -> None:
    """Copy decompressed chunks, stopping as soon as a size or ratio limit is passed."""
    ratio_ceiling = limits.max_compression_ratio * max(packed_size, 1)
    while chunk := read(_CHUNK):
        if content.size + len(chunk) > limits.max_uncompressed_bytes:
            raise _bomb(content.url, f"the {what} unpacks to", content.size + len(chunk), limits)
        content.write(chunk)
        if content.size > limits.ratio_grace_bytes and content.size > ratio_ceiling:
            raise FeedFetchError(
                content.url,
                f"the {what} expands more than {limits.max_compression_ratio:g} times "
                f"({human_size(packed_size)} packed, over {human_size(content.size)} unpacked "
                "so far); refused as a possible zip bomb",
            )
    content.finish()


def _bomb(url: str, announced: str, size: int, limits: FetchLimits) -> FeedFetchError:
    return FeedFetchError(
        url,
        f"{announced} more than {human_size(limits.max_uncompressed_bytes)} "
        f"(at least {human_size(size)}); refused as a possible zip bomb",
    )
