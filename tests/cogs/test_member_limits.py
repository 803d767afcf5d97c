"""Per-member limits end to end: a member over a limit is told privately when to try again,
nothing reaches Spotify for the refused attempt, and other members are not held up.

The bot's limiter runs on a frozen clock here, so no test depends on how fast it runs."""

from __future__ import annotations

import pytest

from bot.services.member_limits import Action, MemberLimiter
from tests.cogs.test_share import save_button
from tests.helpers.world import World, has_text

pytestmark = pytest.mark.e2e


class Frozen:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def linked(world: World, count: int) -> Frozen:
    for index, member in enumerate(world.members[:count]):
        await world.link(member, f"user{index}")
    world.spotify.clear_requests()
    clock = Frozen()
    world.bot.services.member_limits = MemberLimiter(clock=clock)
    return clock


def playlists_created(world: World) -> int:
    return sum(
        1 for r in world.spotify.requests if r.method == "POST" and r.path == "/v1/me/playlists"
    )


async def test_serverplaylist_once_per_ten_minutes_per_member(world: World) -> None:
    clock = await linked(world, 2)
    alice, bob = world.members[:2]
    assert "favourites" in (await world.answer("serverplaylist", alice)).text()

    again = await world.answer("serverplaylist", alice)
    assert again.ephemeral
    assert again.text() == "You're doing that too often. Try again in 10 min."
    assert playlists_created(world) == 1

    assert "favourites" in (await world.answer("serverplaylist", bob)).text()
    assert playlists_created(world) == 2
    clock.now += 600
    assert "favourites" in (await world.answer("serverplaylist", alice)).text()
    assert playlists_created(world) == 3


async def test_serverplaylist_refused_for_lack_of_favourites_does_not_count(world: World) -> None:
    await linked(world, 1)
    alice = world.members[0]
    await world.answer("privacy", alice, options={"visible": False})
    for _ in range(2):
        reply = await world.answer("serverplaylist", alice)
        assert "no favourites yet" in reply.text()
    assert playlists_created(world) == 0


async def test_one_members_chart_burst_does_not_hold_up_another(world: World) -> None:
    await linked(world, 2)
    alice, bob = world.members[:2]
    for _ in range(3):
        reply = await world.answer("chart", alice, options={"of": "artists"}, timeout=20)
        assert reply.attachments
    refused = await world.answer("chart", alice, options={"of": "artists"})
    assert refused.ephemeral and "too often" in refused.text()
    assert "Try again in 1 min" in refused.text()

    other = await world.answer("chart", bob, options={"of": "artists"}, timeout=20)
    assert not other.ephemeral and other.attachments


async def test_share_button_presses_are_limited_per_member(world: World) -> None:
    clock = await linked(world, 3)
    alice, bob, carol = world.members
    post = await world.answer("share", alice, options={"item": world.spotify.track_ids()[3]})
    for _ in range(5):
        click = await world.discord.click(post, save_button(post), user=bob)
        assert "too often" not in (await click.wait_message()).text()
    world.spotify.clear_requests()

    refused = await world.discord.click(post, save_button(post), user=bob)
    answer = await refused.wait_message()
    assert answer.ephemeral and "Try again in 30 s" in answer.text()
    assert world.spotify.requests == []

    click = await world.discord.click(post, save_button(post), user=carol)
    assert "Saved" in (await click.wait_message(has_text("Saved"))).text()
    clock.now += 30
    click = await world.discord.click(post, save_button(post), user=bob)
    assert "too often" not in (await click.wait_message()).text()


async def test_library_changes_are_limited_per_member(world: World) -> None:
    await linked(world, 2)
    alice, bob = world.members[:2]
    tracks = world.spotify.track_ids()
    for track in tracks[:10]:
        reply = await world.answer("save", alice, options={"item": f"spotify:track:{track}"})
        assert "too often" not in reply.text()
    world.spotify.clear_requests()
    refused = await world.answer("unsave", alice, options={"item": f"spotify:track:{tracks[0]}"})
    assert refused.ephemeral and "too often" in refused.text()
    assert world.spotify.requests == []
    reply = await world.answer("follow", bob, options={"item": world.spotify.artist_ids()[0]})
    assert "too often" not in reply.text()


async def test_search_autocomplete_goes_quiet_for_a_member_typing_too_fast(world: World) -> None:
    clock = await linked(world, 2)
    track = world.spotify.catalog.tracks[world.spotify.track_ids()[0]]

    async def complete(user_index: int, command: str = "save") -> list[dict[str, str]]:
        choices: list[dict[str, str]] = await world.discord.autocomplete(
            command,
            user=world.members[user_index],
            focused="item",
            options={"item": track.name[:6]},
            guild_id=world.guild.id,
        )
        return choices

    for _ in range(4):
        assert await complete(0)
    searches = len(world.spotify.requests_to("/v1/search"))
    assert await complete(0) == []
    assert await complete(0, "share") == []
    assert len(world.spotify.requests_to("/v1/search")) == searches
    assert await complete(1)
    clock.now += 2
    assert await complete(0)


@pytest.mark.parametrize(
    ("command", "action"),
    [("top artists", Action.TOP), ("recommend", Action.RECOMMEND), ("chart", Action.CHART)],
)
async def test_commands_that_call_spotify_are_limited(
    world: World, command: str, action: Action
) -> None:
    await linked(world, 1)
    alice = world.members[0]
    limits = world.bot.services.member_limits
    while limits.allowed(alice.id, action):
        pass
    refused = await world.answer(command, alice)
    assert refused.ephemeral and "too often" in refused.text()
    assert world.spotify.requests == []
