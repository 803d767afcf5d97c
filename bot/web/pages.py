"""Small self-contained HTML pages for the OAuth callback (no external assets)."""

from __future__ import annotations

from html import escape

from bot.services.linking import LinkFailure
from bot.spotify.brand import SPOTIFY_GREEN_CSS

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Encore</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#121212;color:#eee;
display:flex;min-height:100vh;margin:0;align-items:center;justify-content:center}}
main{{max-width:32rem;padding:2rem;border-radius:12px;background:#1e1e1e;text-align:center}}
h1{{font-size:1.4rem;color:{accent}}} p{{line-height:1.5}}
</style></head>
<body><main><h1>{title}</h1>{body}</main></body></html>
"""

_FAILURES: dict[LinkFailure, tuple[str, str]] = {
    LinkFailure.MISSING_PARAMETERS: (
        "This link is incomplete",
        "The address is missing what Spotify should have added. Run <b>/link</b> in Discord "
        "and follow the new link.",
    ),
    LinkFailure.UNKNOWN_STATE: (
        "This link is not valid",
        "It was already used, or it did not come from Encore. Run <b>/link</b> in Discord "
        "for a fresh one.",
    ),
    LinkFailure.EXPIRED_STATE: (
        "This link has expired",
        "Links are valid for 10 minutes. Run <b>/link</b> in Discord for a fresh one.",
    ),
    LinkFailure.ACCESS_DENIED: (
        "Linking cancelled",
        "You did not allow access on Spotify, so nothing was linked. Run <b>/link</b> again "
        "whenever you like.",
    ),
    LinkFailure.CODE_REFUSED: (
        "Spotify did not accept this sign-in",
        "The sign-in code was refused (it may have been used already). Run <b>/link</b> "
        "in Discord and try again.",
    ),
    LinkFailure.NOT_ALLOW_LISTED: (
        "This Spotify account is not allowed yet",
        "This bot's Spotify app is in Development Mode and serves only accounts its owner "
        "added. Ask the server admin to add your Spotify e-mail under <b>User Management</b> "
        "in the Spotify Developer Dashboard, then run <b>/link</b> again. Until then you "
        "still count: in servers that record listening, the Spotify track in your Discord "
        "status becomes plays, and <b>/import</b> takes the streaming-history files you can "
        "download from Spotify.",
    ),
    LinkFailure.ACCOUNT_UNREADABLE: (
        "Your Spotify account could not be read",
        "Spotify did not answer as expected. Please run <b>/link</b> again in a few minutes.",
    ),
    LinkFailure.MISCONFIGURED: (
        "Encore is not set up correctly",
        "Spotify refused this bot's credentials. Please tell the server admin: the bot's "
        "Spotify client ID, secret or redirect URI needs fixing.",
    ),
}


def success_page(display_name: str, moved: bool) -> str:
    moved_note = (
        "<p>This Spotify account was linked to another Discord member before; it is now "
        "linked to you only.</p>"
        if moved
        else ""
    )
    body = (
        f"<p>Your Discord account is now linked to Spotify as <b>{escape(display_name)}</b>.</p>"
        f"{moved_note}<p>You can close this tab and go back to Discord.</p>"
    )
    return _TEMPLATE.format(title="Linked!", accent=SPOTIFY_GREEN_CSS, body=body)


def failure_page(failure: LinkFailure) -> str:
    title, body = _FAILURES[failure]
    return _TEMPLATE.format(title=escape(title), accent="#e22134", body=f"<p>{body}</p>")


def error_page() -> str:
    return _TEMPLATE.format(
        title="Something went wrong",
        accent="#e22134",
        body="<p>Encore could not finish linking. Run <b>/link</b> in Discord to try again.</p>",
    )
