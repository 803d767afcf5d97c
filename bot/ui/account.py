"""Embeds and views for /link, /unlink, /profile and /privacy."""

from __future__ import annotations

from datetime import datetime

import discord

from bot.services.accounts import LinkedAccount
from bot.services.linking import LinkFailure, LinkResult
from bot.services.sync import SyncOutcome
from bot.ui.failures import WITHOUT_LINK
from bot.ui.items import ACCENT
from bot.ui.text import escape

SPOTIFY_APPS_URL = "https://www.spotify.com/account/apps/"
_SENTENCE_ENDS = (".", "!", "?", "…")


def name_ending_sentence(name: str) -> str:
    """`**name**` closing a sentence, with a period unless the name brings its own
    ("Yuki W." must not read "Yuki W..")."""
    name = name.strip()
    stop = "" if name.endswith(_SENTENCE_ENDS) else "."
    return f"**{escape(name)}**{stop}"


def _when(moment: datetime, style: str = "D") -> str:
    return discord.utils.format_dt(moment, style)  # type: ignore[arg-type]


def link_view(url: str, label: str = "Link Spotify") -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(style=discord.ButtonStyle.link, url=url, label=label))
    return view


def link_prompt(existing: LinkedAccount | None) -> str:
    if existing is None:
        return (
            "Press **Link Spotify** to connect your Spotify account. The link is yours alone "
            "and works for 10 minutes."
        )
    return (
        f"You're linked as {name_ending_sentence(existing.display_name)} To link a different "
        "account (or renew this one), press **Relink Spotify** within 10 minutes."
    )


LOADING_NOTE = "⏳ Fetching your top artists and tracks for this server's leaderboards…"
READY_NOTE = "🎶 Your top artists and tracks are in: try `/top artists` or `/leaderboard artists`."
LATER_NOTE = (
    "Your top artists and tracks will be fetched in the background shortly; "
    "`/top artists` works right away."
)


def linked_message(result: LinkResult, first_sync: SyncOutcome | None) -> dict[str, object]:
    """The payload that replaces the /link reply once the callback succeeded: first while the
    member's lists are fetched (`first_sync` None), then once that fetch is over."""
    lines = [f"✅ Linked to Spotify as {name_ending_sentence(result.display_name)}"]
    if first_sync is None:
        lines.append(LOADING_NOTE)
    else:
        lines.append(READY_NOTE if first_sync is SyncOutcome.SYNCED else LATER_NOTE)
    return {"content": "\n".join(lines), "components": [], "embeds": []}


def unlinked_text(had_link: bool) -> str:
    """The /unlink reply; Encore can drop its tokens, but only the member can revoke the
    access they granted, in their Spotify account."""
    done = (
        "Unlinked. Encore deleted your Spotify tokens and everything it stored about you."
        if had_link
        else "You weren't linked, and Encore holds nothing about you now."
    )
    return (
        f"{done}\nTo also remove Encore's access on Spotify's side, open {SPOTIFY_APPS_URL} "
        "(Account → **Manage apps**) and press **Remove access** next to this bot's app."
    )


def link_failed_message(failure: LinkFailure) -> dict[str, object]:
    reasons = {
        LinkFailure.ACCESS_DENIED: "Linking was cancelled on Spotify.",
        LinkFailure.EXPIRED_STATE: "That link expired.",
        LinkFailure.LINKED_ELSEWHERE: (
            "That Spotify account is linked to another Discord member, so nothing changed. "
            "To link it to you, run `/unlink` as that member first. If you did not open the "
            "link yourself, someone else did: keep your /link links to yourself."
        ),
        LinkFailure.NOT_ALLOW_LISTED: (
            "Spotify refused: this bot's Spotify app only serves accounts its owner added. "
            "Ask a server admin to add your Spotify e-mail in the Spotify Developer Dashboard."
        ),
    }
    text = f"❌ {reasons.get(failure, 'Linking did not work.')} Run `/link` to try again."
    if failure is LinkFailure.NOT_ALLOW_LISTED:
        text = f"{text}\n{WITHOUT_LINK}"
    return {"content": text, "components": [], "embeds": []}


RELINK_FOR_HISTORY = (
    "Your Spotify link is older than Encore's listening history, so your Spotify plays are not "
    "recorded yet. Run `/link` again to allow it; everything else keeps working as it is."
)


def relink_for_history_text() -> str:
    """Said once, by the first history command a member linked before listening history uses."""
    return f"ℹ️ {RELINK_FOR_HISTORY}"


def profile_embed(account: LinkedAccount, *, own: bool = True) -> discord.Embed:
    embed = discord.Embed(
        title=escape(account.display_name), url=account.profile_url, colour=ACCENT
    )
    if account.avatar_url:
        embed.set_thumbnail(url=account.avatar_url)
    embed.add_field(name="Spotify profile", value=f"[Open]({account.profile_url})")
    embed.add_field(name="Linked since", value=_when(account.linked_at))
    embed.add_field(
        name="Renew by",
        value=f"{_when(account.renew_by)} ({_when(account.renew_by, 'R')})\n"
        "Spotify asks members to authorise again every 6 months: run `/link` before then.",
        inline=False,
    )
    if not account.listening_history:
        embed.add_field(
            name="Listening history",
            value=RELINK_FOR_HISTORY
            if own
            else "Linked before listening history: their Spotify plays are not recorded until "
            "they `/link` again.",
            inline=False,
        )
    return embed


def privacy_text(visible: bool, guild_name: str, changed: bool) -> str:
    state = "**visible**" if visible else "**hidden**"
    prefix = "Done: you are now" if changed else "You are"
    detail = (
        "You appear in leaderboards, who-knows and compatibility here, and others can view "
        "your top lists."
        if visible
        else "You don't appear in leaderboards or lookups here, and others cannot view your lists."
    )
    hint = "" if changed else " Use `/privacy visible:False` (or `True`) to change it."
    return f"{prefix} {state} in {escape(guild_name)}. {detail}{hint}"
