"""Bot-wide behaviour: command sync, the error handler, privacy, broken tokens."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.app import Encore
from bot.db.models import SpotifyLink
from bot.domain import LinkStatus
from sandbox.discord_client import running_client
from tests.helpers.world import World, encore_settings

pytestmark = pytest.mark.e2e


async def test_commands_sync_once_and_not_again_when_unchanged(world: World) -> None:
    names = {c["name"] for c in world.discord.registered_commands()}
    assert {"link", "unlink", "profile", "privacy", "top", "saved", "save", "follow"} <= names
    assert world.discord.sync_count() == 1
    await world.bot.close()
    again = Encore(world.settings, guild_ready_timeout=0.05)
    async with running_client(world.discord, again):
        assert world.discord.sync_count() == 1


async def test_dev_guild_gets_the_commands(world: World) -> None:
    await world.bot.close()
    settings = encore_settings(
        data_dir=world.settings.DATA_DIR,
        database_url=world.settings.DATABASE_URL,
        port=world.settings.WEB_PORT,
        sandbox=world.spotify,
        DISCORD_DEV_GUILD_ID=world.guild.id,
    )
    dev = Encore(settings, guild_ready_timeout=0.05)
    async with running_client(world.discord, dev):
        guild_names = {c["name"] for c in world.discord.registered_commands(world.guild.id)}
    assert "link" in guild_names and "top" in guild_names


async def test_unexpected_error_is_generic_private_and_logged_with_context(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    alice = world.members[0]

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(world.bot.services.accounts, "unlink", broken)
    with caplog.at_level(logging.ERROR):
        reply = await world.answer("unlink", alice)
    assert reply.ephemeral
    assert "Something went wrong" in reply.text()
    assert "database on fire" not in reply.text()
    record = next(r for r in caplog.records if "unlink failed" in r.getMessage())
    assert str(alice.id) in record.getMessage()
    assert record.exc_info is not None
    assert (await world.answer("privacy", alice)).text()


async def test_privacy_defaults_to_visible_and_can_hide(world: World) -> None:
    alice = world.members[0]
    shown = await world.answer("privacy", alice)
    assert shown.ephemeral and "visible" in shown.text()
    hidden = await world.answer("privacy", alice, options={"visible": False})
    assert "now **hidden**" in hidden.text()
    assert not await world.bot.services.members.is_visible(world.guild.id, alice.id)
    assert "hidden" in (await world.answer("privacy", alice)).text()


async def test_privacy_needs_a_server(world: World) -> None:
    with pytest.raises(LookupError):
        await world.run("privacy", world.members[0], in_guild=False)


async def test_profile_in_dms_works(world: World) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    reply = await world.answer("profile", alice, in_guild=False)
    assert world.spotify.users["user0"].display_name in reply.text()


async def test_token_that_no_longer_decrypts_marks_link_broken(world: World) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    async with world.bot.sessions() as session:
        link = await session.get(SpotifyLink, alice.id)
        assert link is not None
        link.access_token_enc = b"gAAAAA-not-a-fernet-token"
        await session.commit()
    reply = await world.answer("saved tracks", alice)
    assert reply.ephemeral
    assert "/link" in reply.text()
    async with world.bot.sessions() as session:
        status = await session.scalar(
            select(SpotifyLink.status).where(SpotifyLink.discord_user_id == alice.id)
        )
    assert status is LinkStatus.BROKEN
    again = await world.answer("profile", alice)
    assert "/link" in again.text()
    relinked = await world.link(alice, "user0")
    assert "Linked" in relinked.text()
