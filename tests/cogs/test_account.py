"""A member links Spotify through /link, the bot's web server and the sandbox's consent page."""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.db.models import OAuthState, SpotifyLink
from tests.helpers.world import World, has_text, link_button_url

pytestmark = pytest.mark.e2e


async def count_rows(world: World, model: type) -> int:
    async with world.bot.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_link_flow_updates_the_reply_and_profile_shows_the_account(world: World) -> None:
    alice = world.members[0]
    spotify_user = world.spotify.users["user0"]

    reply = await world.link(alice, "user0")

    assert reply.ephemeral
    assert spotify_user.display_name in reply.text()
    assert reply.buttons() == []
    profile = await world.answer("profile", alice)
    assert profile.ephemeral
    assert spotify_user.display_name in profile.text()
    assert "Renew by" in profile.text()
    assert f"open.spotify.com/user/{spotify_user.id}" in str(profile.embeds)


async def test_link_reply_is_private_and_offers_a_button_on_the_bots_own_origin(
    world: World,
) -> None:
    reply = await world.answer("link", world.members[0])
    assert reply.ephemeral
    assert link_button_url(reply).startswith(f"{world.web_url}/link?state=")


async def test_relink_says_as_whom(world: World) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    again = await world.answer("link", alice)
    assert "linked as" in again.text()
    assert world.spotify.users["user0"].display_name in again.text()
    assert "Relink" in str(again.buttons())


async def test_linking_an_account_elsewhere_moves_it(world: World) -> None:
    alice, bob = world.members[:2]
    await world.link(alice, "user0")
    moved = await world.link(bob, "user0")
    assert "moved to you" in moved.text()
    assert await world.bot.services.accounts.find(alice.id) is None
    assert await world.bot.services.accounts.find(bob.id) is not None


async def callback(world: World, query: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        response = await http.get(f"{world.web_url}/callback{query}")
        return response.status, await response.text()


async def test_forged_state_leaves_database_unchanged(world: World) -> None:
    await world.answer("link", world.members[0])
    status, page = await callback(world, "?code=abc&state=forged-state-value")
    assert status == 400
    assert "not valid" in page
    assert await count_rows(world, SpotifyLink) == 0
    assert await count_rows(world, OAuthState) == 1


async def test_missing_parameters_page(world: World) -> None:
    status, page = await callback(world, "")
    assert status == 400
    assert "incomplete" in page


async def test_oversized_parameters_are_refused(world: World) -> None:
    status, _ = await callback(world, "?code=x&state=" + "s" * 5000)
    assert status == 400


async def test_replayed_state_is_refused(world: World) -> None:
    alice = world.members[0]
    interaction = await world.run("link", alice)
    url = link_button_url(await interaction.wait_message())
    world.spotify.authorizing_user = "user0"
    async with aiohttp.ClientSession() as browser:
        start = await browser.get(url, allow_redirects=False)
        consent = await browser.get(start.headers["Location"], allow_redirects=False)
        target = consent.headers["Location"]
        first = await browser.get(target)
        assert first.status == 200
        second = await browser.get(target)
        assert second.status == 400
        assert "not valid" in await second.text()
    assert await count_rows(world, SpotifyLink) == 1


async def test_expired_state_shows_expired_page_and_links_nothing(world: World) -> None:
    alice = world.members[0]
    interaction = await world.run("link", alice)
    url = link_button_url(await interaction.wait_message())
    async with world.bot.sessions() as session:
        state = (await session.scalars(select(OAuthState))).one()
        state.expires_at = state.created_at
        await session.commit()
    async with aiohttp.ClientSession() as browser:
        start = await browser.get(url, allow_redirects=False)
        assert start.status == 400
        assert "expired" in await start.text()
        state_value = url.split("state=", 1)[1]
        late = await browser.get(f"{world.web_url}/callback?code=x&state={state_value}")
        assert late.status == 400
        assert "expired" in await late.text()
    assert await count_rows(world, SpotifyLink) == 0
    await interaction.wait_message(has_text("expired"))


async def test_access_denied_shows_cancelled_and_edits_reply(world: World) -> None:
    alice = world.members[0]
    interaction = await world.run("link", alice)
    url = link_button_url(await interaction.wait_message())
    response = await world.follow_link(url, "user0", deny=True)
    assert response.status == 400
    assert await count_rows(world, SpotifyLink) == 0
    await interaction.wait_message(has_text("cancelled"))


async def test_code_refused_by_token_endpoint(world: World) -> None:
    alice = world.members[0]
    interaction = await world.run("link", alice)
    url = link_button_url(await interaction.wait_message())
    world.spotify.authorizing_user = "user0"
    async with aiohttp.ClientSession() as browser:
        start = await browser.get(url, allow_redirects=False)
        consent = await browser.get(start.headers["Location"], allow_redirects=False)
        world.spotify.expire_authorization_codes()
        result = await browser.get(consent.headers["Location"])
        assert result.status == 400
        assert "did not accept" in await result.text()
    assert await count_rows(world, SpotifyLink) == 0


async def test_not_allow_listed_account_gets_clear_page(world: World) -> None:
    outsider = world.spotify.add_user("outsider", allow_listed=False)
    interaction = await world.run("link", world.members[0])
    url = link_button_url(await interaction.wait_message())
    response = await world.follow_link(url, outsider.id)
    assert response.status == 400
    assert await count_rows(world, SpotifyLink) == 0
    await interaction.wait_message(has_text("Developer Dashboard"))


async def test_callback_pages_carry_security_headers(world: World) -> None:
    async with aiohttp.ClientSession() as http:
        response = await http.get(f"{world.web_url}/callback?state=x&code=y")
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "x" not in (await response.text()).split("<body>", 1)[1].split("state")[0]


async def test_unlink_forgets_everything(world: World) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    reply = await world.answer("unlink", alice)
    assert reply.ephemeral
    assert "deleted" in reply.text()
    assert await count_rows(world, SpotifyLink) == 0


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("profile", None),
        ("top artists", None),
        ("top tracks", {"time_range": "short_term"}),
        ("saved tracks", None),
        ("saved albums", None),
        ("following", None),
        ("playlists", None),
        ("save", {"item": "spotify:track:4uLU6hMCjMI75M1A2tKUQC"}),
        ("unsave", {"item": "spotify:track:4uLU6hMCjMI75M1A2tKUQC"}),
        ("follow", {"item": "spotify:artist:0OdUWJ0sBjDrqHygGUXeCF"}),
        ("unfollow", {"item": "spotify:artist:0OdUWJ0sBjDrqHygGUXeCF"}),
    ],
)
async def test_unlinked_member_gets_ephemeral_link_hint(
    world: World, command: str, options: dict[str, str] | None
) -> None:
    reply = await world.answer(command, world.members[1], options=options)
    assert reply.ephemeral
    assert "/link" in reply.text()
    assert world.spotify.requests == []


async def test_healthz_reports_database_and_gateway(world: World) -> None:
    async with aiohttp.ClientSession() as http:
        response = await http.get(f"{world.web_url}/healthz")
        body = await response.json()
    assert response.status == 200
    assert body["db_ok"] is True
    assert body["gateway_ok"] is True


async def test_tokens_stay_out_of_database_and_logs_through_refresh(world: World) -> None:
    """The world fixture greps the database and every log record for every code and token
    the sandbox issued; this walks the paths that touch tokens most (link, refresh, rotate)."""
    alice = world.members[0]
    await world.link(alice, "user0")
    for _ in range(2):
        world.spotify.expire_access_tokens("user0")
        reply = await world.answer("saved tracks", alice)
        assert "in all" in reply.text()
    assert len(world.spotify.requests_to("/api/token")) >= 3
    assert len(world.spotify.accounts.issued) >= 5


async def test_unlink_says_where_to_remove_encores_access_on_spotify(world: World) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    reply = await world.answer("unlink", alice)
    assert "https://www.spotify.com/account/apps/" in reply.text()
    assert "Manage apps" in reply.text()
