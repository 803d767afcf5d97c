"""Benchmark: how fast the real bot sends its first callback when many commands come at once.

Runs Encore as the end-to-end tests do (in this process, against the Discord stand-in, the
Spotify sandbox and a fresh SQLite file, or --database). N members are linked cheaply (link
rows holding encrypted sandbox tokens) and their top artists are fetched once, so the stored
snapshots are fresh. After a short sequential warm-up, I interactions are dispatched at once,
alternating /profile and /top artists, each from a different member (wrapping when I > N).

Measured per interaction, from the stand-in dispatching INTERACTION_CREATE to the bot's first
callback reaching it (what Discord's 3 s deadline is about), against the target p99 <= 100 ms;
and, for information, until the bot's last request for the answer. The stand-in's deadline is
lifted so late callbacks are timed too; how many were past 3 s is printed.

The stand-ins share the bot's event loop, so their work counts against the bot. The "floor"
line puts the same burst through a bare discord.py client whose command only defers: what
this harness, discord.py and aiohttp cost before the bot does anything of its own.

    .venv/bin/python bench/interactions.py
    .venv/bin/python bench/interactions.py --members 1000 --interactions 400 --rounds 3
    .venv/bin/python bench/interactions.py --database postgresql://user@host/empty_db
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
from cryptography.fernet import Fernet
from discord import app_commands
from sqlalchemy import insert

from bot.app import Encore
from bot.config import Settings, load_settings
from bot.db.engine import create_engine, make_session_factory, session_scope
from bot.db.migrate import upgrade_to_head
from bot.db.models import ItemKind, LinkStatus, SpotifyLink
from bot.db.vault import TokenVault
from bot.sandbox.discord import DiscordStandIn, StandInInteraction, StandInUser
from bot.sandbox.discord_client import running_client
from bot.sandbox.spotify import SpotifySandbox
from bot.spotify.oauth import SCOPES

TARGET_P99_MS = 100.0
COMMANDS = ("profile", "top artists")
WARM_UP = 10
POLL = 0.02
DISCORD_DEADLINE_MS = 3000.0
UNBOUNDED_DEADLINE = 600.0
"""The stand-in's callback deadline during a burst, so that late callbacks are timed too."""
FIRST_MEMBER_ID = 10**17


@dataclass(frozen=True)
class Options:
    members: int
    interactions: int
    rounds: int
    database: str | None


def parse_args() -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200, help="linked members (N)")
    parser.add_argument("--interactions", type=int, default=200, help="fired at once (I)")
    parser.add_argument("--rounds", type=int, default=1, help="bursts, one after the other")
    parser.add_argument("--database", help="an empty database's URL (default: a SQLite file)")
    args = parser.parse_args()
    return Options(args.members, args.interactions, args.rounds, args.database)


def settings_for(
    data_dir: Path, sandbox: SpotifySandbox, key: str, database: str | None
) -> Settings:
    return load_settings(
        _env_file=None,
        DISCORD_TOKEN="standin-token",
        SPOTIFY_CLIENT_ID="sandbox-client",
        SPOTIFY_CLIENT_SECRET="sandbox-secret",
        SPOTIFY_API_URL=sandbox.api_url,
        SPOTIFY_ACCOUNTS_URL=sandbox.accounts_url,
        DATA_DIR=data_dir,
        DATABASE_URL=database or f"sqlite+aiosqlite:///{data_dir / 'encore.db'}",
        TOKEN_ENCRYPTION_KEY=key,
        WEB_HOST="127.0.0.1",
        WEB_PORT=0,
        LOG_LEVEL="WARNING",
    )


async def link_members(
    settings: Settings, sandbox: SpotifySandbox, vault: TokenVault, count: int
) -> list[int]:
    """Link rows as a finished /link leaves them, written in one insert."""
    await upgrade_to_head(settings.DATABASE_URL)
    engine = create_engine(settings.DATABASE_URL)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for number, user in enumerate(sandbox.add_users(count)):
        tokens = sandbox.issue_tokens(user.id)
        rows.append(
            {
                "discord_user_id": FIRST_MEMBER_ID + number,
                "spotify_account_id": user.account_id,
                "spotify_user_id": user.id,
                "display_name": user.display_name,
                "access_token_enc": vault.encrypt(tokens["access_token"]),
                "refresh_token_enc": vault.encrypt(tokens["refresh_token"]),
                "access_expires_at": now + timedelta(seconds=tokens["expires_in"]),
                "scopes": " ".join(SCOPES),
                "authorized_at": now,
                "linked_at": now,
                "status": LinkStatus.ACTIVE,
                "synced_at": now,
                "sync_due_at": now + timedelta(days=1),
            }
        )
    async with session_scope(make_session_factory(engine)) as session:
        await session.execute(insert(SpotifyLink), rows)
    await engine.dispose()
    return [int(row["discord_user_id"]) for row in rows]


async def take_snapshots(bot: Encore, member_ids: list[int]) -> None:
    """Each member's top artists, fetched from the sandbox once and stored.

    One at a time: concurrent snapshot upserts can deadlock on PostgreSQL (the catalog rows
    are locked in each list's own order).
    """
    for member_id in member_ids:
        await bot.services.top.refresh(member_id, ItemKind.ARTIST, "medium_term", interactive=False)


async def fire(
    standin: DiscordStandIn,
    guild_id: int,
    users: list[StandInUser],
    commands: tuple[str, ...],
    count: int,
    shift: int = 0,
) -> list[StandInInteraction]:
    """Dispatch `count` commands without waiting for any answer in between."""
    return [
        await standin.invoke(
            commands[(shift + n) % len(commands)],
            user=users[(shift + n) % len(users)],
            guild_id=guild_id,
        )
        for n in range(count)
    ]


async def bursts(
    standin: DiscordStandIn,
    guild_id: int,
    users: list[StandInUser],
    commands: tuple[str, ...],
    options: Options,
) -> tuple[list[float], list[float]]:
    """A sequential warm-up, then `options.rounds` bursts; timings of every burst."""
    for n in range(WARM_UP):
        await settle(standin, await fire(standin, guild_id, users, commands, 1, n), patience=10)
    first: list[float] = []
    complete: list[float] = []
    for round_number in range(options.rounds):
        interactions = await fire(
            standin, guild_id, users, commands, options.interactions, round_number
        )
        round_first, round_complete = await settle(standin, interactions, patience=300)
        first += round_first
        complete += round_complete
    return first, complete


def answered(interaction: StandInInteraction) -> bool:
    return interaction.response is not None and any(
        not message.loading and not message.deleted for message in interaction.messages
    )


async def settle(
    standin: DiscordStandIn, interactions: list[StandInInteraction], patience: float
) -> tuple[list[float], list[float]]:
    """Milliseconds to the first callback and to the bot's last request for the answer.

    Polls rather than waiting on each interaction: hundreds of waiters woken at every change
    of the stand-in would cost the shared event loop more than the bot's own work.
    """
    for _ in range(int(patience / POLL)):
        if all(answered(i) for i in interactions):
            break
        await asyncio.sleep(POLL)
    else:
        missing = sum(1 for i in interactions if not answered(i))
        raise TimeoutError(f"{missing} interactions were not answered within {patience:g} s")
    last: dict[str, float] = {}
    for request in standin.requests:
        for token in request.path.split("/"):
            last[token] = max(last.get(token, 0.0), request.at)
    first = []
    complete = []
    for interaction in interactions:
        assert interaction.response is not None
        first.append((interaction.response.at - interaction.created_at) * 1000)
        complete.append((last[interaction.token] - interaction.created_at) * 1000)
    return first, complete


def percentiles(values: list[float]) -> str:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return (
        f"p50 {cuts[49]:7.1f}  p95 {cuts[94]:7.1f}  p99 {cuts[98]:7.1f}  max {max(values):7.1f} ms"
    )


class DeferOnly(discord.Client):
    """The least any bot can do: a bare discord.py client whose one command defers first."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default())
        self.tree = app_commands.CommandTree(self)
        self.tree.command(name="ping", description="Defer and nothing else")(self.ping)

    async def ping(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("pong")

    async def setup_hook(self) -> None:
        await self.tree.sync()


async def run_encore(options: Options, data_dir: Path) -> tuple[list[float], list[float]]:
    key = Fernet.generate_key().decode()
    async with SpotifySandbox(users=0) as sandbox, DiscordStandIn() as standin:
        settings = settings_for(data_dir, sandbox, key, options.database)
        member_ids = await link_members(settings, sandbox, TokenVault([key]), options.members)
        users = [
            standin.add_user(member_id, f"member{n}") for n, member_id in enumerate(member_ids)
        ]
        guild = standin.add_guild(name="Bench", members=users)
        standin.interaction_deadline = UNBOUNDED_DEADLINE
        bot = Encore(settings, guild_ready_timeout=0.05)
        async with running_client(standin, bot):
            await asyncio.wait_for(bot.wait_until_ready(), 30)
            started = time.monotonic()
            await take_snapshots(bot, member_ids)
            print(f"snapshots          {len(member_ids)} in {time.monotonic() - started:.1f} s")
            return await bursts(standin, guild.id, users, COMMANDS, options)


async def run_floor(options: Options) -> list[float]:
    async with DiscordStandIn() as standin:
        users = [standin.add_user(name=f"member{n}") for n in range(options.members)]
        guild = standin.add_guild(name="Floor", members=users)
        standin.interaction_deadline = UNBOUNDED_DEADLINE
        async with running_client(standin, DeferOnly()):
            first, _ = await bursts(standin, guild.id, users, ("ping",), options)
            return first


def report(options: Options, first: list[float], complete: list[float], floor: list[float]) -> None:
    p99 = statistics.quantiles(first, n=100, method="inclusive")[98]
    verdict = "met" if p99 <= TARGET_P99_MS else "MISSED"
    late = sum(1 for ms in first if ms > DISCORD_DEADLINE_MS)
    kinds = " and ".join(f"/{c}" for c in COMMANDS)
    print(f"members            {options.members} linked, fresh snapshots")
    print(f"burst              {options.interactions} at once x {options.rounds} ({kinds})")
    target = f"target p99 <= {TARGET_P99_MS:g} ms: {verdict}"
    print(f"first callback     {percentiles(first)}   {target}")
    print(f"  past Discord's 3 s deadline: {late} of {len(first)}")
    print(f"answer complete    {percentiles(complete)}   (for information)")
    print(f"floor              {percentiles(floor)}   (bare discord.py client, defer first)")


async def run(options: Options, data_dir: Path) -> None:
    first, complete = await run_encore(options, data_dir)
    floor = await run_floor(options)
    report(options, first, complete, floor)


def main() -> None:
    options = parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="encore-bench-") as data_dir:
        asyncio.run(run(options, Path(data_dir)))


if __name__ == "__main__":
    main()
