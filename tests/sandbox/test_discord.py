"""The real discord.py client, with a small bot defined here, against the Discord stand-in."""

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import discord
import pytest
from discord import app_commands
from discord.ext import commands
from PIL import Image

from sandbox.discord import DiscordStandIn, StandInGuild, StandInUser
from tests.helpers.discord_standin import running_client

TIME_RANGES = [
    app_commands.Choice(name="last 4 weeks", value="short_term"),
    app_commands.Choice(name="last 6 months", value="medium_term"),
]
ARTISTS = ["Daft Punk", "Dalida", "Portishead"]


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "purple").save(buffer, format="PNG")
    return buffer.getvalue()


class SaveButton(discord.ui.View):
    """Persistent: registered at start-up, answers clicks on any message carrying it."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Save", custom_id="share:save")
    async def save(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_message(
            f"Saved for {interaction.user.name}", ephemeral=True
        )


class Poll(discord.ui.View):
    @discord.ui.button(label="Vote", custom_id="poll:vote")
    async def vote(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content=f"{interaction.user.name} voted", view=None)

    @discord.ui.button(label="Close", custom_id="poll:close")
    async def close(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="Poll closed", view=None)


@app_commands.guild_only()
class Music(app_commands.Group):
    top = app_commands.Group(name="top", description="Top items")

    @top.command(name="artists", description="Your top artists")
    @app_commands.choices(time_range=TIME_RANGES)
    async def top_artists(
        self, interaction: discord.Interaction, time_range: app_commands.Choice[str]
    ) -> None:
        await interaction.response.send_message(f"Top artists ({time_range.value})")

    @app_commands.command(description="Compare with another member")
    async def compare(self, interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.defer()
        await asyncio.sleep(0.05)
        embed = discord.Embed(title="Compatibility", description=f"You and {member.name}: 42%")
        await interaction.edit_original_response(embed=embed)

    @app_commands.command(description="Find an artist")
    async def search(self, interaction: discord.Interaction, query: str) -> None:
        await interaction.response.send_message(f"You picked {query}", ephemeral=True)

    @search.autocomplete("query")
    async def search_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        found = [a for a in ARTISTS if a.lower().startswith(current.lower())]
        return [app_commands.Choice(name=a, value=a) for a in found]

    @app_commands.command(description="A chart image")
    async def chart(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        embed = discord.Embed(title="Chart").set_image(url="attachment://chart.png")
        file = discord.File(io.BytesIO(png(6, 4)), filename="chart.png")
        await interaction.followup.send(embed=embed, file=file)
        await interaction.followup.send("Tip: try /music top artists", ephemeral=True)

    @app_commands.command(description="Share to the channel")
    async def share(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Shared!", ephemeral=True)
        assert isinstance(interaction.channel, discord.TextChannel)
        await interaction.channel.send("Now playing: Teardrop", view=SaveButton())

    @app_commands.command(description="Start a poll")
    async def poll(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Vote now", view=Poll())


@app_commands.command(description="Say hello")
async def hello(interaction: discord.Interaction) -> None:
    where = interaction.guild.name if interaction.guild else "a DM"
    await interaction.response.send_message(f"Hello {interaction.user.name} from {where}")


class DemoBot(commands.Bot):
    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.members = True
        super().__init__(
            command_prefix=commands.when_mentioned, intents=intents, guild_ready_timeout=0.05
        )
        self.tree.add_command(Music())
        self.tree.add_command(hello)
        self.events: asyncio.Queue[tuple[str, int]] = asyncio.Queue()

    async def setup_hook(self) -> None:
        self.add_view(SaveButton())
        await self.tree.sync()

    async def on_member_join(self, member: discord.Member) -> None:
        self.events.put_nowait(("join", member.id))

    async def on_member_remove(self, member: discord.Member) -> None:
        self.events.put_nowait(("remove", member.id))

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        self.events.put_nowait(("guild_remove", guild.id))


@dataclass
class Demo:
    standin: DiscordStandIn
    bot: DemoBot
    guild: StandInGuild
    alice: StandInUser
    bob: StandInUser


@pytest.fixture
async def demo(discord_standin: DiscordStandIn) -> AsyncIterator[Demo]:
    alice = discord_standin.add_user(name="alice")
    bob = discord_standin.add_user(name="bob")
    guild = discord_standin.add_guild(name="Listening Club", members=[alice, bob])
    async with running_client(discord_standin, DemoBot()) as bot:
        yield Demo(discord_standin, bot, guild, alice, bob)


async def test_sync_registers_the_command_tree_with_ids(demo: Demo) -> None:
    music, hello = demo.standin.registered_commands()

    assert (music["name"], hello["name"]) == ("music", "hello")
    assert int(music["id"]) > 0
    assert music["contexts"] == [0]
    names = {o["name"]: o["type"] for o in music["options"]}
    assert names == {"top": 2, "compare": 1, "search": 1, "chart": 1, "share": 1, "poll": 1}
    assert demo.standin.sync_count() == 1
    assert demo.standin.requests_to("/applications/", "PUT")[0].status == 200


async def test_nested_subcommand_gets_its_choice(demo: Demo) -> None:
    interaction = await demo.standin.invoke(
        "music top artists",
        user=demo.alice,
        guild_id=demo.guild.id,
        options={"time_range": "short_term"},
    )

    message = await interaction.wait_message()
    assert message.content == "Top artists (short_term)"
    assert message.channel_id == demo.guild.channel_id
    assert demo.standin.channel_messages(demo.guild.channel_id) == [message]


async def test_deferred_reply_is_edited_with_the_resolved_member(demo: Demo) -> None:
    interaction = await demo.standin.invoke(
        "music compare", user=demo.alice, guild_id=demo.guild.id, options={"member": demo.bob}
    )

    response = await interaction.wait_response()
    message = await interaction.wait_message()
    assert response.type == 5
    assert interaction.deferred
    assert message.text() == "Compatibility\nYou and bob: 42%"
    assert [r.embeds for r in message.revisions] == [[], message.embeds]
    assert demo.standin.requests_to(f"/webhooks/{demo.standin.application_id}/", "PATCH")


async def test_autocomplete_returns_the_bots_choices(demo: Demo) -> None:
    choices = await demo.standin.autocomplete(
        "music search",
        user=demo.alice,
        guild_id=demo.guild.id,
        focused="query",
        options={"query": "da"},
    )

    assert choices == [
        {"name": "Daft Punk", "value": "Daft Punk"},
        {"name": "Dalida", "value": "Dalida"},
    ]


async def test_ephemeral_reply_stays_out_of_the_channel(demo: Demo) -> None:
    interaction = await demo.standin.invoke(
        "music search", user=demo.bob, guild_id=demo.guild.id, options={"query": "Dalida"}
    )

    message = await interaction.wait_message()
    assert message.content == "You picked Dalida"
    assert message.ephemeral and interaction.ephemeral
    assert demo.standin.channel_messages(demo.guild.channel_id) == []


async def test_followups_carry_the_chart_attachment_then_a_tip(demo: Demo) -> None:
    interaction = await demo.standin.invoke("music chart", user=demo.alice, guild_id=demo.guild.id)

    tip = await interaction.wait_message(lambda m: m.content.startswith("Tip"))
    chart, _ = interaction.messages
    assert chart is interaction.original
    assert chart.embeds[0]["image"]["url"] == "attachment://chart.png"
    (attachment,) = chart.attachments
    assert attachment.name == "chart.png"
    assert attachment.data == png(6, 4)
    assert attachment.image_size() == (6, 4)
    assert not chart.ephemeral
    assert tip.ephemeral


async def test_persistent_view_answers_another_member(demo: Demo) -> None:
    shared = await demo.standin.invoke("music share", user=demo.alice, guild_id=demo.guild.id)
    post = await demo.standin.wait_channel_message(demo.guild.channel_id)
    assert (await shared.wait_message()).ephemeral

    click = await demo.standin.click(post, "share:save", user=demo.bob)

    answer = await click.wait_message()
    assert answer.content == "Saved for bob"
    assert answer.ephemeral
    assert [b["label"] for b in post.buttons()] == ["Save"]


async def test_button_updates_its_message(demo: Demo) -> None:
    poll = await demo.standin.invoke("music poll", user=demo.alice, guild_id=demo.guild.id)
    message = await poll.wait_message()

    click = await demo.standin.click(message, "poll:vote", user=demo.bob)

    assert (await click.wait_response()).type == 7
    assert (await click.wait_message()) is message
    assert message.content == "bob voted"
    assert message.buttons() == []
    assert [e.content for e in message.edits] == ["bob voted"]


async def test_deferred_button_edits_its_message_later(demo: Demo) -> None:
    poll = await demo.standin.invoke("music poll", user=demo.alice, guild_id=demo.guild.id)
    message = await poll.wait_message()

    click = await demo.standin.click(message, "poll:close", user=demo.bob)

    edited = await click.wait_message()
    assert click.response is not None and click.response.type == 6
    assert edited is message
    assert message.content == "Poll closed"


async def test_only_the_recipient_can_click_an_ephemeral_message(demo: Demo) -> None:
    interaction = await demo.standin.invoke("music share", user=demo.alice, guild_id=demo.guild.id)
    ephemeral = await interaction.wait_message()
    ephemeral.components = [
        {"type": 1, "components": [{"type": 2, "style": 1, "label": "x", "custom_id": "x"}]}
    ]

    with pytest.raises(ValueError, match="only user"):
        await demo.standin.click(ephemeral, "x", user=demo.bob)


async def test_member_events_reach_the_bot(demo: Demo) -> None:
    carol = demo.standin.add_user(name="carol")

    demo.standin.add_member(demo.guild.id, carol)
    assert await asyncio.wait_for(demo.bot.events.get(), 5) == ("join", carol.id)
    demo.standin.remove_member(demo.guild.id, demo.bob.id)
    assert await asyncio.wait_for(demo.bot.events.get(), 5) == ("remove", demo.bob.id)

    guild = demo.bot.get_guild(demo.guild.id)
    assert guild is not None
    assert guild.get_member(carol.id) is not None
    assert guild.get_member(demo.bob.id) is None


async def test_guild_removal_reaches_the_bot(demo: Demo) -> None:
    demo.standin.remove_guild(demo.guild.id)

    assert await asyncio.wait_for(demo.bot.events.get(), 5) == ("guild_remove", demo.guild.id)
    assert demo.bot.get_guild(demo.guild.id) is None


async def test_command_runs_in_a_dm(demo: Demo) -> None:
    interaction = await demo.standin.invoke("hello", user=demo.alice)

    message = await interaction.wait_message()
    assert message.content == "Hello alice from a DM"
    assert message.guild_id is None
    assert message.channel_id != demo.guild.channel_id


async def test_guild_only_commands_are_not_offered_in_dms(demo: Demo) -> None:
    with pytest.raises(LookupError, match="not available in DMs"):
        await demo.standin.invoke("music search", user=demo.alice, options={"query": "x"})


async def test_invoke_needs_a_member_and_valid_options(demo: Demo) -> None:
    stranger = demo.standin.add_user(name="stranger")

    with pytest.raises(LookupError, match="not a member"):
        await demo.standin.invoke("hello", user=stranger, guild_id=demo.guild.id)
    with pytest.raises(ValueError, match="not one of the choices"):
        await demo.standin.invoke(
            "music top artists",
            user=demo.alice,
            guild_id=demo.guild.id,
            options={"time_range": "forever"},
        )
    assert demo.standin.interactions == []


async def test_click_needs_an_enabled_button(demo: Demo) -> None:
    poll = await demo.standin.invoke("music poll", user=demo.alice, guild_id=demo.guild.id)
    message = await poll.wait_message()

    with pytest.raises(LookupError, match="has \\['poll:vote', 'poll:close'\\]"):
        await demo.standin.click(message, "poll:nope", user=demo.bob)
    message.components[0]["components"][0]["disabled"] = True
    with pytest.raises(ValueError, match="disabled"):
        await demo.standin.click(message, "poll:vote", user=demo.bob)


async def test_an_interaction_knows_when_its_frame_left_for_the_bot(demo: Demo) -> None:
    interaction = await demo.standin.invoke(
        "music compare", user=demo.alice, guild_id=demo.guild.id, options={"member": demo.bob}
    )
    assert interaction.sent_at is None
    response = await interaction.wait_response()
    assert interaction.sent_at is not None
    assert interaction.created_at <= interaction.sent_at <= response.at
