"""The course's data sets: where they come from, how they are cached, how to load them.

Every data set the course uses is listed in :data:`REGISTRY` together with the
URL it is downloaded from and the SHA-256 checksum of every file in it. The
first time a notebook calls, say, :func:`load_housing`, the archive is
downloaded, checked, unpacked into a cache folder and then read with pandas.
Later calls read straight from the cache, so the download happens only once.

Where the data is stored
    ``$MLCOURSE_CACHE`` if that environment variable is set, otherwise
    ``~/.cache/mlcourse``. Each data set gets its own sub-folder, for example
    ``~/.cache/mlcourse/housing/housing/housing.csv``.

Working offline
    If a machine has no internet access, download the archives somewhere else
    (the URLs are in :data:`REGISTRY`, or run :func:`list_datasets`), copy them
    into a folder and set ``MLCOURSE_DATA_MIRROR`` to that folder. The archives
    are then "downloaded" from the folder, and checked exactly as they would be
    online. ``MLCOURSE_DATA_MIRROR`` may also be an ``http://`` or ``https://``
    address, which is then used in place of the usual download site.

Safety
    Nothing is trusted until its checksum matches. A download is unpacked into a
    temporary folder inside the cache and only moved into place, in a single
    rename, once every file has been verified; if anything goes wrong the
    temporary files are deleted, so the cache never holds a half-written or
    corrupt data set. Only the files listed in the registry are ever taken out
    of an archive, so a malicious archive cannot write anywhere else.

Example::

    from mlcourse.data import load_housing
    housing = load_housing()  # downloads on first use, then reads the cache
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from email.message import Message

    import pandas as pd

__all__ = [
    "CACHE_ENV",
    "MIRROR_ENV",
    "REGISTRY",
    "ChecksumError",
    "DataError",
    "Dataset",
    "DatasetRow",
    "cache_dir",
    "fetch",
    "get_dataset",
    "list_datasets",
    "load_housing",
    "load_sentiment",
    "load_titanic",
    "verify",
]

#: Environment variable that overrides the cache folder.
CACHE_ENV = "MLCOURSE_CACHE"
#: Environment variable naming a folder or base URL that holds the archives.
MIRROR_ENV = "MLCOURSE_DATA_MIRROR"

_STAMP_NAME = ".mlcourse-verified.json"
_CHUNK_SIZE = 1 << 20  # read and hash downloads 1 MiB at a time
_TIMEOUT_SECONDS = 60.0


class DataError(Exception):
    """A data set could not be fetched, verified or loaded.

    The message always says what went wrong and what to do about it.
    """


class ChecksumError(DataError):
    """A downloaded file does not have the SHA-256 checksum the registry expects.

    Attributes:
        filename: The file whose checksum is wrong (an archive or a member of one).
        expected: The SHA-256 the registry lists for it.
        actual: The SHA-256 of what was actually downloaded.
    """

    def __init__(self, message: str, *, filename: str, expected: str, actual: str) -> None:
        super().__init__(message)
        self.filename = filename
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class Dataset:
    """Everything needed to download, check and describe one data set.

    Attributes:
        name: Short name used in code, e.g. ``"housing"``.
        url: Canonical download address of the archive.
        filename: File name of the archive (also its name on a mirror).
        members: The files to take out of the archive, as
            ``{path inside the archive: expected sha256}``. Nothing else is extracted.
        archive_sha256: Expected SHA-256 of the archive itself, or ``None``
            when only the members can be checked (e.g. a re-packed zip).
        description: One line saying what the data is.
        license: Licence and/or citation to give when using the data.
    """

    name: str
    url: str
    filename: str
    members: dict[str, str] = field(hash=False)
    archive_sha256: str | None
    description: str
    license: str


#: All data sets the course knows about, by name.
REGISTRY: dict[str, Dataset] = {
    ds.name: ds
    for ds in (
        Dataset(
            name="housing",
            url="https://github.com/ageron/data/raw/main/housing.tgz",
            filename="housing.tgz",
            members={
                "housing/housing.csv": (
                    "2364609dc48bec7df3ba9dbb7041478e704ecddcee70ef1827ec3fc49d22c0cc"
                ),
            },
            archive_sha256="354f441b3af4eb54e07818501dafc9b0865162d85a24769d754238acedc82ae1",
            description=(
                "California housing, 1990 census: 20,640 districts, 10 columns, "
                "target median_house_value"
            ),
            license=(
                "StatLib; R. K. Pace and R. Barry, 'Sparse Spatial Autoregressions', "
                "Statistics & Probability Letters 33 (1997); as prepared by A. Géron "
                "for 'Hands-On Machine Learning'"
            ),
        ),
        Dataset(
            name="titanic",
            url="https://github.com/ageron/data/raw/main/titanic.tgz",
            filename="titanic.tgz",
            members={
                "titanic/train.csv": (
                    "14769fb1850e2d26d8e6db0ee49c213878040432827e39b13caaa15603c6598f"
                ),
                "titanic/test.csv": (
                    "d88facfbcf53fe855b1c15290521aee9c61b3a6283631fa953983a95bacf1399"
                ),
            },
            archive_sha256="2cf3e0d11fb9f7f1b7601277f7922fcc9765ba9213c8c63e71bc578a04012350",
            description=("Titanic passengers: 891 for training (with Survived), 418 for testing"),
            license="Kaggle 'Titanic - Machine Learning from Disaster' competition data",
        ),
        Dataset(
            name="sentiment",
            url="https://archive.ics.uci.edu/static/public/331/sentiment+labelled+sentences.zip",
            filename="sentiment+labelled+sentences.zip",
            members={
                "sentiment labelled sentences/amazon_cells_labelled.txt": (
                    "47003fc0a0d4840b00e96e715b6189bad09e7443a3da41c4cbe12ffc79f86ae3"
                ),
                "sentiment labelled sentences/imdb_labelled.txt": (
                    "aef2e49e3da25714d61175e3a6e68eeef74a20a2f914318dc3be9947ea86512d"
                ),
                "sentiment labelled sentences/yelp_labelled.txt": (
                    "c76468b7b5c6e56a0804d728345c5f84aa2142ddb214420f61cc9cfd4c00d2ea"
                ),
            },
            archive_sha256=None,  # UCI has re-packed this zip before; check members only
            description=(
                "UCI Sentiment Labelled Sentences: 3,000 review sentences "
                "(Amazon, IMDb, Yelp), labelled positive/negative"
            ),
            license=(
                "CC BY 4.0; D. Kotzias, M. Denil, N. de Freitas and P. Smyth, "
                "'From Group to Individual Labels using Deep Features', KDD 2015"
            ),
        ),
    )
}


class DatasetRow(NamedTuple):
    """One row of :func:`list_datasets`: a plain tuple with named fields."""

    name: str
    description: str
    cached: bool
    url: str


# --------------------------------------------------------------------------
# Registry and cache
# --------------------------------------------------------------------------


def get_dataset(name: str) -> Dataset:
    """Return the registry entry for ``name``.

    Raises:
        DataError: If there is no data set of that name; the message lists the
            names that do exist.
    """
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise DataError(f"Unknown data set {name!r}. Known data sets: {known}.") from None


def cache_dir() -> Path:
    """Return the folder that holds downloaded data sets (it may not exist yet).

    This is ``$MLCOURSE_CACHE`` when set (``~`` and relative paths are
    resolved), otherwise ``~/.cache/mlcourse``.
    """
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    return Path.home() / ".cache" / "mlcourse"


def _stamp_path(folder: Path) -> Path:
    return folder / _STAMP_NAME


def _is_fetched(ds: Dataset, folder: Path) -> bool:
    """Cheap check (no hashing) that ``folder`` holds a verified copy of ``ds``.

    True when the stamp written after verification is present and lists the
    same checksums as the registry, and every member file exists.
    """
    try:
        stamp = json.loads(_stamp_path(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(stamp, dict) or stamp.get("members") != ds.members:
        return False
    return all((folder / member).is_file() for member in ds.members)


def _write_stamp(ds: Dataset, folder: Path, source: str) -> None:
    stamp = {"dataset": ds.name, "source": source, "members": ds.members}
    _stamp_path(folder).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in chunks (the course's one file-hashing helper)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------
# Where to download from
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """Where an archive is downloaded from.

    ``url`` is what ``urllib`` opens; ``shown`` is how it is named in messages
    (a plain path for a local mirror); ``mirror`` is the raw value of
    ``$MLCOURSE_DATA_MIRROR`` or ``None`` when using the canonical URL.
    """

    url: str
    shown: str
    mirror: str | None


def _source(ds: Dataset) -> _Source:
    """Work out where to download ``ds`` from, honouring ``$MLCOURSE_DATA_MIRROR``."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    if not mirror:
        return _Source(url=ds.url, shown=ds.url, mirror=None)
    scheme = urllib.parse.urlsplit(mirror).scheme.lower()
    if scheme in ("http", "https", "file"):
        url = mirror.rstrip("/") + "/" + urllib.parse.quote(ds.filename)
        return _Source(url=url, shown=url, mirror=mirror)
    if "://" in mirror:
        raise DataError(
            f"{MIRROR_ENV}={mirror!r} is not supported: use a local folder or an "
            "http:// or https:// address."
        )
    path = Path(mirror).expanduser().resolve() / ds.filename
    return _Source(url=path.as_uri(), shown=str(path), mirror=mirror)


def _download_error(ds: Dataset, source: _Source, exc: BaseException) -> DataError:
    """Build the message for a download that failed (offline, or mirror lacks the file)."""
    if isinstance(exc, urllib.error.HTTPError):
        reason: object = f"HTTP error {exc.code}: {exc.reason}"
    elif isinstance(exc, urllib.error.URLError):
        reason = exc.reason
    else:
        reason = exc
    if source.mirror is None:
        host = urllib.parse.urlsplit(ds.url).netloc
        return DataError(
            f"Could not download the {ds.name!r} data set from {ds.url}\n"
            f"({reason}).\n"
            f"It looks like this machine is offline or cannot reach {host}.\n"
            "To get the data anyway:\n"
            f"  1. on a machine with internet access, download {ds.url}\n"
            f"  2. put the file {ds.filename} in a folder on this machine, "
            "e.g. ~/mlcourse-data\n"
            f"  3. set {MIRROR_ENV} to that folder, e.g. "
            f"`export {MIRROR_ENV}=~/mlcourse-data`, and try again.\n"
            "The file is checked exactly as if it had been downloaded here."
        )
    return DataError(
        f"Could not get {ds.filename} for the {ds.name!r} data set from the data "
        f"mirror {MIRROR_ENV}={source.mirror}: tried {source.shown}\n"
        f"({reason}).\n"
        f"The mirror does not have the file (or cannot be reached). Put {ds.filename} there "
        f"(download it from {ds.url}), or unset {MIRROR_ENV} to download it from "
        "the internet."
    )


@contextmanager
def _progress_bar(
    enabled: bool, description: str, total: int | None
) -> Iterator[Callable[[int], None]]:
    """Yield a callback ``advance(n_bytes)``; if ``enabled`` it drives a rich bar."""
    if not enabled:
        yield lambda _n_bytes: None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n_bytes: bar.advance(task, n_bytes)


def _content_length(headers: Message) -> int | None:
    """The Content-Length header as an int, or ``None`` if absent or malformed."""
    try:
        return int(headers["Content-Length"])
    except (TypeError, ValueError):
        return None


def _interrupted_error(
    ds: Dataset, source: _Source, received: int, total: int | None, reason: object
) -> DataError:
    """Build the message for a download that started but did not finish."""
    expected = f" of {total:,}" if total is not None else ""
    return DataError(
        f"The download of {ds.filename} from {source.shown} was cut off after "
        f"{received:,}{expected} bytes ({reason}). The partial file was discarded; "
        "please try again."
    )


def _download(ds: Dataset, source: _Source, dest: Path, *, progress: bool) -> str:
    """Stream the archive from ``source`` into ``dest``; return its SHA-256.

    Raises:
        DataError: If the download fails, with advice on how to get the file.
    """
    try:
        response = urllib.request.urlopen(source.url, timeout=_TIMEOUT_SECONDS)
    except (OSError, http.client.HTTPException) as exc:
        # URLError and HTTPError (e.g. 404) are OSErrors too.
        raise _download_error(ds, source, exc) from exc

    digest = hashlib.sha256()
    received = 0
    total = _content_length(response.headers)
    with (
        response,
        dest.open("wb") as out,
        _progress_bar(progress, f"Downloading {ds.filename}", total) as advance,
    ):
        while True:
            try:
                chunk = response.read(_CHUNK_SIZE)
            except (OSError, http.client.HTTPException) as exc:
                raise _interrupted_error(ds, source, received, total, exc) from exc
            if not chunk:
                break
            out.write(chunk)
            digest.update(chunk)
            received += len(chunk)
            advance(len(chunk))
    # http.client returns a short read, not an error, when a server closes the
    # connection early; the Content-Length (when sent) tells us.
    if total is not None and received != total:
        raise _interrupted_error(ds, source, received, total, "connection closed early")
    return digest.hexdigest()


# --------------------------------------------------------------------------
# Checking and unpacking
# --------------------------------------------------------------------------


def _checksum_error(
    ds: Dataset, source: _Source, filename: str, expected: str, actual: str
) -> ChecksumError:
    return ChecksumError(
        f"Checksum mismatch for {filename} (data set {ds.name!r}, from {source.shown}):\n"
        f"  expected sha256 {expected}\n"
        f"  actual   sha256 {actual}\n"
        "The download is corrupt and was discarded; nothing was added to the cache. "
        "Try again; if it keeps happening, the source serves a different file "
        "than the course expects.",
        filename=filename,
        expected=expected,
        actual=actual,
    )


def _safe_relative(member: str) -> PurePosixPath:
    """Check that an archive member name stays inside the extraction folder."""
    path = PurePosixPath(member)
    if path.is_absolute() or ".." in path.parts or "\\" in member or not path.parts:
        raise DataError(f"Refusing unsafe archive member name {member!r}.")
    return path


def _member_opener(archive: Path, stack: ExitStack) -> Callable[[str], IO[bytes]]:
    """Open a tar or zip ``archive`` and return a function that opens one member.

    The returned function raises ``KeyError`` unless the member exists and is a
    regular file (so links, devices and folders are never followed). The
    archive is closed when ``stack`` closes.
    """
    if zipfile.is_zipfile(archive):
        zf = stack.enter_context(zipfile.ZipFile(archive))

        def open_zip_member(member: str) -> IO[bytes]:
            info = zf.getinfo(member)
            if info.is_dir():
                raise KeyError(member)
            return zf.open(info)

        return open_zip_member

    tf = stack.enter_context(tarfile.open(archive, "r:*"))

    def open_tar_member(member: str) -> IO[bytes]:
        info = tf.getmember(member)
        handle = tf.extractfile(info) if info.isfile() else None
        if handle is None:
            raise KeyError(member)
        return handle

    return open_tar_member


def _extract_and_verify(ds: Dataset, source: _Source, archive: Path, dest: Path) -> None:
    """Extract only the registry's members of ``archive`` into ``dest``, checking each.

    Raises:
        ChecksumError: If a member's content differs from the registry.
        DataError: If the archive is unreadable or lacks a member.
    """
    try:
        with ExitStack() as stack:
            open_member = _member_opener(archive, stack)
            for member, expected in ds.members.items():
                target = dest.joinpath(*_safe_relative(member).parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    handle = open_member(member)
                except KeyError:
                    raise DataError(
                        f"{ds.filename} (from {source.shown}) does not contain the "
                        f"file {member!r} that the {ds.name!r} data set needs. "
                        "The download was discarded."
                    ) from None
                digest = hashlib.sha256()
                with handle, target.open("wb") as out:
                    while chunk := handle.read(_CHUNK_SIZE):
                        out.write(chunk)
                        digest.update(chunk)
                actual = digest.hexdigest()
                if actual != expected:
                    raise _checksum_error(ds, source, member, expected, actual)
    except (
        tarfile.TarError,
        zipfile.BadZipFile,
        gzip.BadGzipFile,
        EOFError,
        zlib.error,
    ) as exc:
        raise DataError(
            f"{ds.filename} (from {source.shown}) is not a readable archive "
            f"({exc}). The download is corrupt and was discarded."
        ) from exc


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def fetch(name: str, *, progress: bool = False) -> Path:
    """Make sure data set ``name`` is in the cache and return its folder.

    If a verified copy is already cached, this returns at once without any
    download. Otherwise the archive is downloaded (from ``$MLCOURSE_DATA_MIRROR``
    if set, else from the canonical URL), its checksum and that of every file in
    it are checked, and only then is the data set moved into the cache.

    Args:
        name: A key of :data:`REGISTRY`, e.g. ``"housing"``.
        progress: Show a progress bar while downloading.

    Returns:
        The folder ``<cache>/<name>``; the archive's files keep their paths
        inside it (e.g. ``fetch("housing") / "housing" / "housing.csv"``).

    Raises:
        DataError: Unknown name, failed download, or unreadable archive. The
            message explains how to fix it (e.g. how to work offline).
        ChecksumError: The download is corrupt. Nothing is left in the cache.
    """
    ds = get_dataset(name)
    root = cache_dir()
    folder = root / ds.name
    if _is_fetched(ds, folder):
        return folder

    source = _source(ds)
    root.mkdir(parents=True, exist_ok=True)
    # Everything is written inside this hidden temporary folder, in the cache so
    # that the final rename stays on one file system; it is always removed.
    work = Path(tempfile.mkdtemp(prefix=f".tmp-{ds.name}-", dir=root))
    try:
        archive = work / ds.filename
        actual = _download(ds, source, archive, progress=progress)
        if ds.archive_sha256 is not None and actual != ds.archive_sha256:
            raise _checksum_error(ds, source, ds.filename, ds.archive_sha256, actual)

        staged = work / ds.name
        staged.mkdir()
        _extract_and_verify(ds, source, archive, staged)
        _write_stamp(ds, staged, source.shown)

        if folder.exists() or folder.is_symlink():
            # A stale or damaged copy: move it aside so that the rename below
            # can take its place; it is deleted with the temporary folder.
            os.replace(folder, work / "previous")
        try:
            os.replace(staged, folder)
        except OSError:
            # Another process may have finished the same fetch just now.
            if _is_fetched(ds, folder):
                return folder
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def verify(name: str | None = None) -> list[tuple[str, bool, str]]:
    """Re-check the checksums of cached data sets; never downloads anything.

    Args:
        name: One data set, or ``None`` for all of them.

    Returns:
        One ``(name, ok, status)`` per data set, where ``status`` is ``"ok"``,
        ``"not fetched"`` or ``"corrupt: <file>"`` (several files are
        separated by commas). A corrupt data set loses its "verified" mark, so
        the next :func:`fetch` downloads it again.

    Raises:
        DataError: If ``name`` is not a known data set.
    """
    datasets = [get_dataset(name)] if name is not None else list(REGISTRY.values())
    root = cache_dir()
    results: list[tuple[str, bool, str]] = []
    for ds in datasets:
        folder = root / ds.name
        if not _stamp_path(folder).is_file():
            results.append((ds.name, False, "not fetched"))
            continue
        bad = [
            member
            for member, expected in ds.members.items()
            if not (folder / member).is_file() or sha256_file(folder / member) != expected
        ]
        if bad:
            _stamp_path(folder).unlink(missing_ok=True)
            results.append((ds.name, False, "corrupt: " + ", ".join(bad)))
        else:
            results.append((ds.name, True, "ok"))
    return results


def list_datasets() -> list[DatasetRow]:
    """Describe every registered data set, e.g. to print as a table.

    Returns:
        One :class:`DatasetRow` ``(name, description, cached, url)`` per data
        set. ``cached`` is true when a verified copy is in the cache (checked
        cheaply; use :func:`verify` to re-hash the files).
    """
    root = cache_dir()
    return [
        DatasetRow(ds.name, ds.description, _is_fetched(ds, root / ds.name), ds.url)
        for ds in REGISTRY.values()
    ]


# --------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------


def load_housing() -> pd.DataFrame:
    """California housing districts (1990 census) as a DataFrame.

    20,640 rows and 10 columns: eight numeric features, the categorical
    ``ocean_proximity`` and the target ``median_house_value``. 207
    ``total_bedrooms`` values are missing (NaN), on purpose: cleaning them is
    part of the exercise.
    """
    import pandas as pd

    return pd.read_csv(fetch("housing") / "housing" / "housing.csv")


def load_titanic() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Kaggle Titanic data as ``(train, test)`` DataFrames.

    ``train`` has 891 passengers including the label ``Survived``; ``test``
    has 418 passengers and no label.
    """
    import pandas as pd

    folder = fetch("titanic") / "titanic"
    return pd.read_csv(folder / "train.csv"), pd.read_csv(folder / "test.csv")


_SENTIMENT_FILES = {
    "amazon": "sentiment labelled sentences/amazon_cells_labelled.txt",
    "imdb": "sentiment labelled sentences/imdb_labelled.txt",
    "yelp": "sentiment labelled sentences/yelp_labelled.txt",
}
_SENTIMENT_ROWS_PER_SOURCE = 1000


def _parse_sentiment(raw: bytes, filename: str) -> list[tuple[str, int]]:
    """Parse one ``sentence<TAB>label`` file into ``(sentence, label)`` pairs.

    Records are split on ``"\\n"`` only: ``str.splitlines()`` would also split
    on characters such as U+0085 (NEXT LINE), which occur inside IMDb sentences.
    """
    rows: list[tuple[str, int]] = []
    for number, line in enumerate(raw.decode("utf-8").split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        sentence, tab, label = line.rpartition("\t")
        if not tab or label.strip() not in ("0", "1"):
            raise DataError(
                f"{filename}, line {number}: expected 'sentence<TAB>0' or "
                f"'sentence<TAB>1', got {line[:80]!r}."
            )
        rows.append((sentence.strip(" \t"), int(label)))
    return rows


def load_sentiment() -> pd.DataFrame:
    """The UCI Sentiment Labelled Sentences as one DataFrame.

    3,000 rows with columns ``text`` (the sentence), ``label`` (1 positive,
    0 negative) and ``source`` (``"amazon"``, ``"imdb"`` or ``"yelp"``);
    1,000 sentences per source, 500 of each label.

    Raises:
        DataError: If a file does not hold exactly 1,000 sentences.
    """
    import pandas as pd

    folder = fetch("sentiment")
    records: list[tuple[str, int, str]] = []
    for source, member in _SENTIMENT_FILES.items():
        rows = _parse_sentiment((folder / member).read_bytes(), member)
        if len(rows) != _SENTIMENT_ROWS_PER_SOURCE:
            raise DataError(
                f"{member}: expected {_SENTIMENT_ROWS_PER_SOURCE} sentences, found {len(rows)}."
            )
        records.extend((text, label, source) for text, label in rows)
    frame = pd.DataFrame.from_records(records, columns=["text", "label", "source"])
    frame["label"] = frame["label"].astype("int64")
    return frame
