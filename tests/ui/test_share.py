"""The share post's button: its custom id survives a restart, and a press becomes an event."""

from __future__ import annotations

from typing import Any, cast

import discord

from bot.spotify.ids import SpotifyKind, SpotifyRef
from bot.ui.share import SHARE_BUTTON, SHARE_PRESSED, ShareButton, share_view

REF = SpotifyRef(SpotifyKind.ALBUM, "4aawyAB9vmqN3uQ7FjRGTy")


class Client:
    def __init__(self) -> None:
        self.events: list[tuple[str, tuple[Any, ...]]] = []

    def dispatch(self, event: str, /, *args: Any) -> None:
        self.events.append((event, args))


class Interaction:
    def __init__(self) -> None:
        self.client = Client()


async def test_the_button_is_rebuilt_from_its_custom_id() -> None:
    button = ShareButton(42, REF)
    match = SHARE_BUTTON.fullmatch(button.custom_id)
    assert match is not None
    rebuilt = await ShareButton.from_custom_id(
        cast(discord.Interaction, Interaction()), button.item, match
    )
    assert (rebuilt.share_id, rebuilt.ref) == (42, REF)
    assert rebuilt.item.label == "Save to my Spotify"


async def test_a_press_is_dispatched_with_the_share_and_the_item() -> None:
    interaction = Interaction()
    await ShareButton(7, SpotifyRef(SpotifyKind.ARTIST, REF.id)).callback(
        cast(discord.Interaction, interaction)
    )
    assert interaction.client.events == [
        (SHARE_PRESSED, (interaction, 7, SpotifyRef(SpotifyKind.ARTIST, REF.id)))
    ]


async def test_the_view_holds_the_button_and_a_link_to_spotify() -> None:
    view = share_view(3, REF)
    assert view.timeout is None
    save, open_link = view.children
    assert isinstance(save, ShareButton)
    assert isinstance(open_link, discord.ui.Button) and open_link.url == REF.url
