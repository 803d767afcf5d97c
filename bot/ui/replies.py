"""The tree-wide error handler: a short ephemeral message for the member, a log line for us."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.ui.failures import describe_failure

log = logging.getLogger(__name__)

GENERIC = "Something went wrong on our side. Please try again in a moment."


def unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError | commands.CommandInvokeError):
        error = error.original
    return error


async def send_private(interaction: discord.Interaction, text: str) -> None:
    """Answer only the member, whatever state the interaction response is in.

    After a public defer, a followup would replace the public "thinking" message, so that
    placeholder is deleted first and the text goes out as a fresh ephemeral followup.
    """
    mentions = discord.AllowedMentions.none()
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=mentions)
        return
    deferred = interaction.response.type is discord.InteractionResponseType.deferred_channel_message
    if deferred and not interaction.extras.get("private", False):
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.debug("could not delete the deferred reply", exc_info=True)
    await interaction.followup.send(text, ephemeral=True, allowed_mentions=mentions)


async def defer(interaction: discord.Interaction, *, private: bool) -> None:
    """Defer before calling Spotify, remembering whether the answer is private."""
    interaction.extras["private"] = private
    await interaction.response.defer(ephemeral=private, thinking=True)


async def reply_to_error(interaction: discord.Interaction, error: BaseException) -> bool:
    """Tell the member, privately, what went wrong; False when it was unexpected (logged)."""
    cause = unwrap(error)
    text: str | None
    if isinstance(cause, app_commands.CheckFailure):
        text = str(cause) or "You can't use this command here."
    elif isinstance(cause, app_commands.TransformerError | app_commands.CommandSignatureMismatch):
        text = "That option value isn't valid."
    else:
        text = describe_failure(cause)
    if text is None:
        command = interaction.command.qualified_name if interaction.command else "?"
        log.error(
            "command %s failed (guild=%s member=%s)",
            command,
            interaction.guild_id,
            interaction.user.id,
            exc_info=cause,
        )
    try:
        await send_private(interaction, text or GENERIC)
    except discord.HTTPException:
        log.warning("could not tell the member about an error", exc_info=True)
    return text is not None
