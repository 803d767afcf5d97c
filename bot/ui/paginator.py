"""The one paginator every list uses: first / previous / page / next / last buttons."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Protocol

import discord

from bot.process.logs import bind_context
from bot.ui.embeds import fit_embed
from bot.ui.failures import describe_failure
from bot.ui.replies import GENERIC, send_private
from bot.ui.text import NO_MENTIONS

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 180.0


class PageSource(Protocol):
    """Pages built on demand; `page` may call Spotify, so it is awaited only when shown."""

    @property
    def page_count(self) -> int: ...

    async def page(self, index: int) -> discord.Embed: ...


class Paginator(discord.ui.View):
    """Pages through a `PageSource`; only the member who ran the command can turn pages.

    Pages are built once and cached. A page not yet built is fetched after deferring, so a
    slow Spotify call cannot expire the button press. Failures are answered privately with a
    short text and logged.

    A paginator lives until its timeout, so it keeps only what it needs: the owner's id and
    mention (not the Member), and a way to edit its message (not the sent message, which
    holds a second parsed copy of the page and its components).
    """

    def __init__(self, source: PageSource, *, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        self.source = source
        self.index = 0
        self._owner_id: int | None = None
        self._owner_mention = "the member who ran it"
        self._pages: dict[int, discord.Embed] = {}
        self._turning = asyncio.Lock()
        self._edit: Callable[..., Awaitable[Any]] | None = None

    async def start(self, interaction: discord.Interaction, *, ephemeral: bool) -> None:
        """Send the first page as the response to `interaction`, or as a followup when it
        was already deferred. A single page goes out without buttons.

        Errors building the first page propagate to the caller.
        """
        self._owner_id = interaction.user.id
        self._owner_mention = interaction.user.mention
        embed = await self._page(0)
        paged = self.source.page_count > 1
        if paged:
            self._sync_buttons()
        else:
            self.stop()
        view: discord.ui.View = self if paged else discord.utils.MISSING
        if interaction.response.is_done():
            message = await interaction.followup.send(
                embed=embed, view=view, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS, wait=True
            )
            self._edit = partial(interaction.followup.edit_message, message.id)
        else:
            await interaction.response.send_message(
                embed=embed, view=view, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS
            )
            self._edit = interaction.edit_original_response

    async def _page(self, index: int) -> discord.Embed:
        if index not in self._pages:
            self._pages[index] = fit_embed(await self.source.page(index))
        return self._pages[index]

    def _clamp(self, index: int) -> int:
        return max(0, min(index, self.source.page_count - 1))

    def _sync_buttons(self) -> None:
        last = self.source.page_count - 1
        self.first_page.disabled = self.previous_page.disabled = self.index <= 0
        self.next_page.disabled = self.last_page.disabled = self.index >= last
        self.position.label = f"{self.index + 1}/{last + 1}"

    async def _turn(self, interaction: discord.Interaction, target: Callable[[int], int]) -> None:
        """Show page `target(current)`, answering at once when it is cached and nothing is
        being fetched, otherwise deferring first. Turns are applied in the order pressed."""
        quick = not self._turning.locked() and self._clamp(target(self.index)) in self._pages
        if not quick:
            await interaction.response.defer()
        async with self._turning:
            index = self._clamp(target(self.index))
            embed = await self._page(index)
            self.index = index
            self._sync_buttons()
            if quick:
                await interaction.response.edit_message(embed=embed, view=self)
            else:
                await interaction.edit_original_response(embed=embed, view=self)
        self._edit = interaction.edit_original_response

    @discord.ui.button(emoji="⏮️", style=discord.ButtonStyle.secondary)
    async def first_page(
        self, interaction: discord.Interaction, button: discord.ui.Button[Paginator]
    ) -> None:
        await self._turn(interaction, lambda _: 0)

    @discord.ui.button(emoji="◀️", style=discord.ButtonStyle.secondary)
    async def previous_page(
        self, interaction: discord.Interaction, button: discord.ui.Button[Paginator]
    ) -> None:
        await self._turn(interaction, lambda index: index - 1)

    @discord.ui.button(label="1/1", style=discord.ButtonStyle.secondary, disabled=True)
    async def position(
        self, interaction: discord.Interaction, button: discord.ui.Button[Paginator]
    ) -> None:
        """Only shows where we are; it stays disabled."""

    @discord.ui.button(emoji="▶️", style=discord.ButtonStyle.secondary)
    async def next_page(
        self, interaction: discord.Interaction, button: discord.ui.Button[Paginator]
    ) -> None:
        await self._turn(interaction, lambda index: index + 1)

    @discord.ui.button(emoji="⏭️", style=discord.ButtonStyle.secondary)
    async def last_page(
        self, interaction: discord.Interaction, button: discord.ui.Button[Paginator]
    ) -> None:
        await self._turn(interaction, lambda _: self.source.page_count - 1)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        bind_context(interaction.guild_id, interaction.user.id, "page turn")
        if self._owner_id is not None and interaction.user.id == self._owner_id:
            return True
        await send_private(interaction, f"Only {self._owner_mention} can turn these pages.")
        return False

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        if self._edit is None:
            return
        try:
            await self._edit(view=self)
        except discord.HTTPException:
            log.debug("could not disable the buttons of a timed-out paginator", exc_info=True)

    async def on_error(
        self,
        interaction: discord.Interaction,
        error: Exception,
        item: discord.ui.Item[Any],
        /,
    ) -> None:
        text = describe_failure(error)
        context = (
            f"paginator page={self.index + 1}/{self.source.page_count} "
            f"source={type(self.source).__name__} guild={interaction.guild_id} "
            f"member={interaction.user.id}"
        )
        if text is None:
            log.error("%s failed", context, exc_info=error)
            text = GENERIC
        else:
            log.warning("%s: %s", context, type(error).__name__)
        try:
            await send_private(interaction, text)
        except discord.HTTPException:
            log.warning("%s: could not tell the member about an error", context, exc_info=True)
