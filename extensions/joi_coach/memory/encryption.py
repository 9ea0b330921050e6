"""Encryption at rest (optional, off by default): one data key per data folder, wrapped by a passphrase.

A data folder with a passphrase holds :data:`KEY_FILE`: a random 32-byte data key, wrapped
with AES-256-GCM under a key derived from the passphrase with scrypt (the salt and the cost
are in the file). Changing the passphrase rewraps the data key; nothing else is rewritten.
From the data key, HKDF-SHA256 derives a key for the SQLCipher databases (AES-256, HMAC-SHA512
per page; the raw key, no second KDF) and one for the other files (AES-256-GCM with a random
nonce per write, the file's name as associated data).

Nothing here is our own cipher: SQLCipher (``sqlcipher3-binary``), ``cryptography`` and the
standard library's scrypt. They are needed only when a folder is encrypted
(``pip install 'joi-coach[encryption]'``); without a passphrase everything is plain SQLite
and plain files, as before.

The keys of unlocked folders live in this process only (:func:`unlock`); a bank, a settings
file or the vector cache inside an encrypted folder finds its key with :func:`key_for`, which
raises :class:`Locked` rather than ever writing plain data into an encrypted folder.

If the passphrase is lost, nothing in the folder can be recovered: there is no reset and no
back door.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .files import fsync_dir, shred

log = logging.getLogger(__name__)

KEY_FILE = "joi-coach-key.json"
KEY_FORMAT = "joi-coach-key"
KEY_VERSION = 1
SEALED_MAGIC = b"JOI-SEALED-1\n"  # the first bytes of a file encrypted here
SQLITE_MAGIC = b"SQLite format 3\x00"
# scrypt: 2**17 x 8 x 128 bytes = 128 MiB and about half a second per unlock on one core.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
MIN_PASSPHRASE = 8
LOST_PASSPHRASE_WARNING = (
    "If you lose this passphrase, nothing in this data folder can be recovered: not your memories, "
    "not your safety plan, not your settings. There is no reset and no back door, for you or for anyone. "
    "Keep it somewhere safe (a password manager)."
)
INSTALL_HINT = "encryption needs the 'encryption' extra: pip install 'joi-coach[encryption]'"


class EncryptionError(RuntimeError):
    """Encryption cannot go on; the text says why and what to do."""


class WrongPassphrase(EncryptionError):
    """The passphrase does not open this data folder."""


class Locked(EncryptionError):
    """The data folder is encrypted and has not been unlocked in this process."""


class Unavailable(EncryptionError):
    """The encryption packages are not installed."""


class DamagedFile(EncryptionError, ValueError):
    """An encrypted file that does not decrypt (damaged, or from another folder)."""


def _aesgcm(key: bytes) -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError as exc:
        raise Unavailable(INSTALL_HINT) from exc
    return AESGCM(key)


def _hkdf(key: bytes, purpose: bytes) -> bytes:
    try:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    except ImportError as exc:
        raise Unavailable(INSTALL_HINT) from exc
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"joi-coach " + purpose).derive(key)


def sqlcipher() -> Any:
    """The SQLCipher DB-API module (``sqlcipher3``), or :class:`Unavailable`."""
    try:
        from sqlcipher3 import dbapi2
    except ImportError as exc:
        raise Unavailable(INSTALL_HINT) from exc
    return dbapi2


@dataclass(frozen=True)
class DataKey:
    """An unlocked data folder's key and the keys derived from it (never written in the clear)."""

    raw: bytes = field(repr=False)

    @property
    def database(self) -> bytes:
        return _hkdf(self.raw, b"sqlcipher v1")

    @property
    def files(self) -> bytes:
        return _hkdf(self.raw, b"files v1")


# -- sealed files ------------------------------------------------------------------------------
def seal(data: bytes, key: bytes, name: str) -> bytes:
    """``data`` encrypted and authenticated with AES-256-GCM (``name`` bound as associated data)."""
    nonce = secrets.token_bytes(12)
    return SEALED_MAGIC + nonce + _aesgcm(key).encrypt(nonce, data, name.encode("utf-8"))


def is_sealed(blob: bytes) -> bool:
    return blob.startswith(SEALED_MAGIC)


def unseal(blob: bytes, key: bytes, name: str) -> bytes:
    if not is_sealed(blob):
        raise DamagedFile(f"{name} is not an encrypted Joi file")
    body = blob[len(SEALED_MAGIC) :]
    try:
        from cryptography.exceptions import InvalidTag
    except ImportError as exc:
        raise Unavailable(INSTALL_HINT) from exc
    try:
        return bytes(_aesgcm(key).decrypt(body[:12], body[12:], name.encode("utf-8")))
    except (InvalidTag, ValueError) as exc:
        raise DamagedFile(f"{name} does not decrypt: it is damaged or from another data folder") from exc


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file, flush it to the disk, then put it in place of ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.partial-{os.getpid()}-{threading.get_ident()}")
    with open(partial, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)
    fsync_dir(path.parent)


def read_private(path: Path) -> bytes:
    """A per-person file's bytes, decrypted when it was written encrypted.

    A plain file is returned as it is (a folder being encrypted may still hold one; it is
    sealed at its next write or when encryption finishes). Raises FileNotFoundError,
    :class:`Locked` or :class:`DamagedFile`.
    """
    path = Path(path)
    blob = path.read_bytes()
    if not is_sealed(blob):
        return blob
    key = key_for(path.parent)
    if key is None:
        raise DamagedFile(f"{path.name} is encrypted, but its folder has no key file")
    return unseal(blob, key.files, path.name)


def write_private(path: Path, data: bytes) -> None:
    """Write a per-person file atomically: sealed when its data folder is encrypted."""
    path = Path(path)
    key = key_for(path.parent)
    write_atomically(path, data if key is None else seal(data, key.files, path.name))


# -- the key file and the keys of unlocked folders ----------------------------------------------
_unlocked: dict[Path, DataKey] = {}
_keyring_lock = threading.Lock()


def key_folder(path: Path) -> Path | None:
    """The encrypted data folder holding ``path`` (``path`` itself or a parent), if any."""
    here = Path(path).expanduser().resolve()
    for folder in (here, *here.parents):
        if (folder / KEY_FILE).is_file():
            return folder
    return None


def is_encrypted(data_dir: Path) -> bool:
    return (Path(data_dir) / KEY_FILE).is_file()


def key_for(path: Path) -> DataKey | None:
    """The data key of the encrypted folder holding ``path``; None in a plain folder.

    Raises :class:`Locked` when the folder is encrypted but was not unlocked in this process.
    """
    folder = key_folder(path)
    if folder is None:
        return None
    with _keyring_lock:
        key = _unlocked.get(folder)
    if key is None:
        raise Locked(f"the data folder {folder} is encrypted: unlock it with its passphrase first")
    return key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


def _kek(passphrase: str, kdf: dict[str, Any]) -> bytes:
    if kdf.get("name") != "scrypt":
        raise EncryptionError(f"the key file names an unknown key derivation: {kdf.get('name')!r}")
    n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
    return hashlib.scrypt(
        passphrase.encode("utf-8"),
        salt=_unb64(kdf["salt"]),
        n=n,
        r=r,
        p=p,
        maxmem=256 * r * (n + p + 2),
        dklen=32,
    )


def _aad(kdf: dict[str, Any]) -> bytes:
    return json.dumps({"format": KEY_FORMAT, "version": KEY_VERSION, "kdf": kdf}, sort_keys=True).encode()


def _wrap(raw: bytes, passphrase: str, cost: int) -> dict[str, Any]:
    kdf = {"name": "scrypt", "n": cost, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(secrets.token_bytes(16))}
    nonce = secrets.token_bytes(12)
    wrapped = _aesgcm(_kek(passphrase, kdf)).encrypt(nonce, raw, _aad(kdf))
    return {
        "format": KEY_FORMAT,
        "version": KEY_VERSION,
        "note": "Joi Coach's data key, wrapped with the passphrase. Without the passphrase nothing "
        "in this folder can be read; deleting this file loses everything.",
        "kdf": kdf,
        "cipher": "AES-256-GCM",
        "nonce": _b64(nonce),
        "wrapped_key": _b64(wrapped),
    }


def _read_key_file(data_dir: Path) -> dict[str, Any]:
    path = Path(data_dir) / KEY_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != KEY_FORMAT:
            raise ValueError("not a Joi Coach key file")
        if data.get("version") != KEY_VERSION:
            raise ValueError(f"key file version {data.get('version')!r}; this Joi reads {KEY_VERSION}")
        return data
    except (OSError, ValueError) as exc:
        raise EncryptionError(f"the key file {path} cannot be used ({exc})") from exc


def _unwrap(data: dict[str, Any], passphrase: str) -> bytes:
    try:
        from cryptography.exceptions import InvalidTag
    except ImportError as exc:
        raise Unavailable(INSTALL_HINT) from exc
    try:
        kdf = dict(data["kdf"])
        nonce, wrapped = _unb64(data["nonce"]), _unb64(data["wrapped_key"])
        kek = _kek(passphrase, kdf)
    except (KeyError, TypeError, ValueError) as exc:
        raise EncryptionError(f"the key file is damaged ({type(exc).__name__})") from exc
    try:
        raw = bytes(_aesgcm(kek).decrypt(nonce, wrapped, _aad(kdf)))
    except InvalidTag:
        raise WrongPassphrase("that passphrase does not open this data folder") from None
    if len(raw) != 32:
        raise EncryptionError("the key file is damaged (the key has the wrong length)")
    return raw


def _register(data_dir: Path, raw: bytes) -> DataKey:
    key = DataKey(raw)
    with _keyring_lock:
        _unlocked[Path(data_dir).expanduser().resolve()] = key
    return key


def lock(data_dir: Path) -> None:
    """Forget an unlocked folder's key in this process."""
    with _keyring_lock:
        _unlocked.pop(Path(data_dir).expanduser().resolve(), None)


def check_passphrase(passphrase: str) -> None:
    if not isinstance(passphrase, str) or len(passphrase) < MIN_PASSPHRASE:
        raise EncryptionError(f"a passphrase needs at least {MIN_PASSPHRASE} characters")


def _replace_key_file(data_dir: Path, data: dict[str, Any]) -> None:
    """The key file, written atomically; the previous one is overwritten, not left in free blocks."""
    path = Path(data_dir) / KEY_FILE
    text = (json.dumps(data, indent=1) + "\n").encode("utf-8")
    if path.exists():
        old = path.with_name(path.name + ".old")
        _drop_leftover(old, path)
        os.link(path, old)
        write_atomically(path, text)
        shred(old)
    else:
        write_atomically(path, text)


def unlock(data_dir: Path, passphrase: str, *, finish: bool = True) -> DataKey:
    """Open an encrypted data folder for this process; raises :class:`WrongPassphrase`.

    With ``finish`` it also completes an encryption that was interrupted (a crash while the
    passphrase was being set), so every store is encrypted before Joi opens any of them.
    """
    sqlcipher()  # a clear message now, not a failure at the first store
    raw = _unwrap(_read_key_file(data_dir), passphrase)
    key = _register(data_dir, raw)
    if finish:
        encrypt_folder(data_dir, key)
    return key


def set_passphrase(
    data_dir: Path,
    passphrase: str,
    *,
    cost: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> DataKey:
    """Encrypt a plain data folder in place: a new data key, wrapped by ``passphrase``, then
    every store and per-person file encrypted (each crash-safe; an interrupted run is finished
    by the next :func:`unlock`). Stop Joi before running it."""
    data_dir = Path(data_dir)
    check_passphrase(passphrase)
    sqlcipher()
    if is_encrypted(data_dir):
        raise EncryptionError(f"{data_dir} is already encrypted; change its passphrase instead")
    data_dir.mkdir(parents=True, exist_ok=True)
    raw = secrets.token_bytes(32)
    _replace_key_file(data_dir, _wrap(raw, passphrase, cost or SCRYPT_N))
    key = _register(data_dir, raw)
    encrypt_folder(data_dir, key, progress=progress)
    return key


def change_passphrase(data_dir: Path, old: str, new: str, *, cost: int | None = None) -> None:
    """Rewrap the data key with a new passphrase (the data is not rewritten)."""
    check_passphrase(new)
    raw = _unwrap(_read_key_file(data_dir), old)
    _replace_key_file(data_dir, _wrap(raw, new, cost or SCRYPT_N))
    _register(data_dir, raw)


# -- encrypting what is on disk ------------------------------------------------------------------
PLAIN_CACHE = ("vectors.json", "vectors-*.faiss")  # rebuilt (sealed) from the store when missing
SEALED_FILES = ("settings.json",)  # per-person files sealed in place


def is_plain_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except FileNotFoundError:
        return False


def _drop_leftover(old: Path, path: Path) -> None:
    """Remove a left-over link of an interrupted swap: shredded only when it is not ``path``."""
    if not old.exists():
        return
    if _same_file(old, path):
        old.unlink(missing_ok=True)
    else:
        shred(old)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _swap_in(path: Path, new: Path) -> None:
    """Put ``new`` (complete, on disk) in place of ``path``, then shred the old contents.

    The old file is first linked to ``<name>.plain``, so after the swap its bytes can be
    overwritten; a crash at any point leaves ``path`` whole (old or new) and a
    ``.plain`` left-over that :func:`_tidy` removes.
    """
    old = path.with_name(path.name + ".plain")
    try:
        os.link(path, old)
    except OSError:  # no hard links here: the old inode goes unshredded
        old = None  # type: ignore[assignment]
    os.replace(new, path)
    fsync_dir(path.parent)
    if old is not None:
        shred(old)


def _tidy(path: Path, encrypted: Callable[[Path], bool]) -> None:
    """Left-overs of an interrupted :func:`_swap_in` next to ``path``."""
    for partial in path.parent.glob(f"{path.name}.encrypting"):
        partial.unlink(missing_ok=True)  # encrypted, incomplete: made again
    old = path.with_name(path.name + ".plain")
    if old.exists():
        if path.exists() and not _same_file(old, path) and encrypted(path):
            shred(old)  # the swap happened: the plain copy goes
        else:
            old.unlink(missing_ok=True)  # the same file as path (the swap did not happen)


def encrypt_database(path: Path, db_key: bytes) -> bool:
    """Encrypt one plain SQLite store in place with ``db_key`` (:attr:`DataKey.database`);
    a no-op if it is already encrypted. True if it did.

    ``sqlcipher_export`` copies it into a new encrypted file beside it, which is flushed to
    the disk and swapped in atomically; the plain file is then overwritten. A crash leaves
    the store either plain or encrypted, never half of each.
    """
    path = Path(path)
    _tidy(path, lambda p: not is_plain_sqlite(p))
    if not is_plain_sqlite(path):
        return False
    dbapi = sqlcipher()
    partial = path.with_name(path.name + ".encrypting")
    db = dbapi.connect(str(path), isolation_level=None)
    try:
        from .migrations import register_functions

        register_functions(db)  # the schema's triggers call them while the rows are copied
        db.execute("PRAGMA cipher_log_level = NONE")
        busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if busy:
            raise EncryptionError(f"{path} is in use: stop Joi before encrypting its data folder")
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        db.execute("ATTACH DATABASE ? AS encrypted KEY ?", (str(partial), f"x'{db_key.hex()}'"))
        db.execute("SELECT sqlcipher_export('encrypted')")
        db.execute(f"PRAGMA encrypted.user_version = {version}")
        db.execute("DETACH DATABASE encrypted")
    finally:
        db.close()
    with open(partial, "rb+") as f:
        os.fsync(f.fileno())
    for side in ("-wal", "-shm"):  # the plain store's, empty after the checkpoint
        shred(path.with_name(path.name + side))
    _swap_in(path, partial)
    return True


def seal_file(path: Path, key: DataKey) -> bool:
    """Seal one plain per-person file in place (crash-safe). True if it did."""
    path = Path(path)
    _tidy(path, lambda p: is_sealed(p.read_bytes()))
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        return False
    if is_sealed(blob):
        return False
    partial = path.with_name(path.name + ".encrypting")
    with open(partial, "wb") as out:
        out.write(seal(blob, key.files, path.name))
        out.flush()
        os.fsync(out.fileno())
    _swap_in(path, partial)
    return True


# Files at the top of a data folder that name people (the webui's list of profiles).
FOLDER_FILES = ("webui-profiles.json",)


def encrypt_folder(
    data_dir: Path, key: DataKey, *, progress: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Encrypt every profile's store and per-person files that are still plain; returns counts.

    Idempotent: run again after a crash, it finishes what is left.
    """
    from .bank import STORE_FILE  # late: bank imports this module

    done = {"stores": 0, "files": 0, "caches": 0}
    profiles = Path(data_dir) / "profiles"
    folders = sorted(p for p in profiles.iterdir() if p.is_dir()) if profiles.is_dir() else []
    for folder in folders:
        if encrypt_database(folder / STORE_FILE, key.database):
            done["stores"] += 1
            if progress:
                progress(f"encrypted {folder.name}/{STORE_FILE}")
        for name in SEALED_FILES:
            done["files"] += seal_file(folder / name, key)
        for pattern in PLAIN_CACHE:
            for cache in folder.glob(pattern):
                if not is_sealed(cache.read_bytes()[: len(SEALED_MAGIC)]):
                    shred(cache)
                    done["caches"] += 1
    for name in FOLDER_FILES:  # files of the whole folder that name people
        done["files"] += seal_file(Path(data_dir) / name, key)
    return done
