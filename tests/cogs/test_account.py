"""A member links Spotify through /link, the bot's web server and the sandbox's consent page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.db.models import Base, OAuthState, SpotifyLink
from sandbox.browser import consent, forms_of, new_browser, submit, visible_text
from tests.helpers.world import World, has_text, link_button_url

pytestmark = pytest.mark.e2e


async def count_rows(world: World, model: type) -> int:
    async with world.bot.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def link_row(world: World, member_id: int) -> tuple[object, ...] | None:
    """What a member's link holds (account, tokens, status, dates)."""
    async with world.bot.sessions() as session:
        link = await session.get(SpotifyLink, member_id)
        if link is None:
            return None
        return tuple(getattr(link, column.key) for column in SpotifyLink.__table__.columns)


async def member_rows(world: World, member_id: int) -> dict[str, int]:
    """How many rows of each table name the member."""
    counts = {}
    async with world.bot.sessions() as session:
        for table in Base.metadata.sorted_tables:
            if "discord_user_id" in table.columns:
                counts[table.name] = int(
                    await session.scalar(
                        select(func.count())
                        .select_from(table)
                        .where(table.c.discord_user_id == member_id)
                    )
                    or 0
                )
    return counts


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


async def test_an_account_linked_to_another_member_is_refused_and_left_alone(
    world: World,
) -> None:
    """Changed deliberately (issue 13): this used to move the account to bob and delete
    alice's data."""
    alice, bob = world.members[:2]
    await world.link(alice, "user0")
    before = await link_row(world, alice.id)
    interaction = await world.run("link", bob)
    url = link_button_url(await interaction.wait_message())
    page = await world.follow_link(url, "user0")
    assert page.status == 400
    assert "/unlink" in page.text and "alice" not in page.text
    assert await link_row(world, alice.id) == before
    assert await world.bot.services.accounts.find(bob.id) is None
    failed = await interaction.wait_message(has_text("linked to another Discord member"))
    assert "/unlink" in failed.text()


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


async def to_callback(browser: aiohttp.ClientSession, url: str) -> str:
    """Open a /link URL in `browser`, send its form and consent on Spotify: the callback URL."""
    async with browser.get(url) as response:
        assert response.status == 200, await response.text()
        page = await response.text()
    sent = await submit(browser, url, page)
    assert sent.status == 303
    return await consent(browser, sent.headers["Location"])


async def test_replayed_state_is_refused(world: World) -> None:
    alice = world.members[0]
    interaction = await world.run("link", alice)
    url = link_button_url(await interaction.wait_message())
    world.spotify.authorizing_user = "user0"
    async with new_browser() as browser:
        target = await to_callback(browser, url)
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
    async with new_browser() as browser:
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
    async with new_browser() as browser:
        target = await to_callback(browser, url)
        world.spotify.expire_authorization_codes()
        result = await browser.get(target)
        assert result.status == 400
        assert "did not accept" in await result.text()
    assert await count_rows(world, SpotifyLink) == 0


async def test_not_allow_listed_account_gets_clear_page(world: World) -> None:
    outsider = world.spotify.add_user("outsider", allow_listed=False)
    interaction = await world.run("link", world.members[0])
    url = link_button_url(await interaction.wait_message())
    response = await world.follow_link(url, outsider.id)
    assert response.status == 400
    assert "/import" in response.text and "Discord status" in response.text
    assert await count_rows(world, SpotifyLink) == 0
    reply = await interaction.wait_message(has_text("Developer Dashboard"))
    assert "`/import`" in reply.text(), "told what still works without a link"
    assert "Spotify status in Discord" in reply.text()


PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def assert_page_headers(response: aiohttp.ClientResponse, form_action: str) -> None:
    for name, value in PAGE_HEADERS.items():
        assert response.headers[name] == value
    csp = [part.strip() for part in response.headers["Content-Security-Policy"].split(";")]
    assert csp[0] == "default-src 'none'"
    assert "frame-ancestors 'none'" in csp
    assert f"form-action {form_action}" in csp
    assert not any("http" in part for part in csp if not part.startswith("form-action"))


async def test_the_link_page_names_the_member_and_goes_on_only_through_its_form(
    world: World,
) -> None:
    alice = world.members[0]
    url = link_button_url(await world.answer("link", alice))
    async with new_browser() as browser:
        async with browser.get(url, allow_redirects=False) as response:
            assert response.status == 200
            page = await response.text()
            assert_page_headers(response, f"'self' {world.spotify.accounts_url}")
            cookie = response.cookies["encore_link"]
        assert f"You are linking Spotify to @{alice.name} in Encore Test" in visible_text(page)
        assert "http-equiv" not in page and "<script" not in page
        [form] = forms_of(page)
        assert (form.method, form.action, sorted(form.fields)) == (
            "post",
            "/link",
            ["state", "token"],
        )
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
        assert cookie["path"] == "/"

        forged = await submit(browser, url, page, changes={"token": "forged"})
        assert forged.status == 400
        assert world.spotify.requests_to("/authorize") == []
        sent = await submit(browser, url, page)
        assert sent.status == 303
        assert_page_headers(sent, f"'self' {world.spotify.accounts_url}")
        target = urlsplit(sent.headers["Location"])
        assert f"{target.scheme}://{target.netloc}" == world.spotify.accounts_url
        assert parse_qs(target.query)["show_dialog"] == ["true"]


async def test_spotify_shows_its_consent_page_even_to_a_member_who_authorised_before(
    world: World,
) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    assert "user0" in world.spotify.accounts.authorized
    url = link_button_url(await world.answer("link", alice))
    async with new_browser() as browser:
        async with browser.get(url) as response:
            page = await response.text()
        sent = await submit(browser, url, page)
        async with browser.get(sent.headers["Location"], allow_redirects=False) as spotify:
            assert spotify.status == 200
            assert forms_of(await spotify.text())


async def test_the_link_works_only_in_the_browser_that_opened_it_first(world: World) -> None:
    alice = world.members[0]
    interaction = await world.run("link", alice)
    url = link_button_url(await interaction.wait_message())
    world.spotify.authorizing_user = "user0"
    async with new_browser() as first, new_browser() as second:
        target = await to_callback(first, url)
        async with second.get(url) as late:
            assert late.status == 400
            assert "another browser" in visible_text(await late.text())
        async with second.get(target) as stolen:
            assert stolen.status == 400
            assert "another browser" in visible_text(await stolen.text())
        async with aiohttp.ClientSession() as cookieless, cookieless.get(target) as bare:
            assert bare.status == 400
        assert world.spotify.requests_to("/api/token") == []
        async with first.get(target) as done:
            assert done.status == 200
    await interaction.wait_message(has_text("Linked to Spotify"))


async def test_a_shared_link_does_not_take_over_an_account(world: World) -> None:
    """Issue 13: alice runs /link and sends the URL to bob, who is linked already and has
    authorised Encore on Spotify. Bob sees whom the page links; if he goes on anyway, his
    Spotify account stays his, with his data; and nobody else can use the link after him."""
    alice, bob = world.members[:2]
    await world.link(bob, "user1")
    await world.answer("top artists", bob)
    bob_before = await link_row(world, bob.id)
    bob_data = await member_rows(world, bob.id)
    assert bob_data["top_snapshots"] > 0
    interaction = await world.run("link", alice)
    url = link_button_url(await interaction.wait_message())

    world.spotify.authorizing_user = "user1"
    async with new_browser() as bobs_browser, new_browser() as third_browser:
        async with bobs_browser.get(url) as response:
            page = await response.text()
        assert f"linking Spotify to @{alice.name} in Encore Test" in visible_text(page)
        async with third_browser.get(url) as third:
            assert third.status == 400
            assert "another browser" in visible_text(await third.text())
        sent = await submit(bobs_browser, url, page)
        async with bobs_browser.get(sent.headers["Location"], allow_redirects=False) as shown:
            assert shown.status == 200, "Spotify's consent page is not skipped"
        target = await consent(bobs_browser, sent.headers["Location"])
        async with bobs_browser.get(target) as result:
            assert result.status == 400
            text = visible_text(await result.text())

    assert "linked to another Discord member" in text and "/unlink" in text
    assert bob.name not in text
    assert await link_row(world, bob.id) == bob_before
    assert await member_rows(world, bob.id) == bob_data
    assert bob.id in world.bot.services.accounts.linked
    assert await world.bot.services.accounts.find(alice.id) is None
    await interaction.wait_message(has_text("linked to another Discord member"))


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


# Whose data is shown: a current member of this server, visible here, linked for Spotify data.


async def test_profile_of_a_member_here_and_of_a_user_who_is_not_one(world: World) -> None:
    alice, bob = world.members[:2]
    dave = world.discord.add_user(name="dave")
    elsewhere = world.discord.add_guild(name="Elsewhere", members=[dave])
    await world.link(alice, "user0")
    await world.link(bob, "user1")
    await world.link(dave, "user3", guild=elsewhere)

    shown = await world.answer("profile", alice, options={"member": bob})
    assert world.spotify.users["user1"].display_name in shown.text()
    refused = await world.answer("profile", alice, options={"member": dave})
    assert refused.ephemeral
    assert "isn't in this server" in refused.text()
    assert world.spotify.users["user3"].display_name not in refused.text()


async def test_hidden_in_one_server_is_not_shown_in_another_they_never_joined(
    world: World,
) -> None:
    alice, _, carol = world.members
    elsewhere = world.discord.add_guild(name="Elsewhere", members=[alice])
    await world.link(alice, "user0")
    await world.link(carol, "user2")
    hidden = await world.answer("privacy", carol, options={"visible": False})
    assert "now **hidden**" in hidden.text()
    world.spotify.clear_requests()

    for command in ("top artists", "profile"):
        reply = await world.answer(command, alice, options={"member": carol}, guild=elsewhere)
        assert reply.ephemeral
        assert "isn't in this server" in reply.text()
    assert world.spotify.requests_to("/v1/me/top") == []

    world.discord.add_member(elsewhere.id, carol)
    joined = await world.answer("top artists", alice, options={"member": carol}, guild=elsewhere)
    assert not joined.ephemeral and "carol" in joined.text()
    still_hidden = await world.answer("top artists", alice, options={"member": carol})
    assert still_hidden.ephemeral and "private" in still_hidden.text()


@pytest.mark.parametrize("world_settings", [{"DISCORD_MEMBERS_INTENT": True}])
async def test_the_choice_to_hide_survives_leaving_and_rejoining(world: World) -> None:
    alice, bob, carol = world.members
    for member, spotify_user in zip(world.members, ("user0", "user1", "user2"), strict=True):
        await world.link(member, spotify_user)
    await world.answer("privacy", carol, options={"visible": False})

    await world.remove_member(carol)
    world.discord.add_member(world.guild.id, carol)
    await world.membership_stored(carol, True)

    reply = await world.answer("top artists", alice, options={"member": carol})
    assert reply.ephemeral and "private" in reply.text()
    board = await world.answer("leaderboard artists", bob)
    assert "2 members" in board.text()
    assert "**hidden**" in (await world.answer("privacy", carol)).text()


async def test_a_member_who_left_unseen_stops_counting_once_discord_says_so(
    world: World,
) -> None:
    alice, _, carol = world.members
    for member, spotify_user in zip(world.members, ("user0", "user1", "user2"), strict=True):
        await world.link(member, spotify_user)
    await world.bot.services.members.drain()
    assert "3 members" in (await world.answer("leaderboard artists", alice)).text()

    world.discord.remove_member(world.guild.id, carol.id)  # no event: no members intent
    assert "3 members" in (await world.answer("leaderboard artists", alice)).text()
    reply = await world.answer("top artists", alice, options={"member": carol})
    assert reply.ephemeral and "isn't in this server" in reply.text()
    assert "2 members" in (await world.answer("leaderboard artists", alice)).text()
