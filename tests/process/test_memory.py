"""The malloc arena cap set at the start of `python -m bot`."""

from __future__ import annotations

import platform
from typing import Any

import pytest

import bot.__main__ as entry
from bot.process import memory


@pytest.fixture(autouse=True)
def no_operator_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(memory.ENV_OVERRIDE, raising=False)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_caps_the_arenas_on_glibc() -> None:
    assert memory.limit_malloc_arenas() is True


def test_an_operators_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(memory.ENV_OVERRIDE, "4")
    assert memory.limit_malloc_arenas() is False


class OtherLibc:
    """A C library without glibc's functions."""


def no_libc(_: Any) -> Any:
    raise OSError("no C library to load")


@pytest.mark.parametrize("loader", [lambda _: OtherLibc(), no_libc])
def test_other_c_libraries_are_left_alone(monkeypatch: pytest.MonkeyPatch, loader: Any) -> None:
    monkeypatch.setattr(memory.ctypes, "CDLL", loader)
    assert memory.limit_malloc_arenas() is False


def test_python_m_bot_sets_it_first(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[str] = []

    def limit() -> bool:
        calls.append("arenas")
        return True

    monkeypatch.setattr(entry, "limit_malloc_arenas", limit)
    assert entry.main(["genkey"]) == 0
    assert calls == ["arenas"]
    assert capsys.readouterr().out.strip()
