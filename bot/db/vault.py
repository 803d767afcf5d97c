"""Encryption of Spotify tokens at rest, with key rotation."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.db.files import OWNER_ONLY_FILE, make_private_dir, readable_by_others

log = logging.getLogger(__name__)

KEY_FILE_NAME = "encryption.key"
_FINGERPRINT_CONTEXT = b"encore token key fingerprint\0"
_warned_loose: set[Path] = set()


def key_fingerprint(key: str) -> str:
    """A short name for `key` that tells nothing about it (a hash of the 256-bit key), safe
    to store and to log."""
    return hashlib.sha256(_FINGERPRINT_CONTEXT + key.strip().encode()).hexdigest()[:16]


class TokenUndecryptable(Exception):
    """The ciphertext was not made by any configured key (lost, or rotated away) or is damaged."""


class TokenVault:
    """Fernet with several keys: the first encrypts, every one of them decrypts.

    To rotate, put a new key first and keep the old ones after it until every stored token
    has been written again.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(ciphertext).decode()
        except InvalidToken:
            raise TokenUndecryptable(
                "no configured encryption key can decrypt this token"
            ) from None


def _warn_if_loose(path: Path) -> None:
    """Once per file and process: the key decrypts every stored Spotify token."""
    if path in _warned_loose or not readable_by_others(path):
        return
    _warned_loose.add(path)
    log.warning(
        "%s can be read by other users of this machine; it decrypts every stored Spotify "
        "token: run `chmod 600 %s`",
        path,
        path,
    )


def _read_key_file(path: Path) -> list[str]:
    _warn_if_loose(path)
    keys = [key.strip() for key in path.read_text().replace(",", "\n").split() if key.strip()]
    for key in keys:
        try:
            Fernet(key.encode())
        except ValueError:
            raise ValueError(f"{path} does not hold valid Fernet keys") from None
    if not keys:
        raise ValueError(f"{path} is empty: restore it from a backup or delete it")
    return keys


def load_or_create_keys(configured: list[str], data_dir: Path) -> list[str]:
    """The configured keys; else those in `data_dir/encryption.key`; else a new key saved there.

    The generated file is readable by its owner only. Losing it makes every stored token
    undecryptable (members then have to /link again).
    """
    if configured:
        return list(configured)
    path = data_dir / KEY_FILE_NAME
    if path.exists():
        return _read_key_file(path)
    make_private_dir(data_dir)
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE)
    except FileExistsError:
        return _read_key_file(path)
    with os.fdopen(fd, "wb") as file:
        os.fchmod(file.fileno(), OWNER_ONLY_FILE)
        file.write(key + b"\n")
    log.warning(
        "No TOKEN_ENCRYPTION_KEY set: generated one in %s; back this file up with the database",
        path,
    )
    return [key.decode()]
