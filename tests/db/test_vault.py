import logging
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.db.vault import KEY_FILE_NAME, TokenUndecryptable, TokenVault, load_or_create_keys


def new_key() -> str:
    return Fernet.generate_key().decode()


def test_round_trip_hides_the_plaintext() -> None:
    vault = TokenVault([new_key()])
    ciphertext = vault.encrypt("BQD-access-token")
    assert b"BQD-access-token" not in ciphertext
    assert vault.decrypt(ciphertext) == "BQD-access-token"


def test_rotation_keeps_old_tokens_readable_and_encrypts_with_the_new_key() -> None:
    old, new = new_key(), new_key()
    stored = TokenVault([old]).encrypt("refresh-1")
    rotated = TokenVault([new, old])
    assert rotated.decrypt(stored) == "refresh-1"
    fresh = rotated.encrypt("refresh-2")
    assert TokenVault([new]).decrypt(fresh) == "refresh-2"
    with pytest.raises(TokenUndecryptable):
        TokenVault([old]).decrypt(fresh)


@pytest.mark.parametrize("ciphertext", [b"not a fernet token", b""])
def test_garbage_is_undecryptable(ciphertext: bytes) -> None:
    with pytest.raises(TokenUndecryptable):
        TokenVault([new_key()]).decrypt(ciphertext)


def test_token_from_a_lost_key_is_undecryptable() -> None:
    stored = TokenVault([new_key()]).encrypt("secret")
    with pytest.raises(TokenUndecryptable):
        TokenVault([new_key()]).decrypt(stored)


def test_a_vault_needs_a_key() -> None:
    with pytest.raises(ValueError, match="at least one"):
        TokenVault([])


def test_configured_keys_win_and_no_file_is_written(tmp_path: Path) -> None:
    keys = [new_key(), new_key()]
    assert load_or_create_keys(keys, tmp_path / "data") == keys
    assert not (tmp_path / "data").exists()


def test_generated_key_is_private_reused_and_never_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "deep" / "data"
    with caplog.at_level(logging.DEBUG):
        first = load_or_create_keys([], data_dir)
        second = load_or_create_keys([], data_dir)

    key_file = data_dir / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first == second
    assert len(first) == 1
    assert TokenVault(first).decrypt(TokenVault(second).encrypt("x")) == "x"
    assert len(caplog.records) == 1
    assert str(key_file) in caplog.text
    assert first[0] not in caplog.text


def test_key_file_may_hold_several_keys_for_rotation(tmp_path: Path) -> None:
    keys = [new_key(), new_key(), new_key()]
    (tmp_path / KEY_FILE_NAME).write_text(f"{keys[0]}\n{keys[1]}, {keys[2]}\n")
    assert load_or_create_keys([], tmp_path) == keys


@pytest.mark.parametrize("content", ["", "not-a-key\n"])
def test_unusable_key_file_is_refused_not_replaced(tmp_path: Path, content: str) -> None:
    key_file = tmp_path / KEY_FILE_NAME
    key_file.write_text(content)
    with pytest.raises(ValueError, match=KEY_FILE_NAME):
        load_or_create_keys([], tmp_path)
    assert key_file.read_text() == content


def test_a_key_file_others_can_read_is_warned_about_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = new_key()
    key_file = tmp_path / KEY_FILE_NAME
    key_file.write_text(f"{key}\n")
    key_file.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="bot.db.vault"):
        assert load_or_create_keys([], tmp_path) == [key]
        assert load_or_create_keys([], tmp_path) == [key]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "chmod 600" in warnings[0].getMessage() and str(key_file) in warnings[0].getMessage()
    assert key not in caplog.text


def test_a_private_key_file_loads_quietly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key_file = tmp_path / KEY_FILE_NAME
    key_file.write_text(f"{new_key()}\n")
    key_file.chmod(0o600)
    with caplog.at_level(logging.WARNING, logger="bot.db.vault"):
        load_or_create_keys([], tmp_path)
    assert caplog.records == []


def test_a_generated_key_goes_in_an_owner_only_data_folder(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    load_or_create_keys([], data_dir)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
