"""Rendering of /crowns: the artists where a member leads the server by all-time plays."""

from __future__ import annotations

from bot.store.crowns import CROWN_MIN_PLAYS, Crown
from bot.ui.plays import played_line, plays_text
from bot.ui.sources import ItemPageSource
from bot.ui.text import escape

CROWN = "👑"
HOW_EARNED = (
    f"A crown goes to the member with the most all-time plays of an artist in this server, "
    f"with at least {CROWN_MIN_PLAYS} plays; a tie goes to whoever got there first."
)


def _detail(crown: Crown) -> str:
    second = "no runner-up" if crown.runner_up is None else f"runner-up {crown.runner_up}"
    return f"{plays_text(crown.plays)} · {second}"


def crowns_source(crowns: list[Crown], owner_name: str, guild_name: str) -> ItemPageSource:
    owner = f"{owner_name}'" if owner_name.endswith("s") else f"{owner_name}'s"
    count = "1 crown" if len(crowns) == 1 else f"{len(crowns)} crowns"
    return ItemPageSource.from_lines(
        f"{CROWN} {owner} crowns in {guild_name}",
        [played_line(crown.artist, _detail(crown)) for crown in crowns],
        footer=f"{count} · by plays · all time",
    )


def no_crowns(owner_name: str, own: bool, *, hidden: bool = False) -> str:
    if hidden:
        return (
            "You are hidden in this server's rankings, so you hold no crowns here. "
            "`/privacy visible:True` to count again."
        )
    who = "You hold" if own else f"{escape(owner_name)} holds"
    return f"{who} no crowns in this server yet. {HOW_EARNED}"
