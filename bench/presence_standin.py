"""Benchmark: how fast the Discord stand-in emits Spotify presence updates, and how fast a bare
discord.py client (members and presences intents, no handlers) takes them in.

One guild of `--members` members, `--listening` of whom change track `--rounds` times; every
update goes out through `DiscordStandIn.play_spotify_many` in one batch per round. Both sides
run in this one process and event loop, so the figures are a floor for what a presence
benchmark of the bot can drive, not the bot's own figure (the issue's target for the bot is
≥ 2,000 updates per second).

    .venv/bin/python bench/presence_standin.py
    .venv/bin/python bench/presence_standin.py --members 10000 --listening 2000 --rounds 10
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's sandbox/

from sandbox.discord import DiscordStandIn, SpotifyPlay, SpotifyTrack
from sandbox.discord_client import running_client

TRACKS = [
    SpotifyTrack(
        id=f"{n:022d}",
        title=f"Track {n}",
        artists=(f"Artist {n % 97}", f"Guest {n % 13}"),
        album=f"Album {n % 211}",
        cover_id=f"ab67616d0000b273{n:024x}",
        duration_ms=150_000 + n * 997 % 120_000,
    )
    for n in range(500)
]


async def run(members: int, listening: int, rounds: int) -> None:
    intents = discord.Intents.none()
    intents.guilds = intents.members = intents.presences = True
    received = 0
    expected = listening * rounds
    all_seen = asyncio.Event()
    client = discord.Client(intents=intents, max_messages=None, chunk_guilds_at_startup=False)

    @client.event
    async def on_presence_update(before: discord.Member, after: discord.Member) -> None:
        nonlocal received
        received += 1
        if received >= expected:
            all_seen.set()

    async with DiscordStandIn() as standin:
        users = [standin.add_user(name=f"m{n}") for n in range(members)]
        standin.add_guild(members=users)
        async with running_client(standin, client, timeout=120):
            start = datetime.now(UTC)
            dispatch_seconds = 0.0
            began = time.perf_counter()
            for round_ in range(rounds):
                plays: list[SpotifyPlay] = [
                    (user, TRACKS[(n + round_) % len(TRACKS)], start + timedelta(minutes=round_))
                    for n, user in enumerate(users[:listening])
                ]
                mark = time.perf_counter()
                standin.play_spotify_many(plays)
                dispatch_seconds += time.perf_counter() - mark
                await standin.flushed(timeout=600)
            await asyncio.wait_for(all_seen.wait(), 600)
            total = time.perf_counter() - began
    print(f"members {members}, listening {listening}, rounds {rounds}: {expected} updates")
    print(f"stand-in build + serialise: {expected / dispatch_seconds:,.0f} updates/s")
    print(f"through discord.py (same process): {received / total:,.0f} updates/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--listening", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=10)
    options = parser.parse_args()
    asyncio.run(run(options.members, options.listening, options.rounds))


if __name__ == "__main__":
    main()
