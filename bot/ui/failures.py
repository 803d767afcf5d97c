"""Short, actionable texts for the failures a member can do something about."""

from __future__ import annotations

import math

from bot import domain as service
from bot.spotify import errors as spotify
from bot.spotify.ids import InvalidSpotifyRef
from bot.store.compat import NoListeningData

_SCOPE_PURPOSES = {
    "user-top-read": "your top artists and tracks",
    "user-library-read": "reading your library",
    "user-library-modify": "saving to your library",
    "user-follow-read": "who you follow",
    "user-follow-modify": "following and unfollowing",
    "playlist-read-private": "your playlists",
    "playlist-modify-private": "creating playlists",
    "playlist-modify-public": "creating playlists",
}

NOT_LINKED = "You haven't linked Spotify yet. Run `/link` to connect your account."
RELINK = "Spotify no longer accepts your link. Run `/link` to connect again."
WITHOUT_LINK = (
    "You still count without a link: your Spotify status in Discord (in servers that record "
    "listening) and `/import`."
)
"""What still works for a member Spotify will not let this bot link (issue 14)."""
NOT_ALLOW_LISTED = (
    "Spotify won't serve your account to this bot yet: its Spotify app is in Development Mode "
    "and only allows accounts added by its owner (at most 5). Ask a server admin to add your "
    "Spotify e-mail under **User Management** in the Spotify Developer Dashboard, then run "
    "`/link` again.\n" + WITHOUT_LINK
)
SPOTIFY_TROUBLE = "Spotify is having trouble right now. Please try again in a few minutes."


def human_wait(seconds: float) -> str:
    """A wait rounded up to what a person reads: "1 s", "45 s", "3 min", "2 h"."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{math.ceil(seconds / 60)} min"
    return f"{math.ceil(seconds / 3600)} h"


def _missing_scope(error: spotify.MissingScope) -> str:
    purposes = dict.fromkeys(_SCOPE_PURPOSES.get(scope, scope) for scope in error.scopes)
    needed = f" ({', '.join(purposes)})" if purposes else ""
    return f"Encore needs a permission you haven't granted{needed}. Run `/link` again to grant it."


def describe_failure(exc: BaseException) -> str | None:
    """The member-facing text for `exc`, or None when it is unexpected (log it, say sorry)."""
    match exc:
        case service.NotLinked():
            return NOT_LINKED
        case service.LinkBroken() | spotify.InvalidGrant() | spotify.Unauthorized():
            return RELINK
        case service.MemberHidden():
            return "That member keeps their Spotify activity private in this server."
        case service.MemberNotLinked():
            return "That member hasn't linked Spotify yet."
        case service.NotAMember():
            return "That member isn't in this server."
        case NoListeningData():
            return (
                "There are no top artists or tracks stored for that member yet. "
                "Try again in a few minutes."
            )
        case service.RecordingOff():
            return (
                "You switched recording of your listening off, so Encore imports nothing for "
                "you. Run `/privacy record:true` first if you want to import your history."
            )
        case service.NotEnoughPlays():
            recorded = (
                f"No plays are recorded for {exc.year}"
                if exc.plays == 0
                else f"Only {exc.plays} {'play is' if exc.plays == 1 else 'plays are'} recorded "
                f"for {exc.year}"
            )
            return (
                f"{recorded}; a wrapped needs at least {exc.needed}. Plays come from Spotify "
                "status in Discord (where the server records it) and `/import`."
            )
        case service.TooFast():
            return f"You're doing that too often. Try again in {human_wait(exc.retry_after)}."
        case service.InvalidInput():
            return exc.message
        case InvalidSpotifyRef():
            return str(exc)
        case spotify.NotAllowListed():
            return NOT_ALLOW_LISTED
        case spotify.MissingScope():
            return _missing_scope(exc)
        case spotify.QuotaExceeded():
            when = f"in {human_wait(exc.retry_after)}" if exc.retry_after else "later"
            return (
                f"This bot has used up its Spotify quota for now. Try again {when}, "
                "or tell the bot's operator if it keeps happening."
            )
        case spotify.RateLimited():
            return f"Spotify asked us to slow down. Try again in {human_wait(exc.retry_after)}."
        case spotify.SpotifyUnavailable() | TimeoutError():
            return SPOTIFY_TROUBLE
        case spotify.InvalidClient():
            return "The bot's Spotify settings are wrong. Please tell the bot's operator."
        case spotify.NotFound():
            return "Spotify couldn't find that."
        case _:
            return None
