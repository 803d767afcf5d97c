import discord
from hypothesis import given
from hypothesis import strategies as st

from bot.ui import limits
from bot.ui.embeds import embed_length, fit_embed, fit_embeds
from bot.ui.text import text_length
from tests.helpers.ui import assert_within_limits, long_names


def test_embed_length_counts_every_text_part() -> None:
    embed = discord.Embed(title="ab", description="cde")
    embed.add_field(name="f", value="gh")
    embed.set_footer(text="ij")
    embed.set_author(name="𝄞")
    assert embed_length(embed) == 2 + 3 + 1 + 2 + 2 + 2


def test_fit_embed_keeps_an_embed_that_fits() -> None:
    embed = discord.Embed(title="t", description="d", url="https://x.example", colour=0x123456)
    embed.add_field(name="n", value="v", inline=False)
    embed.set_thumbnail(url="https://x.example/i.png")
    assert fit_embed(embed).to_dict() == embed.to_dict()


def test_fit_embed_fills_empty_fields() -> None:
    embed = discord.Embed()
    embed.add_field(name="", value="")
    fitted = fit_embed(embed)
    assert fitted.fields[0].name == fitted.fields[0].value == "\u200b"


def test_fit_embed_cuts_each_part_to_its_limit() -> None:
    embed = discord.Embed(title="t" * 300, description="d" * 5000)
    embed.set_author(name="a" * 300)
    embed.set_footer(text="f" * 3000)
    fitted = fit_embed(embed)
    assert_within_limits(fitted)
    assert text_length(fitted.title or "") == limits.EMBED_TITLE
    assert text_length(fitted.author.name or "") == limits.EMBED_AUTHOR_NAME
    assert text_length(fitted.footer.text or "") == limits.EMBED_FOOTER
    assert embed_length(fitted) == limits.EMBED_TOTAL


def test_fit_embed_drops_fields_beyond_the_total() -> None:
    embed = discord.Embed(description="d" * 4000)
    for i in range(30):
        embed.add_field(name=f"field {i}", value="v" * 1000)
    fitted = fit_embed(embed)
    assert_within_limits(fitted)
    assert fitted.description == "d" * 4000
    assert [field.name for field in fitted.fields] == ["field 0", "field 1"]
    assert (fitted.fields[1].value or "").endswith("…")


def test_fit_embed_drops_an_author_or_footer_without_text() -> None:
    embed = discord.Embed(title="t")
    embed.set_author(name="", icon_url="https://x.example/a.png")
    embed.set_footer(text="", icon_url="https://x.example/f.png")
    fitted = fit_embed(embed)
    assert "author" not in fitted.to_dict()
    assert "footer" not in fitted.to_dict()


@given(
    title=long_names,
    description=long_names,
    fields=st.lists(st.tuples(long_names, long_names), max_size=30),
    footer=long_names,
    author=long_names,
)
def test_fit_embed_always_within_limits(
    title: str, description: str, fields: list[tuple[str, str]], footer: str, author: str
) -> None:
    embed = discord.Embed(title=title, description=description)
    for name, value in fields:
        embed.add_field(name=name, value=value)
    embed.set_footer(text=footer)
    if author:
        embed.set_author(name=author)
    assert_within_limits(fit_embed(embed))


def test_fit_embeds_bounds_count_and_combined_total() -> None:
    embeds = [discord.Embed(description="d" * 1000) for _ in range(12)]
    fitted = fit_embeds(embeds)
    assert len(fitted) == 6
    assert sum(embed_length(embed) for embed in fitted) <= limits.EMBED_TOTAL
    small = fit_embeds(discord.Embed(title=str(i)) for i in range(12))
    assert [embed.title for embed in small] == [str(i) for i in range(10)]
