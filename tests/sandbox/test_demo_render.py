"""The demo's transcript: Discord markdown and messages as terminal lines."""

from __future__ import annotations

import io

from sandbox.demo_render import Style, Transcript, plain_text, render_message
from sandbox.discord_models import (
    FLAG_EPHEMERAL,
    SETTABLE_FLAGS,
    Json,
    StandInMessage,
    StandInUser,
    UploadedFile,
)

PLAIN = Style(colour=False)
ENCORE = StandInUser(1, "Encore", bot=True)
ALICE = StandInUser(7, "alice")


def message(data: Json, files: list[UploadedFile] | None = None) -> StandInMessage:
    sent = StandInMessage(
        id=10,
        channel_id=20,
        guild_id=30,
        author=ENCORE,
        new_id=lambda: 40,
        attachment_url=lambda channel, attachment, name: f"http://127.0.0.1/{name}",
        interaction={"user": ALICE.payload()},
    )
    sent.create(data, files or [], flags_mask=SETTABLE_FLAGS)
    return sent


def names(kind: str, entity_id: int) -> str | None:
    return {("user", 7): "alice", ("channel", 20): "picks"}.get((kind, entity_id))


def test_links_keep_their_text_and_escapes_are_dropped() -> None:
    text = r"1. [Felix \& the \[Islands\]](https://open.spotify.com/artist/x) \*live\*"
    assert plain_text(text, PLAIN) == "1. Felix & the [Islands] *live*"


def test_bold_code_and_quotes() -> None:
    text = "**10%** taste match, try `/top artists`\n> a note"
    assert plain_text(text, PLAIN) == "10% taste match, try /top artists\n│ a note"


def test_mentions_channels_and_timestamps_are_spelled_out() -> None:
    text = "<@7> and <@!99> in <#20>, renew by <t:0:R>"
    assert plain_text(text, PLAIN, names) == (
        "@alice and @unknown member in #picks, renew by 1970-01-01 00:00 UTC"
    )


def test_defused_mentions_lose_their_invisible_space() -> None:
    assert plain_text("@\u200beveryone", PLAIN) == "@everyone"


def test_colour_only_when_asked() -> None:
    assert plain_text("**bold**", Style(colour=True)) == "\x1b[1mbold\x1b[0m"
    assert "\x1b" not in plain_text("**bold** [link](https://x.org) `code`", PLAIN)


def test_embed_parts_in_reading_order() -> None:
    embed = {
        "author": {"name": "alice shared a track"},
        "title": "Roads",
        "description": "Nora · Sessions\n6:15",
        "fields": [{"name": "Album", "value": "One\nTwo"}],
        "footer": {"text": "Saved from here by 1 member"},
        "image": {"url": "http://127.0.0.1/images/a.png"},
    }
    lines = render_message(message({"embeds": [embed]}), PLAIN)
    assert lines == [
        "alice shared a track",
        "Roads",
        "Nora · Sessions",
        "6:15",
        "Album: One",
        "  Two",
        "Saved from here by 1 member",
    ]


def test_ephemeral_buttons_and_attachments() -> None:
    row = {
        "type": 1,
        "components": [
            {"type": 2, "style": 2, "custom_id": "a", "emoji": {"name": "◀️"}, "disabled": True},
            {"type": 2, "style": 3, "custom_id": "b", "label": "Save", "emoji": {"name": "💚"}},
            {"type": 2, "style": 5, "url": "https://open.spotify.com/track/x", "label": "Open"},
        ],
    }
    png = UploadedFile("files[0]", "chart.png", b"\x89PNG" + bytes(2044), "image/png")
    sent = message(
        {"content": "Your chart", "components": [row], "flags": FLAG_EPHEMERAL}, files=[png]
    )
    assert render_message(sent, PLAIN) == [
        "(only alice sees this)",
        "Your chart",
        "[◀️] [💚 Save] [Open]",
        "📎 chart.png (2 KB)",
    ]


def test_transcript_names_the_member_and_options() -> None:
    out = io.StringIO()
    transcript = Transcript(out, colour=False)
    transcript.command("carol", "compat", {"member": "@alice"})
    transcript.message(message({"content": "**9%** taste match"}))
    assert out.getvalue().splitlines() == [
        "",
        "carol ▸ /compat member:@alice",
        "  Encore",
        "  │ 9% taste match",
    ]
