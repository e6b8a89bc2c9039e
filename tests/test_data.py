"""Tests for mlcourse.data: fetching, verifying, caching and loading the data sets.

Every test gets its own empty cache (``MLCOURSE_CACHE`` in ``tmp_path``) and
starts with ``MLCOURSE_DATA_MIRROR`` unset, so nothing touches the real cache
or the network. The real archives come from the local data mirror: the folder
in ``MLCOURSE_DATA_MIRROR`` when the test session starts, else
``<workspace>/shared/data`` next to the repository.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import os
import shutil
import tarfile
import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest

from mlcourse import data
from mlcourse.data import ChecksumError, DataError

_MIRROR_ENV_AT_START = os.environ.get(data.MIRROR_ENV, "").strip()
MIRROR = (
    Path(_MIRROR_ENV_AT_START).expanduser().resolve()
    if _MIRROR_ENV_AT_START
    else Path(__file__).resolve().parents[2] / "shared" / "data"
)
ARCHIVES = [ds.filename for ds in data.REGISTRY.values()]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cache_contents(cache: Path) -> list[str]:
    """Every file and folder under ``cache`` (hidden ones included), as relative paths."""
    if not cache.exists():
        return []
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*"))


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty cache folder; no mirror configured."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(data.CACHE_ENV, str(folder))
    monkeypatch.delenv(data.MIRROR_ENV, raising=False)
    return folder


@pytest.fixture
def mirror() -> Path:
    """The folder holding the real archives (skips the test if it is not there)."""
    missing = [name for name in ARCHIVES if not (MIRROR / name).is_file()]
    if missing:
        pytest.skip(
            f"data mirror {MIRROR} lacks {', '.join(missing)}; set {data.MIRROR_ENV} "
            "to a folder holding the course archives to run this test"
        )
    return MIRROR


@pytest.fixture
def use_mirror(mirror: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(data.MIRROR_ENV, str(mirror))
    return mirror


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder, records the request paths in ``requests``, and logs nothing."""

    requests: list[str] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


def _recording_handler(folder: Path) -> tuple[Callable[..., object], list[str]]:
    """A handler factory serving ``folder``, and the list it records requests in."""
    requests: list[str] = []
    handler = type("RecordingHandler", (_QuietHandler,), {"requests": requests})
    return partial(handler, directory=str(folder)), requests


@contextmanager
def _serve(handler: Callable[..., object]) -> Iterator[str]:
    """Run a real HTTP server on 127.0.0.1 (any free port) in a thread; yield its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def http_mirror(mirror: Path, tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server serving a copy of the archives.

    Yields ``(base URL, list of request paths received)``.
    """
    served = tmp_path / "served"
    served.mkdir()
    for name in ARCHIVES:
        shutil.copy(mirror / name, served / name)
    handler, requests = _recording_handler(served)
    with _serve(handler) as base_url:
        yield base_url, requests


def _replace_dataset(monkeypatch: pytest.MonkeyPatch, name: str, **changes: object) -> None:
    ds = dataclasses.replace(data.REGISTRY[name], **changes)
    monkeypatch.setitem(data.REGISTRY, name, ds)


def _housing_csv(mirror: Path) -> bytes:
    with tarfile.open(mirror / "housing.tgz") as tf:
        handle = tf.extractfile("housing/housing.csv")
        assert handle is not None
        return handle.read()


def _write_tgz(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tf:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))


# --------------------------------------------------------------------------
# Fetching from a mirror, and the loaders
# --------------------------------------------------------------------------


def test_fetch_from_local_mirror_and_load_everything(use_mirror: Path, cache: Path) -> None:
    folder = data.fetch("housing")
    assert folder == cache / "housing"
    assert (
        sha256(folder / "housing" / "housing.csv")
        == data.REGISTRY["housing"].members["housing/housing.csv"]
    )

    housing = data.load_housing()
    assert housing.shape == (20640, 10)
    assert "median_house_value" in housing.columns
    assert housing["total_bedrooms"].isna().sum() == 207

    train, test = data.load_titanic()
    assert len(train) == 891
    assert len(test) == 418
    assert "Survived" in train.columns
    assert "Survived" not in test.columns

    sentiment = data.load_sentiment()
    assert sentiment.shape == (3000, 3)
    assert list(sentiment.columns) == ["text", "label", "source"]
    assert str(sentiment["label"].dtype) == "int64"
    counts = sentiment.groupby(["source", "label"]).size()
    assert counts.to_dict() == {
        (source, label): 500 for source in ("amazon", "imdb", "yelp") for label in (0, 1)
    }
    # U+0085 (NEXT LINE) stays inside its sentence instead of splitting it.
    assert sentiment["text"].str.contains("\x85", regex=False).sum() == 2
    assert not sentiment["text"].str.endswith((" ", "\t", "\r")).any()

    # Only the registry's members (and the stamp) were extracted; no temp leftovers.
    assert cache_contents(cache) == sorted(
        [
            "housing",
            "housing/.mlcourse-verified.json",
            "housing/housing",
            "housing/housing/housing.csv",
            "sentiment",
            "sentiment/.mlcourse-verified.json",
            "sentiment/sentiment labelled sentences",
            "sentiment/sentiment labelled sentences/amazon_cells_labelled.txt",
            "sentiment/sentiment labelled sentences/imdb_labelled.txt",
            "sentiment/sentiment labelled sentences/yelp_labelled.txt",
            "titanic",
            "titanic/.mlcourse-verified.json",
            "titanic/titanic",
            "titanic/titanic/test.csv",
            "titanic/titanic/train.csv",
        ]
    )


def test_relative_mirror_path_is_resolved_against_current_directory(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(data.MIRROR_ENV, os.path.relpath(mirror, tmp_path))
    assert (data.fetch("titanic") / "titanic" / "train.csv").is_file()


def test_fetch_over_http_with_progress_bar(
    http_mirror: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url, requests = http_mirror
    monkeypatch.setenv(data.MIRROR_ENV, base_url + "/")
    for name in data.REGISTRY:
        data.fetch(name, progress=True)
    assert sorted(requests) == sorted(
        [
            "/housing.tgz",
            "/titanic.tgz",
            # "+" is percent-encoded so that no server mistakes it for a space.
            "/sentiment%2Blabelled%2Bsentences.zip",
        ]
    )
    assert [ok for _, ok, _ in data.verify()] == [True, True, True]
    assert data.load_sentiment().shape == (3000, 3)


def test_second_fetch_does_not_download_again(
    http_mirror: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url, requests = http_mirror
    monkeypatch.setenv(data.MIRROR_ENV, base_url)
    first = data.fetch("titanic")
    assert requests == ["/titanic.tgz"]

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("fetch() downloaded a data set that was already cached")

    monkeypatch.setattr(urllib.request, "urlopen", no_download)
    monkeypatch.setenv(data.MIRROR_ENV, "/nonexistent/mirror")
    assert data.fetch("titanic") == first
    assert len(data.load_titanic()[0]) == 891
    assert requests == ["/titanic.tgz"]


# --------------------------------------------------------------------------
# Corrupt downloads leave nothing behind
# --------------------------------------------------------------------------


def test_corrupt_archive_raises_checksum_error_and_leaves_nothing(
    mirror: Path, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad_mirror = tmp_path / "bad-mirror"
    bad_mirror.mkdir()
    archive = bad_mirror / "housing.tgz"
    content = bytearray((mirror / "housing.tgz").read_bytes())
    for i in range(1000, 1010):
        content[i] ^= 0xFF
    archive.write_bytes(bytes(content))
    monkeypatch.setenv(data.MIRROR_ENV, str(bad_mirror))

    with pytest.raises(ChecksumError) as caught:
        data.fetch("housing")

    expected = data.REGISTRY["housing"].archive_sha256
    assert expected is not None
    actual = sha256(archive)
    message = str(caught.value)
    assert "housing.tgz" in message
    assert expected in message
    assert actual in message
    assert "corrupt" in message
    assert "discarded" in message
    assert (caught.value.filename, caught.value.expected, caught.value.actual) == (
        "housing.tgz",
        expected,
        actual,
    )
    assert cache_contents(cache) == []


def test_corrupt_member_raises_checksum_error_and_leaves_nothing(
    mirror: Path, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without an archive checksum (as for the re-packed sentiment zip) the
    # member checksums are what catches a tampered file.
    _replace_dataset(monkeypatch, "housing", archive_sha256=None)
    tampered = _housing_csv(mirror).replace(b"NEAR BAY", b"NEAR SEA", 1)
    bad_mirror = tmp_path / "bad-mirror"
    bad_mirror.mkdir()
    _write_tgz(bad_mirror / "housing.tgz", {"housing/housing.csv": tampered})
    monkeypatch.setenv(data.MIRROR_ENV, str(bad_mirror))

    with pytest.raises(ChecksumError) as caught:
        data.fetch("housing")

    message = str(caught.value)
    assert "housing/housing.csv" in message
    assert data.REGISTRY["housing"].members["housing/housing.csv"] in message
    assert hashlib.sha256(tampered).hexdigest() in message
    assert "corrupt" in message and "discarded" in message
    assert cache_contents(cache) == []


def test_unreadable_archive_raises_data_error_and_leaves_nothing(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad_mirror = tmp_path / "bad-mirror"
    bad_mirror.mkdir()
    (bad_mirror / data.REGISTRY["sentiment"].filename).write_bytes(b"not an archive" * 100)
    monkeypatch.setenv(data.MIRROR_ENV, str(bad_mirror))

    with pytest.raises(DataError, match="not a readable archive"):
        data.fetch("sentiment")
    assert cache_contents(cache) == []


def test_archive_missing_a_member_raises_data_error(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad_mirror = tmp_path / "bad-mirror"
    bad_mirror.mkdir()
    _write_tgz(bad_mirror / "titanic.tgz", {"titanic/test.csv": b"a,b\n1,2\n"})
    _replace_dataset(monkeypatch, "titanic", archive_sha256=None)
    monkeypatch.setenv(data.MIRROR_ENV, str(bad_mirror))

    with pytest.raises(DataError, match="does not contain the file 'titanic/train.csv'"):
        data.fetch("titanic")
    assert cache_contents(cache) == []


def test_only_listed_members_are_extracted(
    mirror: Path, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An archive with path-traversal entries cannot write outside its folder."""
    _replace_dataset(monkeypatch, "housing", archive_sha256=None)
    evil_mirror = tmp_path / "evil-mirror"
    evil_mirror.mkdir()
    _write_tgz(
        evil_mirror / "housing.tgz",
        {
            "../escaped.txt": b"outside the cache folder",
            "/tmp/absolute-escape-mlcourse-test.txt": b"absolute path",
            "housing/extra.txt": b"not in the registry",
            "housing/housing.csv": _housing_csv(mirror),
        },
    )
    monkeypatch.setenv(data.MIRROR_ENV, str(evil_mirror))

    folder = data.fetch("housing")

    assert sorted(p.name for p in folder.rglob("*")) == [
        ".mlcourse-verified.json",
        "housing",
        "housing.csv",
    ]
    assert not (cache / "escaped.txt").exists()
    assert not (tmp_path / "escaped.txt").exists()
    assert not Path("/tmp/absolute-escape-mlcourse-test.txt").exists()


def test_failure_after_download_leaves_nothing(
    use_mirror: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(data, "_write_stamp", explode)
    with pytest.raises(KeyboardInterrupt):
        data.fetch("titanic")
    assert cache_contents(cache) == []


def test_connection_cut_mid_download_leaves_nothing(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class TruncatingHandler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(b"only a few bytes")

        def log_message(self, format: str, *args: object) -> None:
            pass

    with _serve(TruncatingHandler) as base_url:
        monkeypatch.setenv(data.MIRROR_ENV, base_url)
        with pytest.raises(DataError) as caught:
            data.fetch("housing", progress=True)
    assert not isinstance(caught.value, ChecksumError)
    assert "cut off after 16 of 1,000,000 bytes" in str(caught.value)
    assert cache_contents(cache) == []


# --------------------------------------------------------------------------
# Helpful errors when the data cannot be downloaded
# --------------------------------------------------------------------------


def test_mirror_folder_without_the_file(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    monkeypatch.setenv(data.MIRROR_ENV, str(empty))

    with pytest.raises(DataError) as caught:
        data.fetch("titanic")

    message = str(caught.value)
    assert str(empty / "titanic.tgz") in message
    assert data.MIRROR_ENV in message
    assert data.REGISTRY["titanic"].url in message
    assert not isinstance(caught.value, ChecksumError)
    assert cache_contents(cache) == []


def test_http_mirror_without_the_file(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-served"
    empty.mkdir()
    handler, requests = _recording_handler(empty)
    with _serve(handler) as base_url:
        monkeypatch.setenv(data.MIRROR_ENV, base_url)
        with pytest.raises(DataError) as caught:
            data.fetch("housing")
        message = str(caught.value)
        assert f"{base_url}/housing.tgz" in message
        assert "404" in message
        assert requests == ["/housing.tgz"]
    assert cache_contents(cache) == []


def test_offline_without_mirror_explains_how_to_get_the_data(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "http://127.0.0.1:9/nothing.tgz"
    _replace_dataset(monkeypatch, "housing", url=url)

    with pytest.raises(DataError) as caught:
        data.fetch("housing")

    message = str(caught.value)
    assert "offline" in message
    assert url in message
    assert "housing.tgz" in message
    assert data.MIRROR_ENV in message
    assert cache_contents(cache) == []


def test_unsupported_mirror_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(data.MIRROR_ENV, "ftp://example.org/data")
    with pytest.raises(DataError, match="http"):
        data.fetch("housing")


def test_unknown_name_lists_known_names() -> None:
    for call in (data.fetch, data.verify, data.get_dataset):
        with pytest.raises(DataError) as caught:
            call("mnist")
        message = str(caught.value)
        assert "mnist" in message
        for name in ("housing", "titanic", "sentiment"):
            assert name in message


# --------------------------------------------------------------------------
# verify() and list_datasets()
# --------------------------------------------------------------------------


def test_verify_detects_a_corrupted_cached_member(use_mirror: Path) -> None:
    assert data.verify("housing") == [("housing", False, "not fetched")]

    folder = data.fetch("housing")
    assert data.verify("housing") == [("housing", True, "ok")]
    assert data.verify() == [
        ("housing", True, "ok"),
        ("titanic", False, "not fetched"),
        ("sentiment", False, "not fetched"),
    ]

    with (folder / "housing" / "housing.csv").open("ab") as f:
        f.write(b"-122.0,37.0,1,1,1,1,1,1.0,1.0,NEAR BAY\n")
    assert data.verify("housing") == [("housing", False, "corrupt: housing/housing.csv")]

    # The corrupt copy is no longer trusted: fetch() replaces it.
    assert data.fetch("housing") == folder
    assert data.verify("housing") == [("housing", True, "ok")]


def test_verify_reports_a_missing_member(use_mirror: Path) -> None:
    folder = data.fetch("titanic")
    (folder / "titanic" / "test.csv").unlink()
    assert data.verify("titanic") == [("titanic", False, "corrupt: titanic/test.csv")]


def test_list_datasets(use_mirror: Path) -> None:
    rows = data.list_datasets()
    assert [row.name for row in rows] == ["housing", "titanic", "sentiment"]
    assert not any(row.cached for row in rows)
    assert all(row.url.startswith("https://") and row.description for row in rows)

    data.fetch("titanic")
    cached = {name: is_cached for name, _, is_cached, _ in data.list_datasets()}
    assert cached == {"housing": False, "titanic": True, "sentiment": False}


def test_cache_dir_defaults_to_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(data.CACHE_ENV)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.cache_dir() == tmp_path / ".cache" / "mlcourse"


# --------------------------------------------------------------------------
# Parsing the sentiment files
# --------------------------------------------------------------------------


def test_parse_sentiment_splits_on_newline_only() -> None:
    raw = "A film\x85 of two halves.  \t1\r\nBad.\t0\n\n\r\nGood\tstuff\t1\n".encode()
    assert data._parse_sentiment(raw, "x.txt") == [
        ("A film\x85 of two halves.", 1),
        ("Bad.", 0),
        ("Good\tstuff", 1),
    ]


def test_parse_sentiment_rejects_malformed_lines() -> None:
    with pytest.raises(DataError, match=r"x\.txt, line 2"):
        data._parse_sentiment(b"fine\t1\nno label here\n", "x.txt")
