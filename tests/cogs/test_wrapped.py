"""/wrapped end to end: a PNG card whose numbers match the plays, "not enough plays", the year
bounds, and the visibility rule for another member's card."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from bot.db.engine import session_scope
from bot.domain import PlayIn, PlaySource
from bot.services.wrapped import MIN_PLAYS
from bot.store.plays import record_plays
from bot.store.wrapped import BusiestWeekday, NewArtists, Streak
from sandbox.discord_models import StandInUser
from tests.helpers.world import World

pytestmark = pytest.mark.e2e

LENGTH_MS = 200_000


@pytest.fixture
def world_settings() -> dict[str, Any]:
    return {"DISCORD_MEMBERS_INTENT": True}


def day_plays(
    member: StandInUser,
    day: date,
    count: int,
    track: str,
    artist: str,
    *,
    image_url: str | None = None,
) -> list[PlayIn]:
    start = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
    return [
        PlayIn(
            discord_user_id=member.id,
            started_at=start + timedelta(minutes=5 * i),
            ms_played=LENGTH_MS,
            source=PlaySource.IMPORT,
            track_name=track,
            artist_names=(artist,),
            album_name=f"{track} (album)",
            duration_ms=LENGTH_MS,
            image_url=image_url,
        )
        for i in range(count)
    ]


async def store(world: World, plays: list[PlayIn]) -> None:
    async with session_scope(world.bot.sessions, shared_writes=True) as session:
        result = await record_plays(session, plays)
    assert result.added == len(plays)
    await world.bot.services.members.record(
        world.guild.id, sorted({play.discord_user_id for play in plays})
    )


def last_year() -> int:
    return datetime.now(UTC).year - 1


async def a_year_of_alice(world: World) -> list[PlayIn]:
    """60 plays last year: a 4-day streak (Mon 2 Mar - Thu 5 Mar), a gap, then 2 days; Mondays
    are the busiest; Xavier is the most played artist and was already heard the year before."""
    alice = world.members[0]
    year = last_year()
    monday = date(year, 3, 2)
    monday -= timedelta(days=monday.weekday())
    art = f"{world.spotify.base_url}/images/wrappedcover.png?size=300"
    plays = [
        *day_plays(alice, date(year - 1, 6, 1), 3, "Old Song", "Xavier"),
        *day_plays(alice, monday, 20, "Alpha", "Xavier", image_url=art),
        *day_plays(alice, monday + timedelta(days=1), 10, "Beta", "Yolanda"),
        *day_plays(alice, monday + timedelta(days=2), 8, "Gamma", "Zed"),
        *day_plays(alice, monday + timedelta(days=3), 7, "Alpha", "Xavier", image_url=art),
        *day_plays(alice, monday + timedelta(days=10), 9, "Delta", "Yolanda"),
        *day_plays(alice, monday + timedelta(days=11), 6, "Epsilon", "Wanda"),
    ]
    await store(world, plays)
    return plays


async def test_wrapped_posts_a_png_card_whose_numbers_match_the_plays(world: World) -> None:
    alice = world.members[0]
    await a_year_of_alice(world)
    year = last_year()
    world.spotify.clear_requests()

    reply = await world.answer("wrapped", alice, options={"year": year}, timeout=20)

    assert not reply.ephemeral
    minutes = 60 * LENGTH_MS // 60_000
    assert (
        reply.content
        == f"**alice's {year}**: 60 plays · {minutes:,} minutes · top artist **Xavier**"
    )
    [attachment] = reply.attachments
    assert attachment.name == "wrapped.png"
    with Image.open(io.BytesIO(attachment.data)) as image:
        assert image.format == "PNG"
        assert image.size[0] == 1080
        assert image.size[1] > 1080
    assert world.spotify.requests_to("/images/wrappedcover.png")

    wrapped = await world.bot.services.wrapped.wrapped(alice.id, year)
    assert (wrapped.plays, wrapped.minutes) == (60, minutes)
    assert [(a.item.name, a.plays) for a in wrapped.top_artists] == [
        ("Xavier", 27),
        ("Yolanda", 19),
        ("Zed", 8),
        ("Wanda", 6),
    ]
    assert [(t.item.name, t.plays) for t in wrapped.top_tracks][:3] == [
        ("Alpha", 27),
        ("Beta", 10),
        ("Delta", 9),
    ]
    assert wrapped.top_album is not None and wrapped.top_album.item.name == "Alpha (album)"
    monday = date(year, 3, 2) - timedelta(days=date(year, 3, 2).weekday())
    assert wrapped.streak == Streak(4, monday, monday + timedelta(days=3))
    assert wrapped.busiest == BusiestWeekday(0, 20)
    assert wrapped.new_artists == NewArtists(3, ["Yolanda", "Zed", "Wanda"])


async def test_not_enough_plays_says_how_many_there_are(world: World) -> None:
    bob = world.members[1]
    await store(world, day_plays(bob, date(last_year(), 7, 1), 12, "Beta", "Yolanda"))
    reply = await world.answer("wrapped", bob, options={"year": last_year()})
    assert reply.ephemeral
    assert not reply.attachments
    assert f"Only 12 plays are recorded for {last_year()}" in reply.text()
    assert f"at least {MIN_PLAYS}" in reply.text()
    none = await world.answer("wrapped", bob)
    assert none.ephemeral
    assert f"No plays are recorded for {last_year() + 1};" in none.text()


async def test_years_outside_spotifys_lifetime_are_refused(world: World) -> None:
    alice = world.members[0]
    this_year = datetime.now(UTC).year
    for year in (2007, this_year + 1):
        reply = await world.answer("wrapped", alice, options={"year": year})
        assert reply.ephemeral
        assert reply.text() == f"Pick a year from 2008 to {this_year}."


async def test_another_members_card_follows_the_visibility_rule(world: World) -> None:
    alice, bob, _ = world.members
    await a_year_of_alice(world)
    year = last_year()
    shown = await world.answer("wrapped", bob, options={"member": alice, "year": year}, timeout=20)
    assert not shown.ephemeral
    assert shown.content.startswith(f"**alice's {year}**: 60 plays")
    assert shown.attachments

    await world.answer("privacy", alice, options={"visible": False})
    hidden = await world.answer("wrapped", bob, options={"member": alice, "year": year})
    assert hidden.ephemeral and "private" in hidden.text()
    assert not hidden.attachments
    assert "60" not in hidden.text()
    own = await world.answer("wrapped", alice, options={"year": year}, timeout=20)
    assert not own.ephemeral and own.attachments  # hidden from others, not from herself


async def test_a_member_who_left_has_no_card_here(world: World) -> None:
    alice, bob, _ = world.members
    await a_year_of_alice(world)
    await world.remove_member(alice)
    reply = await world.answer("wrapped", bob, options={"member": alice, "year": last_year()})
    assert reply.ephemeral and "isn't in this server" in reply.text()
