"""Spotify references typed by members: open.spotify.com links, spotify: URIs and bare IDs."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import SplitResult, urlsplit


class SpotifyKind(StrEnum):
    TRACK = "track"
    ALBUM = "album"
    ARTIST = "artist"
    PLAYLIST = "playlist"
    USER = "user"
    SHOW = "show"
    EPISODE = "episode"
    AUDIOBOOK = "audiobook"


SAVE_KINDS: Final = (
    SpotifyKind.TRACK,
    SpotifyKind.ALBUM,
    SpotifyKind.SHOW,
    SpotifyKind.EPISODE,
    SpotifyKind.AUDIOBOOK,
)
"""What a member saves to their library."""
FOLLOW_KINDS: Final = (SpotifyKind.ARTIST, SpotifyKind.USER, SpotifyKind.PLAYLIST)
"""What a member follows instead."""

BASE62_ID = re.compile(r"[0-9A-Za-z]{22}")
USER_ID = re.compile(r"[0-9A-Za-z._\-]{1,128}")
_SPOTIFY_DOMAINS = ("spotify.com", "spotify.link")
_LINK_HOSTS = frozenset({"open.spotify.com", "play.spotify.com"})
_LOCALE_SEGMENT = re.compile(r"intl-[a-z]{2}(?:[-_][a-z]{2})?", re.IGNORECASE)
_URL_SCHEME = re.compile(r"https?://", re.IGNORECASE)


class InvalidSpotifyRef(ValueError):
    """The text is not a Spotify reference of an accepted kind; the message says what was."""


@dataclass(frozen=True)
class SpotifyRef:
    kind: SpotifyKind
    id: str

    @property
    def uri(self) -> str:
        return f"spotify:{self.kind}:{self.id}"

    @property
    def url(self) -> str:
        return f"https://open.spotify.com/{self.kind}/{self.id}"


def is_valid_id(kind: SpotifyKind, value: str) -> bool:
    pattern = USER_ID if kind is SpotifyKind.USER else BASE62_ID
    return pattern.fullmatch(value) is not None


def _join_kinds(kinds: Collection[SpotifyKind]) -> str:
    names = [kind.value for kind in SpotifyKind if kind in kinds]
    if len(names) <= 1:
        return "".join(names) or "item"
    return f"{', '.join(names[:-1])} or {names[-1]}"


def _expected(allowed: Collection[SpotifyKind], bare_id_kind: SpotifyKind | None) -> str:
    forms = "a link, a spotify: URI or an ID" if bare_id_kind else "a link or a spotify: URI"
    return f"Expected a Spotify {_join_kinds(allowed)}: {forms}."


def _from_parts(parts: list[str]) -> tuple[str, str] | None:
    """(kind, id) from path or URI segments, including the legacy user/{u}/playlist/{p} form."""
    if len(parts) == 4 and parts[0].lower() == "user" and parts[2].lower() == "playlist":
        parts = parts[2:]
    if len(parts) != 2:
        return None
    return parts[0].lower(), parts[1]


def _urlsplit(text: str) -> SplitResult | None:
    try:
        return urlsplit(text if _URL_SCHEME.match(text) else "https://" + text)
    except ValueError:
        return None


def _split_link(text: str) -> tuple[str, str] | None:
    parts = _urlsplit(text)
    if parts is None or parts.hostname not in _LINK_HOSTS:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if segments and _LOCALE_SEGMENT.fullmatch(segments[0]):
        segments = segments[1:]
    if segments and segments[0].lower() == "embed":
        segments = segments[1:]
    return _from_parts(segments)


def _split(text: str, bare_id_kind: SpotifyKind | None) -> tuple[str, str] | None:
    if text.lower().startswith("spotify:"):
        return _from_parts(text.split(":")[1:])
    if "/" in text or "." in text:
        return _split_link(text)
    if bare_id_kind is not None and BASE62_ID.fullmatch(text):
        return bare_id_kind.value, text
    return None


def _clean(text: str) -> str:
    """Strip whitespace and the <...> Discord users put around links to hide embeds."""
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    return text


def parse_spotify_ref(
    text: str,
    allowed: Collection[SpotifyKind],
    bare_id_kind: SpotifyKind | None = None,
) -> SpotifyRef:
    """Parse a link, URI or bare ID; raise InvalidSpotifyRef naming what was expected."""
    split = _split(_clean(text), bare_id_kind)
    if split is None:
        raise InvalidSpotifyRef(_expected(allowed, bare_id_kind))
    kind_name, item_id = split
    try:
        kind = SpotifyKind(kind_name)
    except ValueError:
        raise InvalidSpotifyRef(_expected(allowed, bare_id_kind)) from None
    if not is_valid_id(kind, item_id):
        raise InvalidSpotifyRef(_expected(allowed, bare_id_kind))
    if kind not in allowed:
        raise InvalidSpotifyRef(
            f"That is a Spotify {kind}; expected a Spotify {_join_kinds(allowed)}."
        )
    return SpotifyRef(kind, item_id)


def looks_like_spotify_ref(text: str) -> bool:
    """True for anything that should be parsed as a reference rather than searched for."""
    text = _clean(text)
    if text.lower().startswith("spotify:") or BASE62_ID.fullmatch(text):
        return True
    if " " in text or ("/" not in text and "." not in text):
        return False
    parts = _urlsplit(text)
    host = (parts.hostname if parts else None) or ""
    return host in ("spotify.com", "spotify.link") or host.endswith(
        (".spotify.com", ".spotify.link")
    )
