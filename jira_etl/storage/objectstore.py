"""Where the Parquet lake lives: a local folder (the default) or object storage.

`JIRA_ETL_LAKE` (default `$JIRA_ETL_DATA_DIR/parquet`) is a path or a URI: `s3://bucket/prefix`
(S3, MinIO, Ceph: the standard AWS variables are honoured, `AWS_ENDPOINT_URL` for
S3-compatible servers), `gs://`, `abfs://` (through pyarrow's filesystem layer, with the
credentials of the environment). Only the URI is ever shown; keys are read from the
environment by the filesystem and scrubbed from every error this module raises.

Atomicity on object storage: a file is written completely to a local temporary file
first, then uploaded with one PUT (a multipart upload above the part size, which S3 also
publishes only when it completes), so an object appears under its final name whole or
not at all. Deleting or replacing an object is atomic per object.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

REMOTE_SCHEMES = ("s3", "gs", "gcs", "abfs", "abfss", "az")
_SECRET_VARS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID",
                "AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_SAS_TOKEN")


class LakeError(OSError):
    """An object-storage operation failed; the message names the object, never a key."""


def scrub(text: str) -> str:
    """`text` with every credential of the environment replaced by ***."""
    for var in _SECRET_VARS:
        value = os.environ.get(var)
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


def lake_setting(data_dir: Path) -> str:
    return os.environ.get("JIRA_ETL_LAKE") or str(Path(data_dir) / "parquet")


def is_remote(location: str | os.PathLike) -> bool:
    return isinstance(location, str) and urlsplit(location).scheme in REMOTE_SCHEMES


@dataclass(frozen=True)
class RemoteLake:
    """A lake on object storage: its URI (credential-free) and pyarrow filesystem."""

    uri: str  # e.g. s3://bucket/prefix, without a trailing slash

    def __repr__(self) -> str:
        return f"RemoteLake({self.uri!r})"

    @property
    def fs(self) -> pafs.FileSystem:
        return _filesystem(self.uri, os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3") or "",
                           os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "")

    def key(self, uri: str) -> str:
        """The filesystem path (bucket/key) of one of this lake's URIs."""
        parts = urlsplit(uri)
        return (parts.netloc + parts.path).rstrip("/")

    def join(self, *parts: str) -> str:
        return "/".join([self.uri.rstrip("/"), *parts])


def remote_lake(data_dir: Path) -> RemoteLake | None:
    """The object-storage lake configured for `data_dir`, or None for a local lake."""
    setting = lake_setting(data_dir)
    if not is_remote(setting):
        return None
    parts = urlsplit(setting)
    if parts.username or parts.password or parts.query:
        raise ValueError("JIRA_ETL_LAKE: give credentials through the environment (AWS_ACCESS_KEY_ID, ...), "
                         "not in the URI")
    if not parts.netloc:
        raise ValueError(f"JIRA_ETL_LAKE: {parts.scheme}:// needs a bucket, e.g. {parts.scheme}://bucket/prefix")
    return RemoteLake(f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}")


def local_root(data_dir: Path) -> Path:
    return Path(lake_setting(data_dir)).resolve()


@lru_cache(maxsize=8)
def _filesystem(uri: str, endpoint: str, region: str) -> pafs.FileSystem:
    # One filesystem per (lake, endpoint, region): the SDK reads the keys from the
    # environment itself, so they never pass through this module's arguments.
    scheme = urlsplit(uri).scheme
    if scheme == "s3":
        kwargs: dict = {"allow_bucket_creation": False, "allow_bucket_deletion": False,
                        "connect_timeout": 10, "request_timeout": 60}
        if endpoint:
            ep = urlsplit(endpoint if "://" in endpoint else "https://" + endpoint)
            kwargs["endpoint_override"] = ep.netloc
            kwargs["scheme"] = ep.scheme or "https"
            # Most S3-compatible servers want path-style requests on an endpoint.
        kwargs["region"] = region or "us-east-1"
        return pafs.S3FileSystem(**kwargs)
    fs, _ = pafs.FileSystem.from_uri(uri)
    return fs


_GONE = ("NoSuchKey", "NO_SUCH_KEY", "RESOURCE_NOT_FOUND", "does not exist", "Not Found", "404")


def is_gone(exc: BaseException) -> bool:
    """An object-store error that means the object is not there (any more)."""
    return isinstance(exc, FileNotFoundError) or (isinstance(exc, OSError) and any(m in str(exc) for m in _GONE))


def _wrap(what: str, exc: Exception) -> LakeError:
    return LakeError(scrub(f"{what}: {type(exc).__name__}: {exc}"))


def info(lake: RemoteLake, uris: list[str]) -> dict[str, pafs.FileInfo]:
    """Which of `uris` exist (one HEAD each; never a listing)."""
    if not uris:
        return {}
    try:
        infos = lake.fs.get_file_info([lake.key(u) for u in uris])
    except Exception as exc:  # noqa: BLE001 - re-raised without credentials
        raise _wrap(f"cannot stat objects under {lake.uri}", exc) from None
    return {u: i for u, i in zip(uris, infos) if i.type == pafs.FileType.File}


def list_keys(lake: RemoteLake, prefix_uri: str) -> list[str]:
    """Every object below a prefix (one paginated listing), as bucket/key paths."""
    try:
        found = lake.fs.get_file_info(pafs.FileSelector(lake.key(prefix_uri), allow_not_found=True, recursive=True))
    except Exception as exc:  # noqa: BLE001
        raise _wrap(f"cannot list {prefix_uri}", exc) from None
    return [i.path for i in found if i.type == pafs.FileType.File]


def upload(lake: RemoteLake, local: Path, uri: str) -> None:
    """Publish a complete local file under `uri` in one upload."""
    try:
        with open(local, "rb") as src, lake.fs.open_output_stream(lake.key(uri), metadata={}) as dst:
            shutil.copyfileobj(src, dst, length=64 << 20)
    except Exception as exc:  # noqa: BLE001
        raise _wrap(f"cannot upload {uri}", exc) from None


def put_table(lake: RemoteLake, table: pa.Table, uri: str, **write_options) -> None:
    with tempfile.TemporaryDirectory(prefix="jira-etl-put-") as tmp:
        local = Path(tmp) / "data.parquet"
        pq.write_table(table, local, **write_options)
        upload(lake, local, uri)


def open_parquet(lake: RemoteLake, uri: str) -> pq.ParquetFile:
    """One object opened for reading; FileNotFoundError if it is gone."""
    try:
        return pq.ParquetFile(lake.fs.open_input_file(lake.key(uri)))
    except FileNotFoundError:
        raise FileNotFoundError(uri) from None
    except Exception as exc:  # noqa: BLE001
        if is_gone(exc):
            raise FileNotFoundError(uri) from None
        raise _wrap(f"cannot read {uri}", exc) from None


def delete(lake: RemoteLake, uri: str) -> None:
    try:
        lake.fs.delete_file(lake.key(uri))
    except FileNotFoundError:
        pass
    except Exception as exc:  # noqa: BLE001
        raise _wrap(f"cannot delete {uri}", exc) from None


def remote_lake_of(uri: str) -> RemoteLake:
    """A lake handle able to reach one of its URIs (the bucket is all that matters)."""
    parts = urlsplit(uri)
    return RemoteLake(f"{parts.scheme}://{parts.netloc}")


def delete_folder(lake: RemoteLake, uri: str) -> None:
    """Remove a partition folder and what it holds. (Deleting its last object alone
    would make pyarrow leave an empty folder-marker object in its place.)"""
    try:
        lake.fs.delete_dir(lake.key(uri))
    except FileNotFoundError:
        pass
    except Exception as exc:  # noqa: BLE001
        raise _wrap(f"cannot delete {uri}", exc) from None
