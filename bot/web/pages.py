"""Small self-contained HTML pages for /link and the OAuth callback (no external assets)."""

from __future__ import annotations

from html import escape

from bot.services.linking import LinkFailure, LinkPage
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
button{{font:inherit;font-weight:600;padding:.7rem 1.4rem;border:0;border-radius:2rem;
background:#1db954;color:#000;cursor:pointer}}
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
    LinkFailure.OTHER_BROWSER: (
        "This link was opened in another browser",
        "A <b>/link</b> link works only in the browser that opened it first, so nobody else "
        "can use it. Run <b>/link</b> in Discord again and open the new link yourself.",
    ),
    LinkFailure.FORM_REFUSED: (
        "This page could not be checked",
        "Encore did not recognise the form that was sent. Open the link from Discord again, "
        "or run <b>/link</b> for a fresh one.",
    ),
    LinkFailure.LINKED_ELSEWHERE: (
        "This Spotify account is linked to another Discord member",
        "Nothing was changed. To link this Spotify account here, first run <b>/unlink</b> "
        "in Discord as the member it is linked to now, then run <b>/link</b> again.",
    ),
    LinkFailure.MISCONFIGURED: (
        "Encore is not set up correctly",
        "Spotify refused this bot's credentials. Please tell the server admin: the bot's "
        "Spotify client ID, secret or redirect URI needs fixing.",
    ),
}


def start_page(page: LinkPage, state: str, action: str) -> str:
    """The page a /link button opens: whom it links, and one form that leads to Spotify."""
    member = escape(f"@{page.member_name}" if page.member_name else "the member who ran /link")
    where = f" in <b>{escape(page.guild_name)}</b>" if page.guild_name else ""
    body = (
        f"<p>You are linking Spotify to <b>{member}</b>{where}.</p>"
        "<p>If that is not you, close this page: the link was meant for someone else, and "
        "whoever finishes it gives that member their Spotify account.</p>"
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="state" value="{escape(state)}">'
        f'<input type="hidden" name="token" value="{escape(page.form_token)}">'
        '<button type="submit">Continue to Spotify</button></form>'
    )
    return _TEMPLATE.format(title="Link Spotify", accent="#1db954", body=body)


def success_page(display_name: str) -> str:
    body = (
        f"<p>Your Discord account is now linked to Spotify as <b>{escape(display_name)}</b>.</p>"
        "<p>You can close this tab and go back to Discord.</p>"
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
