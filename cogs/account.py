"""/link, /unlink, /profile and /privacy."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import Encore
from bot.domain import MemberNotLinked, NotLinked
from bot.ui.account import (
    link_prompt,
    link_view,
    privacy_text,
    profile_embed,
    unlinked_text,
)
from bot.ui.listening import DeletePlaysView, delete_offer_text, record_text
from bot.ui.replies import send_private


class Account(commands.Cog):
    def __init__(self, bot: Encore) -> None:
        self.bot = bot

    @app_commands.command(name="link", description="Link your Spotify account to Encore")
    async def link(self, interaction: discord.Interaction) -> None:
        services = self.bot.services
        existing = await services.accounts.find(interaction.user.id)
        url = await services.linking.start(
            interaction.user.id,
            guild_id=interaction.guild_id,
            application_id=interaction.application_id,
            interaction_token=interaction.token,
            member_name=interaction.user.display_name,
            guild_name=interaction.guild.name if interaction.guild else None,
        )
        label = "Relink Spotify" if existing else "Link Spotify"
        await interaction.response.send_message(
            link_prompt(existing), view=link_view(url, label), ephemeral=True
        )

    @app_commands.command(
        name="unlink", description="Unlink Spotify and forget everything about you"
    )
    async def unlink(self, interaction: discord.Interaction) -> None:
        had_link = await self.bot.services.accounts.unlink(interaction.user.id)
        await send_private(interaction, unlinked_text(had_link))

    @app_commands.command(name="profile", description="Show a linked Spotify profile")
    @app_commands.describe(member="Whose profile (default: yours)")
    async def profile(
        self, interaction: discord.Interaction, member: discord.User | None = None
    ) -> None:
        subject = await self.bot.subject_and_defer(interaction, member, private=True)
        account = await self.bot.services.accounts.find(subject.discord_user_id)
        if account is None:
            raise NotLinked() if subject.is_invoker else MemberNotLinked()
        await interaction.followup.send(
            embed=profile_embed(account, own=subject.is_invoker), ephemeral=True
        )

    @app_commands.command(
        name="privacy",
        description="See or change whether you appear here and whether your listening is recorded",
    )
    @app_commands.describe(
        visible="True: appear in leaderboards and lookups here; False: hidden",
        record="True: your listening may be recorded as plays; False: never, in any server",
    )
    @app_commands.guild_only()
    async def privacy(
        self,
        interaction: discord.Interaction,
        visible: bool | None = None,
        record: bool | None = None,
    ) -> None:
        assert interaction.guild is not None
        services = self.bot.services
        user_id = interaction.user.id
        if record is False:
            services.presence.stop_recording(user_id)
        if record is not None:
            await services.recording.set_member(user_id, record)
        if visible is not None:
            await services.members.set_visible(interaction.guild.id, user_id, visible)
        current = await services.members.is_visible(interaction.guild.id, user_id)
        records = services.recording.member_records(user_id)
        text = "\n".join(
            (
                privacy_text(current, interaction.guild.name, visible is not None),
                record_text(records, record is not None),
            )
        )
        if record is not False:
            await send_private(interaction, text)
            return

        async def delete() -> int:
            return await services.recording.delete_plays(user_id)

        await interaction.response.send_message(
            f"{text}\n\n{delete_offer_text()}",
            view=DeletePlaysView(user_id, delete),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )


async def setup(bot: Encore) -> None:
    await bot.add_cog(Account(bot))
