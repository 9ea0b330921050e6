"""Backups of one profile: a consistent copy taken while Joi runs, and a restore that checks first.

A backup is one zip file (``joi-backup-….zip``; read with :mod:`zipfile`, never pickle) holding

- ``manifest.json``: format, version, profile, created_at, the store's schema version, whether
  it is encrypted, the embedding model of its vectors, the number of memories, and the SHA-256
  of every other member;
- ``memories.sqlite3``: the profile's store, copied with SQLite's online backup API
  (``Connection.backup``) from a connection of its own, so the copy is one consistent
  snapshot of everything committed before it started, and Joi keeps writing meanwhile (WAL).
  In an encrypted data folder the copy is made with SQLCipher under the same key, so it is
  encrypted page by page like the store;
- ``settings.json``: the profile's settings, if any, as they are on disk (sealed with AES-GCM
  in an encrypted folder);
- ``joi-coach-key.json``: in an encrypted folder, the folder's key file (the data key wrapped
  by the passphrase), so the backup can be restored on a new machine with the passphrase alone.
  Without the passphrase nothing in the backup can be read.

:func:`restore` validates everything before it replaces anything: the zip and every member's
checksum, the manifest, ``PRAGMA integrity_check`` on a copy of the store, a schema no newer
than this Joi's, and that the backup is encrypted exactly when the target folder is (an
encrypted backup may also go into a new, empty data folder, with its passphrase). Only then,
with the profile closed, are the files written beside the old ones, flushed to the disk and
swapped in with ``os.replace``; the old store is overwritten before it is removed, and the
vector cache is rebuilt from the restored store.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import encryption
from .bank import STORE_FILE, MemoryBank
from .embeddings import Embedder
from .encryption import KEY_FILE, DataKey
from .files import fsync_dir, shred
from .migrations import SCHEMA_VERSION, db_errors, stored_version

log = logging.getLogger(__name__)

BACKUP_FORMAT = "joi-coach-backup"
BACKUP_VERSION = 1
MANIFEST = "manifest.json"
SETTINGS = "settings.json"  # the profile's settings file (see profile_settings.SETTINGS_FILE)
CACHE_FILES = ("vectors.json", "vectors-*.faiss")  # rebuilt from the store after a restore
MAX_MANIFEST = 64 * 1024


class BackupError(RuntimeError):
    """A backup cannot be made or restored; the text says why. Nothing was replaced."""


@dataclass(frozen=True)
class Manifest:
    profile: str
    created_at: float
    schema_version: int
    encrypted: bool
    embedding_model: str | None
    memories: int
    files: dict[str, str]  # member name -> sha256

    def to_json(self) -> dict[str, Any]:
        return {
            "format": BACKUP_FORMAT,
            "version": BACKUP_VERSION,
            "profile": self.profile,
            "created_at": self.created_at,
            "schema_version": self.schema_version,
            "encrypted": self.encrypted,
            "embedding_model": self.embedding_model,
            "memories": self.memories,
            "files": self.files,
        }

    @classmethod
    def from_json(cls, data: object) -> Manifest:
        if not isinstance(data, dict) or data.get("format") != BACKUP_FORMAT:
            raise BackupError("this is not a Joi Coach backup (its manifest names another format)")
        version = data.get("version")
        if not isinstance(version, int) or version < 1:
            raise BackupError("the backup's manifest is damaged (no version)")
        if version > BACKUP_VERSION:
            raise BackupError(f"the backup has format version {version}, newer than this Joi: update Joi")
        try:
            files = data["files"]
            if not isinstance(files, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in files.items()
            ):
                raise TypeError("files")
            model = data.get("embedding_model")
            return cls(
                profile=str(data["profile"]),
                created_at=float(data["created_at"]),
                schema_version=_int(data["schema_version"]),
                encrypted=_bool(data["encrypted"]),
                embedding_model=None if model is None else str(model),
                memories=_int(data.get("memories", 0)),
                files=dict(files),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BackupError(f"the backup's manifest is damaged ({exc})") from None


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return value


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError("not true or false")
    return value


@dataclass(frozen=True)
class RestoreReport:
    profile: str
    memories: int
    encrypted: bool
    created_at: float
    folder: Path


# -- small helpers ------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _shred_tree(folder: Path) -> None:
    """Overwrite and remove every file under a private scratch folder, then the folder."""
    if not folder.exists():
        return
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_file() and not path.is_symlink():
            shred(path)
    shutil.rmtree(folder, ignore_errors=True)


def _connect(path: Path, key: bytes | None) -> Any:
    """A connection to a store file: plain sqlite3, or SQLCipher keyed with ``key``."""
    if key is None:
        return sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db = encryption.sqlcipher().connect(str(path), isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA cipher_log_level = NONE")
    db.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return db


def default_name(now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"joi-backup-{stamp}.zip"


# -- backing up ---------------------------------------------------------------------------------
def backup(folder: Path, destination: Path, profile: str, *, now: float | None = None) -> Manifest:
    """Write a backup of the profile stored in ``folder`` to ``destination`` (a .zip file).

    Safe while Joi runs: the store is read through a connection of its own with SQLite's
    backup API in one step, a snapshot of every transaction committed before it began.
    ``destination`` is written beside itself and moved into place when complete. In an
    encrypted folder, the folder must be unlocked in this process.
    """
    folder, destination = Path(folder), Path(destination)
    store = folder / STORE_FILE
    if not store.is_file():
        raise BackupError(f"there are no memories to back up for {profile!r} (no {store})")
    try:
        key: DataKey | None = encryption.key_for(folder)
    except encryption.EncryptionError as exc:
        raise BackupError(str(exc)) from None
    destination.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".joi-backup-", dir=destination.parent))  # 0700
    try:
        copy = scratch / STORE_FILE
        db_key = None if key is None else key.database
        schema, count, model = _snapshot(store, copy, db_key)
        members: dict[str, Path] = {STORE_FILE: copy}
        settings = folder / SETTINGS
        if settings.is_file():
            shutil.copyfile(settings, scratch / SETTINGS)
            members[SETTINGS] = scratch / SETTINGS
        key_folder = encryption.key_folder(folder)
        if key is not None and key_folder is not None:
            shutil.copyfile(key_folder / KEY_FILE, scratch / KEY_FILE)
            members[KEY_FILE] = scratch / KEY_FILE
        manifest = Manifest(
            profile=profile,
            created_at=time.time() if now is None else now,
            schema_version=schema,
            encrypted=key is not None,
            embedding_model=model,
            memories=count,
            files={name: _sha256(path) for name, path in members.items()},
        )
        partial = scratch / "backup.zip.partial"
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest.to_json(), indent=1, sort_keys=True) + "\n")
            for name, path in members.items():
                zf.write(path, name)
        os.chmod(partial, 0o600)
        _fsync_file(partial)
        os.replace(partial, destination)
        fsync_dir(destination.parent)
    finally:
        _shred_tree(scratch)
    log.info("backup written: %d memories, schema %d", manifest.memories, manifest.schema_version)
    return manifest


def _snapshot(store: Path, copy: Path, key: bytes | None) -> tuple[int, int, str | None]:
    """Copy ``store`` to ``copy`` with the online backup API; returns (schema, memories, model)."""
    errors = db_errors()
    try:
        source = _connect(store, key)
        try:
            source.execute("PRAGMA busy_timeout = 10000")
            target = _connect(copy, key)
            errors = db_errors()  # SQLCipher's, once loaded
            try:
                source.backup(target)  # all pages in one step: one consistent read transaction
                schema = stored_version(target)
                row = target.execute("PRAGMA integrity_check").fetchone()
                if row is None or row[0] != "ok":
                    raise BackupError(
                        f"the copy failed its integrity check ({row}); the store may be damaged"
                    )
                count = int(target.execute("SELECT COUNT(*) FROM memories").fetchone()[0])
                found = target.execute(
                    "SELECT embedding_model FROM memories GROUP BY embedding_model "
                    "ORDER BY COUNT(*) DESC LIMIT 1"
                ).fetchone()
                target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            finally:
                target.close()
        finally:
            source.close()
    except errors as exc:
        raise BackupError(f"the store could not be copied: {exc}") from exc
    return schema, count, None if found is None else str(found[0])


# -- restoring ----------------------------------------------------------------------------------
def read_manifest(path: Path) -> Manifest:
    """The manifest of a backup file, after checking the zip; raises :class:`BackupError`."""
    with _open_zip(Path(path)) as zf:
        return _manifest(zf)


def _open_zip(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BackupError(f"{path.name} is not a Joi backup, or it is truncated or damaged ({exc})") from None


def _manifest(zf: zipfile.ZipFile) -> Manifest:
    try:
        info = zf.getinfo(MANIFEST)
        if info.file_size > MAX_MANIFEST:
            raise BackupError("the backup's manifest is implausibly large")
        data = json.loads(zf.read(MANIFEST).decode("utf-8"))
    except KeyError:
        raise BackupError("this is not a Joi Coach backup (it has no manifest)") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise BackupError(f"the backup is damaged: its manifest cannot be read ({exc})") from None
    manifest = Manifest.from_json(data)
    if STORE_FILE not in manifest.files:
        raise BackupError("the backup's manifest lists no memory store")
    unknown = set(manifest.files) - {STORE_FILE, SETTINGS, KEY_FILE}
    if unknown:
        raise BackupError(f"the backup holds files this Joi does not know: {sorted(unknown)}")
    return manifest


def _extract(zf: zipfile.ZipFile, manifest: Manifest, into: Path) -> dict[str, Path]:
    """Every member the manifest lists, written into ``into`` and checked against its checksum."""
    out: dict[str, Path] = {}
    for name, digest in manifest.files.items():
        target = into / name
        try:
            with zf.open(name) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except KeyError:
            raise BackupError(f"the backup is incomplete: {name} is missing") from None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise BackupError(f"the backup is damaged: {name} cannot be read ({exc})") from None
        if _sha256(target) != digest:
            raise BackupError(f"the backup is damaged: {name} does not match its checksum")
        out[name] = target
    return out


def _target_key(data_dir: Path) -> DataKey | None:
    """The target data folder's key (None when plain); Locked is a clear error."""
    try:
        return encryption.key_for(data_dir)
    except encryption.EncryptionError as exc:
        raise BackupError(f"{exc}; nothing was restored") from None


def _is_fresh(data_dir: Path) -> bool:
    """A data folder with no key file and no profile in it (a new machine, a new volume)."""
    if encryption.key_folder(data_dir) is not None:
        return False
    profiles = data_dir / "profiles"
    return not profiles.is_dir() or not any(
        p.is_dir() and not p.name.startswith(".") for p in profiles.iterdir()
    )


def _key_from_backup(key_file: Path, passphrase: str | None) -> DataKey:
    """Unwrap the backup's own key file with ``passphrase`` (in its scratch folder)."""
    if not passphrase:
        raise BackupError(
            "this backup is encrypted and the data folder is new: give the passphrase the backup "
            "was made with; nothing was restored"
        )
    try:
        key = encryption.unlock(key_file.parent, passphrase, finish=False)
    except encryption.WrongPassphrase:
        raise BackupError("that passphrase does not open this backup; nothing was restored") from None
    except encryption.EncryptionError as exc:
        raise BackupError(f"{exc}; nothing was restored") from None
    finally:
        encryption.lock(key_file.parent)
    return key


def _check_store(path: Path, key: bytes | None, encrypted_target: bool) -> int:
    """Integrity and schema of the extracted store; returns its memories."""
    if encryption.is_plain_sqlite(path) == (key is not None):
        if key is None:
            raise BackupError(
                "this backup is encrypted, but the data folder is not: restore it into the encrypted "
                "folder it came from, or into a new, empty data folder with its passphrase; nothing was restored"
            )
        raise BackupError(
            "this backup is not encrypted, but the data folder is: a plain backup is never written into "
            "an encrypted folder (restore it into a plain folder, then encrypt that); nothing was restored"
        )
    errors = db_errors()
    try:
        db = _connect(path, key)
        errors = db_errors()
        try:
            try:
                db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            except errors as exc:
                if key is not None and encrypted_target:
                    raise BackupError(
                        "this backup was made in another encrypted data folder (its key does not open it): "
                        "restore it into a new, empty data folder with its passphrase; nothing was restored"
                    ) from exc
                raise
            rows = db.execute("PRAGMA integrity_check").fetchall()
            if rows != [("ok",)]:
                raise BackupError(
                    f"the backup's store failed its integrity check ({rows[:3]}); nothing was restored"
                )
            version = stored_version(db)
            if version > SCHEMA_VERSION:
                raise BackupError(
                    f"the backup's store has schema {version}, newer than this Joi ({SCHEMA_VERSION}): "
                    "update Joi first; nothing was restored"
                )
            if version < 1:
                raise BackupError("the backup's store holds no Joi memories; nothing was restored")
            return int(db.execute("SELECT COUNT(*) FROM memories").fetchone()[0])
        finally:
            db.close()
    except errors as exc:
        raise BackupError(f"the backup's store is damaged ({exc}); nothing was restored") from None


def _check_settings(path: Path, key: DataKey | None) -> None:
    blob = path.read_bytes()
    if encryption.is_sealed(blob) != (key is not None):
        raise BackupError("the backup's settings do not match its store's encryption; nothing was restored")
    try:
        data = encryption.unseal(blob, key.files, SETTINGS) if key is not None else blob
        if not isinstance(json.loads(data.decode("utf-8")), dict):
            raise ValueError("not a JSON object")
    except (encryption.EncryptionError, ValueError) as exc:
        raise BackupError(f"the backup's settings are damaged ({exc}); nothing was restored") from None


def profile_in_use(folder: Path, key: bytes | None) -> bool:
    """Whether another connection (a running Joi) has the profile's store open.

    SQLite removes a store's write-ahead log when its last connection closes; a log that is
    still there after a connection of ours opened and closed belongs to someone else's.
    """
    store, wal = folder / STORE_FILE, folder / f"{STORE_FILE}-wal"
    if not wal.exists():
        return False
    errors: tuple[type[BaseException], ...] = (*db_errors(), encryption.EncryptionError)
    try:
        db = _connect(store, key)
        errors = (*db_errors(), encryption.EncryptionError)
        try:
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        finally:
            db.close()
    except errors:
        return False  # a store that does not open is not open elsewhere either
    return wal.exists()


def _swap(new: Path, path: Path) -> None:
    """Put ``new`` (complete, flushed) in place of ``path``; the old contents are overwritten."""
    old = path.with_name(path.name + ".replaced")
    if old.exists():
        shred(old)
    linked = False
    if path.exists():
        try:
            os.link(path, old)
            linked = True
        except OSError:
            linked = False
    os.replace(new, path)
    fsync_dir(path.parent)
    if linked:
        shred(old)


def restore(
    source: Path,
    data_dir: Path,
    profile: str,
    folder: Path,
    *,
    embedder: Embedder | None = None,
    passphrase: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> RestoreReport:
    """Replace the memories of ``profile`` (stored in ``folder`` under ``data_dir``) with a backup.

    Everything is checked first (see the module's doc); a failed check raises
    :class:`BackupError` and changes nothing. Joi must not have the profile open: stop it
    first (a store open elsewhere is refused). ``passphrase`` is needed only to restore an
    encrypted backup into a new, empty data folder; that folder then takes the backup's key
    file and passphrase. With ``embedder`` the vector cache is rebuilt now (else at next open).
    """
    source, data_dir, folder = Path(source), Path(data_dir), Path(folder)
    say = progress or (lambda line: None)
    data_dir.mkdir(parents=True, exist_ok=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".joi-restore-", dir=folder.parent))  # 0700, same filesystem
    try:
        with _open_zip(source) as zf:
            manifest = _manifest(zf)
            files = _extract(zf, manifest, scratch)
        say(f"backup of {manifest.profile!r}: {manifest.memories} memories, schema {manifest.schema_version}")
        if manifest.schema_version > SCHEMA_VERSION:
            raise BackupError(
                f"the backup has schema {manifest.schema_version}, newer than this Joi ({SCHEMA_VERSION}): "
                "update Joi first; nothing was restored"
            )
        if manifest.encrypted != (not encryption.is_plain_sqlite(files[STORE_FILE])):
            raise BackupError(
                "the backup's manifest and its store disagree about encryption; nothing was restored"
            )
        target_key = _target_key(folder)
        install_key = False
        key: DataKey | None = target_key
        if manifest.encrypted and target_key is None:
            if KEY_FILE not in files or not _is_fresh(data_dir):
                _check_store(files[STORE_FILE], None, False)  # the plain-folder refusal
            key = _key_from_backup(files[KEY_FILE], passphrase)
            install_key = True
        count = _check_store(files[STORE_FILE], None if key is None else key.database, target_key is not None)
        if SETTINGS in files:
            _check_settings(files[SETTINGS], key)
        if profile_in_use(folder, None if target_key is None else target_key.database):
            raise BackupError(
                f"Joi has the profile {profile!r} open: stop Joi, then restore; nothing was restored"
            )
        say("the backup is whole; replacing the profile's files")
        _fsync_file(files[STORE_FILE])
        if install_key and passphrase:
            encryption.write_atomically(data_dir / KEY_FILE, files[KEY_FILE].read_bytes())
            encryption.unlock(data_dir, passphrase, finish=False)
        folder.mkdir(parents=True, exist_ok=True)
        for side in ("-wal", "-shm", "-journal"):  # the old store's; never to be replayed into the new
            shred(folder / f"{STORE_FILE}{side}")
        for pattern in CACHE_FILES:
            for cache in folder.glob(pattern):
                shred(cache)
        if SETTINGS in files:
            _fsync_file(files[SETTINGS])
            _swap(files[SETTINGS], folder / SETTINGS)
        else:
            shred(folder / SETTINGS)
        _swap(files[STORE_FILE], folder / STORE_FILE)
    except BackupError as exc:
        if "nothing was restored" in str(exc):
            raise
        raise BackupError(f"{exc}; nothing was restored") from None
    finally:
        _shred_tree(scratch)
    if embedder is not None:
        say("rebuilding the vector cache")
        bank = MemoryBank(folder, embedder, progress=progress is not None)
        try:
            bank.flush()
        finally:
            bank.close()
    return RestoreReport(manifest.profile, count, manifest.encrypted, manifest.created_at, folder)
