"""How far a feed download may go: sizes, unpacking ratios, timeouts and retries."""

from __future__ import annotations

from dataclasses import dataclass, fields

MIB = 1024 * 1024


@dataclass(frozen=True)
class FetchLimits:
    """Bounds for one fetch. The defaults suit a scheduled feed; tests shrink them.

    Sizes are checked on the bytes actually received and produced, never on what the
    server or an archive header announces, so a lying header cannot get past them."""

    max_download_bytes: int = 512 * MIB
    """Bytes received (after HTTP content decoding); the download stops when passed."""
    max_uncompressed_bytes: int = 2048 * MIB
    """Bytes a gzip or zip file may unpack to."""
    max_compression_ratio: float = 200.0
    """Unpacked size over packed size; real feeds stay far below, bombs far above.
    Checked only once the output passes `ratio_grace_bytes`, so a small, very repetitive
    file is not mistaken for a bomb."""
    ratio_grace_bytes: int = 1 * MIB
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    """Longest silence from the server while waiting for headers or body bytes."""
    total_timeout: float = 900.0
    """Deadline for the whole fetch: every attempt, every pause between them, the body."""
    attempts: int = 4
    """Tries for connection errors, timeouts, 429 and 5xx; other answers are not retried."""
    backoff_initial: float = 2.0
    """Pause before the second try; it doubles each time, with jitter, up to `backoff_max`."""
    backoff_max: float = 120.0
    max_redirects: int = 10

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value <= 0 and field.name != "ratio_grace_bytes":
                raise ValueError(f"FetchLimits.{field.name} must be positive, not {value}")


def human_size(size: float) -> str:
    """A byte count people can read in an error message."""
    for unit in ("bytes", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"
