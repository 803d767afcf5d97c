"""Display-neutral summaries of Spotify items, built from API models or the stored catalog."""

from __future__ import annotations

from dataclasses import dataclass

from bot.spotify.ids import SpotifyKind, SpotifyRef


@dataclass(frozen=True)
class ItemSummary:
    """Just what a list line or a confirmation needs: name, byline, art and link."""

    kind: SpotifyKind
    id: str
    name: str
    subtitle: str | None = None
    image_url: str | None = None
    detail: str | None = None

    @property
    def ref(self) -> SpotifyRef:
        return SpotifyRef(self.kind, self.id)

    @property
    def uri(self) -> str:
        return self.ref.uri

    @property
    def url(self) -> str:
        return self.ref.url


def artists_line(names: list[str]) -> str | None:
    return ", ".join(names) if names else None
