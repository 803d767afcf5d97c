"""Messages as the stand-in keeps them: creation, edits, attachments and helpers."""

import io

from PIL import Image

from sandbox.discord_models import (
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    SETTABLE_FLAGS,
    Snowflakes,
    StandInMessage,
    StandInUser,
    UploadedFile,
)

BOT = StandInUser(1, "Encore", bot=True)


def new_message() -> StandInMessage:
    ids = Snowflakes(worker=3)
    return StandInMessage(
        id=ids.next(),
        channel_id=5,
        guild_id=7,
        author=BOT,
        new_id=ids.next,
        attachment_url=lambda channel, attachment, name: f"http://x/{channel}/{attachment}/{name}",
    )


def upload(index: int, name: str, data: bytes) -> UploadedFile:
    return UploadedFile(f"files[{index}]", name, data, "application/octet-stream")


def test_snowflakes_alternate_shards_and_workers_never_collide() -> None:
    guilds, others = Snowflakes(worker=1), Snowflakes()
    guild_ids = [guilds.next() for _ in range(4)]

    assert [(g >> 22) % 2 for g in guild_ids] == [1, 0, 1, 0]
    assert not set(guild_ids) & {others.next() for _ in range(4)}


def test_text_flattens_content_embeds_and_text_displays() -> None:
    message = new_message()
    embed = {
        "title": "Top artists",
        "description": "Last 4 weeks",
        "author": {"name": "alice"},
        "fields": [{"name": "1", "value": "Daft Punk"}],
        "footer": {"text": "Page 1/2"},
    }
    container = {"type": 17, "components": [{"type": 10, "content": "## v2 text"}]}

    message.create(
        {"content": "Hi", "embeds": [embed], "components": [container]},
        [],
        flags_mask=SETTABLE_FLAGS,
    )

    assert message.text().splitlines() == [
        "Hi",
        "Top artists",
        "Last 4 weeks",
        "alice",
        "1: Daft Punk",
        "Page 1/2",
        "## v2 text",
    ]


def test_buttons_are_found_in_rows_and_section_accessories() -> None:
    message = new_message()
    save = {"type": 2, "style": 1, "label": "Save", "custom_id": "save"}
    link = {"type": 2, "style": 5, "label": "Open", "url": "https://open.spotify.com/"}
    section = {"type": 9, "components": [{"type": 10, "content": "x"}], "accessory": link}

    message.create(
        {"components": [{"type": 1, "components": [save]}, section]}, [], flags_mask=SETTABLE_FLAGS
    )

    assert [b["label"] for b in message.buttons()] == ["Save", "Open"]
    assert message.button("save") == save
    assert message.button("nope") is None


def test_edit_changes_only_the_fields_sent_and_ends_loading() -> None:
    message = new_message()
    message.create(
        {"content": "", "flags": FLAG_EPHEMERAL | FLAG_LOADING},
        [],
        flags_mask=SETTABLE_FLAGS | FLAG_LOADING,
    )
    assert message.loading and message.ephemeral

    message.edit({"embeds": [{"title": "Done"}], "flags": FLAG_SUPPRESS_EMBEDS}, [])
    message.edit({"content": "Now with text"}, [])

    assert not message.loading
    assert message.ephemeral
    assert message.flags & FLAG_SUPPRESS_EMBEDS
    assert message.embeds == [{"title": "Done"}]
    assert [e.content for e in message.edits] == ["", "Now with text"]
    assert message.payload()["edited_timestamp"] is not None


def test_attachments_are_kept_by_id_and_new_files_appended() -> None:
    message = new_message()
    message.create(
        {"content": "files"},
        [upload(0, "a.txt", b"A"), upload(1, "b.txt", b"B")],
        flags_mask=SETTABLE_FLAGS,
    )
    _, second = message.attachments

    message.edit(
        {"attachments": [{"id": second.id}, {"id": 0, "filename": "c.txt"}]},
        [upload(0, "ignored.txt", b"C")],
    )

    assert [(a.name, a.data) for a in message.attachments] == [("b.txt", b"B"), ("c.txt", b"C")]
    assert message.attachments[1].url.endswith("/c.txt")
    assert message.revisions[-1].attachments == ("b.txt", "c.txt")


def test_png_attachment_reports_its_size() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (9, 7)).save(buffer, format="PNG")
    message = new_message()

    message.create(
        {},
        [upload(0, "chart.png", buffer.getvalue()), upload(1, "x.txt", b"x")],
        flags_mask=SETTABLE_FLAGS,
    )

    chart, text = (a.payload() for a in message.attachments)
    assert (chart["width"], chart["height"], chart["content_type"]) == (9, 7, "image/png")
    assert "width" not in text
