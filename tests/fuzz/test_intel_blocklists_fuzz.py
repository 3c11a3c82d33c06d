"""Property tests: whatever a blocklist file holds, its parsers yield events and row problems
or reject the whole document with InputError; they never fail any other way.

Files are built from the real samples' lines, mutated, re-encoded and mixed, then given to
every blocklist parser (not only the one they came from).
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.core.errors import InputError, RowProblem
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, format_named

FORMATS = (
    "plain",
    "dataplane",
    "bambenek",
    "feodotracker",
    "urlhaus",
    "threatfox",
    "spamhaus-drop",
    "spamhaus-cert",
    "dshield",
    "cymru-cap",
)
SHARED_SAMPLES = (
    "feeds/blocklistde/imap.txt",
    "feeds/openphish/feed.txt",
    "feeds/dataplane/sshclient.txt",
    "feeds/dataplane/telnetlogin.txt",
    "feeds/bambenek/c2-ipmasterlist.txt",
    "feeds/bambenek/c2-dommasterlist.txt",
    "feeds/abusech_feodotracker/feodoips.txt",
    "feeds/spamhaus_drop/drop.txt",
    "feeds/spamhaus_cert/cert.txt",
    "feeds/dshield/block.txt",
    "feeds/dshield/suspiciousdomains_High.txt",
    "feeds/cymru/infected_20171031.txt",
)
FIXTURES = Path(__file__).resolve().parents[1] / "data" / "intel"
FIXTURE_FOLDERS = ("feodotracker", "urlhaus", "threatfox", "spamhaus_drop")
_counter = itertools.count()
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258", "latin-1"])


@pytest.fixture(scope="module")
def samples(shared_data: Path) -> dict[str, str]:
    paths = [shared_data / relative for relative in SHARED_SAMPLES]
    paths += sorted(path for folder in FIXTURE_FOLDERS for path in (FIXTURES / folder).iterdir())
    return {path.name: path.read_text(encoding="utf-8") for path in paths}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("blocklist-fuzz")


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """The text with a few characters inserted, deleted or replaced, or cut short."""
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "cut"]))
        piece = draw(
            st.sampled_from(["|", ",", ";", "#", '"', "\t", ":", "/", "{", "]", " "]) | TEXT
        )
        if action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        elif action == "replace":
            text = text[:at] + piece + text[at + len(piece) :]
        else:
            text = text[:at]
    return text


def check(path: Path) -> None:
    """Every parser reads the file; only events, problems or InputError come out."""
    document = FeedDocument(path, path.name)
    for name in FORMATS:
        feed_format = format_named(name)
        feed_format.sniff(document, document.head())
        try:
            items = list(feed_format.parse(document))
        except InputError as exc:
            assert exc.problems and all(p.file == path.name for p in exc.problems)
            continue
        for item in items:
            assert isinstance(item, IntelEvent | RowProblem), (name, item)
            if isinstance(item, RowProblem):
                assert item.file == path.name and item.reason
                continue
            assert isinstance(item.value, str) and item.value, (name, item)
            assert item.line is not None and item.line >= 1
            assert isinstance(item.raw, str)
            for moment in (item.time_source, item.last_seen):
                assert moment is None or moment.utcoffset() == timedelta(0)
            for port in (item.source_port, item.destination_port):
                assert port is None or 0 <= port <= 65535
            assert item.confidence is None or 0 <= item.confidence <= 100
            item.harmonised()


def write(workdir: Path, name: str, data: bytes) -> Path:
    folder = workdir / str(next(_counter))
    folder.mkdir()
    path = folder / name
    path.write_bytes(data)
    return path


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_mixed_and_mutated_sample_lines(
    samples: dict[str, str], workdir: Path, data: st.DataObject
) -> None:
    names = sorted(samples)
    pool = sorted({line for text in samples.values() for line in text.splitlines()})
    line = st.sampled_from(pool)
    lines = data.draw(
        st.lists(line | line.flatmap(mutated) | TEXT, min_size=0, max_size=25), label="lines"
    )
    newline = data.draw(st.sampled_from(["\n", "\r\n", "\r"]), label="newline")
    encoding = data.draw(ENCODINGS, label="encoding")
    body = newline.join(lines).encode(encoding, errors="replace")
    check(write(workdir, data.draw(st.sampled_from(names), label="name"), body))


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_mutated_whole_documents(
    samples: dict[str, str], workdir: Path, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(samples)), label="sample")
    text = data.draw(mutated(samples[name]), label="text")
    encoding = data.draw(ENCODINGS, label="encoding")
    check(write(workdir, name, text.encode(encoding, errors="replace")))


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=2048), name=st.sampled_from(["feed.txt", "x.json", "drop_v4.json"]))
def test_arbitrary_bytes(workdir: Path, body: bytes, name: str) -> None:
    check(write(workdir, name, body))
