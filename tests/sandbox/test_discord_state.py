"""Interaction payloads: what INTERACTION_CREATE carries in a guild and in a DM."""

from sandbox.discord_interactions import APPLICATION_COMMAND, StandInInteraction
from sandbox.discord_models import StandInChannel, StandInGuild, StandInMember
from sandbox.discord_state import World


def world_with_guild() -> tuple[World, StandInGuild]:
    world = World(application_id=5, bot_user_id=5, token="t")
    alice = world.owner
    guild = StandInGuild(7, "G", alice.id, "2024-01-01T00:00:00+00:00")
    guild.channels.append(StandInChannel(8, "general", guild_id=7))
    guild.members[alice.id] = StandInMember(alice, guild.joined_at)
    world.guilds[guild.id] = guild
    return world, guild


def interaction(world: World, guild_id: int | None, channel_id: int) -> StandInInteraction:
    return StandInInteraction(
        id=world.ids.next(),
        token="tok",
        type=APPLICATION_COMMAND,
        name="ping",
        user=world.owner,
        guild_id=guild_id,
        channel_id=channel_id,
        changes=world.changes,
    )


def test_guild_interaction_carries_member_guild_and_permissions() -> None:
    world, guild = world_with_guild()

    payload = world.interaction_payload(
        interaction(world, guild.id, 8), {"name": "ping"}, locale="fr"
    )

    assert payload["guild_id"] == "7"
    assert payload["context"] == 0
    assert payload["locale"] == "fr"
    assert payload["member"]["user"]["id"] == str(world.owner.id)
    assert payload["member"]["permissions"] == payload["channel"]["permissions"]
    assert payload["channel"]["guild_id"] == "7"
    assert payload["authorizing_integration_owners"] == {"0": "7"}
    assert payload["attachment_size_limit"] > 0
    assert "user" not in payload


def test_dm_interaction_carries_the_user_and_a_dm_channel() -> None:
    world, _ = world_with_guild()
    channel = world.dm_channel(world.owner)

    payload = world.interaction_payload(interaction(world, None, channel.id), {}, locale="en-US")

    assert payload["user"]["username"] == "owner"
    assert payload["context"] == 1
    assert payload["channel"]["type"] == 1
    assert "guild_id" not in payload and "member" not in payload
    assert world.dm_channel(world.owner) is channel
