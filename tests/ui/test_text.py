import discord
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ui import limits
from bot.ui.text import (
    ECHO_LIMIT,
    ELLIPSIS,
    NO_MENTIONS,
    defuse_mentions,
    echo,
    escape,
    escape_link_text,
    fit_content,
    label,
    masked_link,
    one_line,
    safe_url,
    text_length,
    truncate,
)
from tests.helpers.ui import RAW_MENTION, long_names, names


def test_text_length_counts_astral_characters_twice() -> None:
    assert text_length("abc") == 3
    assert text_length("𝄞") == 2
    assert text_length("👍🏽") == 4


@given(text=long_names, limit=st.integers(min_value=1, max_value=300))
def test_truncate_respects_the_limit_and_keeps_a_prefix(text: str, limit: int) -> None:
    cut = truncate(text, limit)
    assert text_length(cut) <= limit
    if text_length(text) <= limit:
        assert cut == text
    else:
        assert cut.endswith(ELLIPSIS)
        assert text.startswith(cut.removesuffix(ELLIPSIS))


def test_truncate_never_splits_an_astral_character() -> None:
    assert truncate("𝄞𝄞𝄞", 4) == "𝄞…"


def test_truncate_keeps_accents_with_their_letter() -> None:
    assert truncate("e\u0301" * 10, 6) == "e\u0301e\u0301…"


def test_truncate_does_not_split_a_joined_emoji() -> None:
    family = "👨\u200d👩\u200d👧"
    assert truncate("ab" + family + "cd", 7) == "ab…"


def test_truncate_drops_a_backslash_that_would_escape_the_ellipsis() -> None:
    assert truncate("ab\\*cdef", 4) == "ab…"
    assert truncate("ab\\\\cdef", 5) == "ab\\\\…"


def test_truncate_with_a_tiny_limit() -> None:
    assert truncate("abcdef", 1) == "…"
    assert truncate("abc", 0) == ""


def test_one_line_collapses_whitespace() -> None:
    assert one_line(" a\n\tb  c \r\n") == "a b c"


@pytest.mark.parametrize(
    "mention",
    [
        "@everyone",
        "@here",
        "<@123456789012345678>",
        "<@!123456789012345678>",
        "<@&123456789012345678>",
        "<#123456789012345678>",
    ],
)
def test_defuse_mentions(mention: str) -> None:
    defused = defuse_mentions(f"hi {mention}!")
    assert RAW_MENTION.search(defused) is None
    assert defused.replace("\u200b", "") == f"hi {mention}!"


def test_escape_shows_markdown_literally() -> None:
    assert (
        escape("*a* _b_ `c` ~~d~~ ||e|| \\")
        == "\\*a\\* \\_b\\_ \\`c\\` \\~\\~d\\~\\~ \\|\\|e\\|\\| \\\\"
    )
    assert escape("https://x.example/a_b") == "https://x.example/a\\_b"


@given(names)
def test_escape_link_text_leaves_no_bracket_unescaped(name: str) -> None:
    escaped = escape_link_text(name)
    i = 0
    while i < len(escaped):
        if escaped[i] == "\\":
            i += 2
            continue
        assert escaped[i] not in "[]"
        i += 1
    assert RAW_MENTION.search(escaped) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://open.spotify.com/track/abc", "https://open.spotify.com/track/abc"),
        ("https://x.example/a (b)", "https://x.example/a%20%28b%29"),
        ("http://127.0.0.1:8080/p?q=1&r=2", "http://127.0.0.1:8080/p?q=1&r=2"),
        ("javascript:alert(1)", None),
        ("spotify:track:abc", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_masked_link() -> None:
    assert masked_link("A [b]", "https://x.example/t", 50) == "[A \\[b\\]](https://x.example/t)"
    assert masked_link("A *b*", None, 50) == "A \\*b\\*"
    assert masked_link("x" * 20, "https://x.example", 10) == f"[{'x' * 9}…](https://x.example)"


def test_fit_content_and_label() -> None:
    assert text_length(fit_content("a" * 5000)) == limits.MESSAGE_CONTENT
    assert fit_content("**kept**") == "**kept**"
    assert text_length(label("word " * 40)) <= limits.COMPONENT_LABEL
    assert label("two\nlines") == "two lines"
    assert label("  ") == ELLIPSIS


def test_echo_repeats_a_long_option_short_on_one_line() -> None:
    typed = "line one\nline two " + "x" * 2500
    shown = echo(typed)
    assert text_length(shown) == ECHO_LIMIT
    assert shown.startswith("line one line two x") and shown.endswith(ELLIPSIS)
    assert echo("short") == "short"
    assert text_length(echo("y" * 500, 80)) == 80


@given(text=long_names)
def test_echo_is_escaped_bounded_and_pings_nobody(text: str) -> None:
    shown = echo(text)
    assert text_length(shown) <= ECHO_LIMIT
    assert "\n" not in shown
    assert RAW_MENTION.search(shown) is None
    assert echo("**bold** @everyone") == "\\*\\*bold\\*\\* @\u200beveryone"


def test_no_mentions_allows_nothing() -> None:
    assert NO_MENTIONS.to_dict() == discord.AllowedMentions.none().to_dict()
    assert NO_MENTIONS.to_dict()["parse"] == []
