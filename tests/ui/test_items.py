import re

from hypothesis import given
from hypothesis import strategies as st

from bot.ui.items import EMPTY_PAGE, ItemLine, item_embed, list_page_embed, render_line
from tests.helpers.ui import assert_no_raw_mention, assert_within_limits, long_names, names

URL = "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC"
ART = "https://i.scdn.co/image/ab67616d0000b273"
LINK_LINE = re.compile(r"^(\d+\.|-) \[(?P<text>(?:\\.|[^\\\[\]])+)\]\((?P<url>[^()\s]+)\)")

item_lines = st.builds(
    ItemLine,
    name=long_names,
    url=st.sampled_from([URL, None, "https://x.example/a (b)", "javascript:alert(1)"]),
    subtitle=st.none() | long_names,
    image_url=st.sampled_from([ART, None, "ftp://x.example/i.png"]),
    detail=st.none() | long_names,
)


def test_render_line_with_rank_link_subtitle_and_detail() -> None:
    line = ItemLine("Song *One*", URL, subtitle="by A_B, C", detail="saved 2026-03-01")
    assert render_line(line, 3) == f"3. [Song \\*One\\*]({URL}) — by A\\_B, C · saved 2026-03-01"


def test_render_line_without_rank_url_or_extras() -> None:
    assert render_line(ItemLine("Plain", None), None) == "- Plain"
    assert render_line(ItemLine(" \n", None, detail="12 tracks"), 1) == "1. (untitled) — 12 tracks"


def test_list_page_embed_numbers_from_start_rank() -> None:
    lines = [ItemLine(f"Track {i}", URL) for i in range(3)]
    embed = list_page_embed(
        "Top tracks", lines, start_rank=11, thumbnail_url=ART, footer="Alice · last 4 weeks"
    )
    assert embed.title == "Top tracks"
    assert (embed.description or "").splitlines() == [
        f"{11 + i}. [Track {i}]({URL})" for i in range(3)
    ]
    assert embed.thumbnail.url == ART
    assert embed.footer.text == "Alice · last 4 weeks"


def test_list_page_embed_of_nothing() -> None:
    embed = list_page_embed("Saved albums", [], start_rank=1)
    assert embed.description == EMPTY_PAGE
    assert not embed.thumbnail


def test_list_page_embed_says_how_many_did_not_fit() -> None:
    lines = [ItemLine("n" * 500, URL, subtitle="s" * 500, detail="d" * 500) for _ in range(40)]
    embed = list_page_embed("Many", lines, start_rank=1, footer="f" * 3000)
    assert_within_limits(embed)
    rendered = (embed.description or "").splitlines()
    shown = len(rendered) - 1
    assert 0 < shown < 40
    assert all(LINK_LINE.match(text) for text in rendered[:-1])
    assert rendered[-1] == f"…and {40 - shown} more"


def test_item_embed_with_art_heading_and_note() -> None:
    line = ItemLine("Album", URL, subtitle="by Band", image_url=ART, detail="12 tracks")
    embed = item_embed(line, heading="Shared by @everyone", note="listen\n**now**", large_art=True)
    assert embed.title == "Album"
    assert embed.url == URL
    assert embed.image.url == ART
    assert not embed.thumbnail
    assert embed.author.name == "Shared by @\u200beveryone"
    assert embed.description == "by Band\n12 tracks\n\n> listen \\*\\*now\\*\\*"


def test_item_embed_uses_a_thumbnail_by_default() -> None:
    embed = item_embed(ItemLine("Track", URL, image_url=ART))
    assert embed.thumbnail.url == ART
    assert not embed.image
    assert embed.description is None


@given(
    title=long_names,
    lines=st.lists(item_lines, max_size=25),
    start_rank=st.none() | st.integers(min_value=1, max_value=10_000),
    footer=st.none() | long_names,
)
def test_list_page_embed_always_within_limits(
    title: str, lines: list[ItemLine], start_rank: int | None, footer: str | None
) -> None:
    embed = list_page_embed(title, lines, start_rank=start_rank, thumbnail_url=ART, footer=footer)
    assert_within_limits(embed)
    assert_no_raw_mention(embed)
    for text, line in zip((embed.description or "").splitlines(), lines, strict=False):
        if line.url == URL and not text.startswith("…and "):
            match = LINK_LINE.match(text)
            assert match is not None, text
            assert match["url"] == URL


@given(
    line=item_lines,
    heading=st.none() | long_names,
    note=st.none() | long_names,
    footer=st.none() | long_names,
    large_art=st.booleans(),
)
def test_item_embed_always_within_limits(
    line: ItemLine, heading: str | None, note: str | None, footer: str | None, large_art: bool
) -> None:
    embed = item_embed(line, heading=heading, note=note, footer=footer, large_art=large_art)
    assert_within_limits(embed)
    assert_no_raw_mention(embed)
    assert embed.url in (None, URL, "https://x.example/a%20%28b%29")


@given(names)
def test_names_show_without_live_markdown_links(name: str) -> None:
    text = render_line(ItemLine(name, URL), 1)
    match = LINK_LINE.match(text)
    assert match is not None
    assert match["url"] == URL
    assert "\n" not in text
