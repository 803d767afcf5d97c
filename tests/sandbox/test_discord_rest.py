"""The stand-in's REST API, driven by hand the way Discord's documentation describes it."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from sandbox.discord import DiscordStandIn, StandInGuild, StandInInteraction, StandInUser
from tests.helpers.discord_standin import RawGateway, raw_gateway

PING = {
    "name": "ping",
    "description": "Ping",
    "options": [{"type": 3, "name": "text", "description": "Text", "autocomplete": True}],
}


@dataclass
class Env:
    standin: DiscordStandIn
    guild: StandInGuild
    alice: StandInUser
    gateway: RawGateway
    http: aiohttp.ClientSession

    def url(self, path: str) -> str:
        return self.standin.api_url + path

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.http.request(method, self.url(path), **kwargs) as response:
            text = await response.text()
            return response.status, json.loads(text) if text else None

    async def interaction(self, command: str = "ping", **options: Any) -> StandInInteraction:
        interaction = await self.standin.invoke(
            command, user=self.alice, guild_id=self.guild.id, options=options
        )
        await self.gateway.dispatched("INTERACTION_CREATE")
        return interaction

    async def callback(
        self, interaction: StandInInteraction, body: dict[str, Any], query: str = ""
    ) -> tuple[int, Any]:
        path = f"/interactions/{interaction.id}/{interaction.token}/callback{query}"
        return await self.call("POST", path, json=body)

    def webhook(self, interaction: StandInInteraction) -> str:
        return f"/webhooks/{self.standin.application_id}/{interaction.token}"


@pytest.fixture
async def env(discord_standin: DiscordStandIn) -> AsyncIterator[Env]:
    alice = discord_standin.add_user(name="alice")
    guild = discord_standin.add_guild(members=[alice])
    headers = {"Authorization": f"Bot {discord_standin.token}"}
    async with (
        raw_gateway(discord_standin) as gateway,
        aiohttp.ClientSession(headers=headers) as http,
    ):
        await gateway.identify(discord_standin.token)
        await discord_standin.wait_until_ready()
        setup = Env(discord_standin, guild, alice, gateway, http)
        path = f"/applications/{discord_standin.application_id}/commands"
        assert (await setup.call("PUT", path, json=[PING]))[0] == 200
        yield setup


async def test_rest_needs_the_bot_token(env: Env) -> None:
    async with (
        aiohttp.ClientSession() as anonymous,
        anonymous.get(env.url("/users/@me")) as response,
    ):
        assert response.status == 401
        assert response.headers["Content-Type"] == "application/json"

    status, me = await env.call("GET", "/users/@me")
    assert status == 200
    assert me["id"] == str(env.standin.bot.id)
    assert me["bot"] is True


async def test_unknown_route_is_answered_404_and_recorded(env: Env) -> None:
    status, body = await env.call("GET", f"/guilds/{env.guild.id}/bans")

    assert status == 404
    assert body == {"message": "404: Not Found", "code": 0}
    assert [(r.method, r.path) for r in env.standin.unknown_requests] == [
        ("GET", f"/guilds/{env.guild.id}/bans")
    ]
    env.standin.unknown_requests.clear()


async def test_gateway_bot_points_at_the_stand_in(env: Env) -> None:
    env.standin.recommended_shards = 3

    status, body = await env.call("GET", "/gateway/bot")

    assert status == 200
    assert body["url"] == env.standin.gateway_url
    assert body["shards"] == 3
    assert body["session_start_limit"]["max_concurrency"] == 1


async def test_callback_with_response_describes_the_message(env: Env) -> None:
    interaction = await env.interaction(text="hi")
    body = {"type": 4, "data": {"content": "pong", "flags": 64}}

    status, answer = await env.callback(interaction, body, "?with_response=true")

    message = interaction.original
    assert status == 200 and message is not None
    assert answer["interaction"] == {
        "id": str(interaction.id),
        "type": 2,
        "response_message_id": str(message.id),
        "response_message_loading": False,
        "response_message_ephemeral": True,
    }
    assert answer["resource"]["type"] == 4
    assert answer["resource"]["message"]["content"] == "pong"


async def test_second_callback_is_refused(env: Env) -> None:
    interaction = await env.interaction()
    assert (await env.callback(interaction, {"type": 5}))[0] == 204

    status, body = await env.callback(interaction, {"type": 4, "data": {"content": "x"}})

    assert (status, body["code"]) == (400, 40060)
    assert interaction.response is not None and interaction.response.type == 5


async def test_late_callback_is_an_unknown_interaction(env: Env) -> None:
    env.standin.interaction_deadline = 0
    interaction = await env.interaction()

    status, body = await env.callback(interaction, {"type": 4, "data": {"content": "late"}})

    assert (status, body["code"]) == (404, 10062)
    assert interaction.response is None


async def test_followup_needs_an_acknowledged_interaction(env: Env) -> None:
    interaction = await env.interaction()

    status, body = await env.call("POST", env.webhook(interaction), json={"content": "early"})

    assert (status, body["code"]) == (404, 10015)


async def test_first_followup_fills_the_deferred_reply(env: Env) -> None:
    interaction = await env.interaction()
    await env.callback(interaction, {"type": 5, "data": {"flags": 64}})
    placeholder = interaction.original
    assert placeholder is not None and placeholder.loading

    _, first = await env.call(
        "POST", env.webhook(interaction) + "?wait=true", json={"content": "a"}
    )
    _, second = await env.call("POST", env.webhook(interaction) + "?wait=1", json={"content": "b"})

    assert first["id"] == str(placeholder.id)
    assert placeholder.content == "a"
    assert placeholder.ephemeral and not placeholder.loading
    assert second["id"] != first["id"]
    assert [m.content for m in interaction.messages] == ["a", "b"]


async def test_original_response_can_be_read_edited_and_deleted(env: Env) -> None:
    interaction = await env.interaction()
    await env.callback(interaction, {"type": 4, "data": {"content": "v1"}})
    original = env.webhook(interaction) + "/messages/@original"

    assert (await env.call("GET", original))[1]["content"] == "v1"
    assert (await env.call("PATCH", original, json={"content": "v2"}))[1]["content"] == "v2"
    assert (await env.call("DELETE", original))[0] == 204
    assert (await env.call("GET", original))[1]["code"] == 10008
    assert interaction.original is not None
    assert [r.content for r in interaction.original.revisions] == ["v1", "v2"]


async def test_too_long_embed_is_refused(env: Env) -> None:
    interaction = await env.interaction()
    embed = {"title": "t", "description": "x" * 4097}

    status, body = await env.callback(interaction, {"type": 4, "data": {"embeds": [embed]}})

    assert (status, body["code"]) == (400, 50035)
    assert "embeds" in body["errors"]
    assert interaction.response is None


async def test_empty_message_is_refused(env: Env) -> None:
    interaction = await env.interaction()

    status, body = await env.callback(interaction, {"type": 4, "data": {"content": ""}})

    assert (status, body["code"]) == (400, 50006)


async def test_autocomplete_answer_is_checked(env: Env) -> None:
    typing = asyncio.create_task(
        env.standin.autocomplete(
            "ping", user=env.alice, guild_id=env.guild.id, focused="text", options={"text": "c"}
        )
    )
    frame = await env.gateway.dispatched("INTERACTION_CREATE")
    interaction = env.standin.interactions[-1]
    assert frame["d"]["data"]["options"] == [
        {"type": 3, "name": "text", "value": "c", "focused": True}
    ]
    too_many = [{"name": f"c{i}", "value": f"c{i}"} for i in range(26)]

    refused, _ = await env.callback(interaction, {"type": 8, "data": {"choices": too_many}})
    accepted, _ = await env.callback(interaction, {"type": 8, "data": {"choices": too_many[:2]}})

    assert (refused, accepted) == (400, 204)
    assert await typing == too_many[:2]


async def test_channel_message_files_and_edits(env: Env) -> None:
    channel = f"/channels/{env.guild.channel_id}/messages"
    form = aiohttp.FormData(quote_fields=False)
    payload = {
        "content": "two files",
        "attachments": [{"id": 0, "filename": "a.txt"}, {"id": 1, "filename": "b.txt"}],
    }
    form.add_field("payload_json", json.dumps(payload))
    form.add_field("files[0]", b"A", filename="a.txt")
    form.add_field("files[1]", b"B", filename="b.txt")

    status, sent = await env.call("POST", channel, data=form)
    assert status == 200
    first, second = sent["attachments"]
    async with env.http.get(first["url"]) as download:
        assert await download.read() == b"A"

    kept = {"attachments": [{"id": second["id"]}]}
    _, edited = await env.call("PATCH", f"{channel}/{sent['id']}", json=kept)
    assert [a["filename"] for a in edited["attachments"]] == ["b.txt"]

    await env.call("POST", channel, json={"content": "newer"})
    _, listed = await env.call("GET", channel + "?limit=10")
    assert [m["content"] for m in listed] == ["newer", "two files"]

    assert (await env.call("DELETE", f"{channel}/{sent['id']}"))[0] == 204
    assert (await env.call("GET", f"{channel}/{sent['id']}"))[1]["code"] == 10008
    assert [m.content for m in env.standin.channel_messages(env.guild.channel_id)] == ["newer"]


async def test_message_to_an_unknown_channel_is_refused(env: Env) -> None:
    status, body = await env.call("POST", "/channels/1/messages", json={"content": "x"})

    assert (status, body["code"]) == (404, 10003)


async def test_command_sync_keeps_ids_and_counts(env: Env) -> None:
    app = f"/applications/{env.standin.application_id}"
    (before,) = env.standin.registered_commands()

    _, (after,) = await env.call("PUT", f"{app}/commands", json=[{**PING, "description": "New"}])
    _, guild_commands = await env.call("PUT", f"{app}/guilds/{env.guild.id}/commands", json=[PING])
    created, extra = await env.call("POST", f"{app}/commands", json={**PING, "name": "pong"})

    assert after["id"] == before["id"]
    assert after["description"] == "New"
    assert guild_commands[0]["guild_id"] == str(env.guild.id)
    assert created == 201
    assert env.standin.sync_count() == 2
    assert env.standin.sync_count(env.guild.id) == 1
    assert (await env.call("DELETE", f"{app}/commands/{extra['id']}"))[0] == 204
    assert (await env.call("GET", f"{app}/commands/{extra['id']}"))[0] == 404
    assert [c["name"] for c in env.standin.registered_commands()] == ["ping"]


async def test_invalid_command_is_refused(env: Env) -> None:
    path = f"/applications/{env.standin.application_id}/commands"

    status, body = await env.call("PUT", path, json=[{**PING, "name": "Ping"}])

    assert (status, body["code"]) == (400, 50035)
    assert body["errors"]["0"]["name"]["_errors"]
    assert env.standin.sync_count() == 1


async def test_guild_member_lookup(env: Env) -> None:
    members = f"/guilds/{env.guild.id}/members"

    status, member = await env.call("GET", f"{members}/{env.alice.id}")
    missing, body = await env.call("GET", f"{members}/42")

    assert status == 200
    assert member["user"]["username"] == "alice"
    assert (missing, body["code"]) == (404, 10007)
