from collections.abc import Sequence

from bot.ui.items import EMPTY_PAGE, ItemLine
from bot.ui.sources import ItemPageSource

ART = "https://i.scdn.co/image/x"


def lines(count: int) -> list[ItemLine]:
    return [
        ItemLine(f"Item {i}", None, image_url=ART if i % 3 == 2 else None) for i in range(count)
    ]


async def test_pages_over_lines_at_hand() -> None:
    source = ItemPageSource.from_lines("Saved tracks", lines(23), per_page=10, footer="Alice")
    assert source.page_count == 3
    last = await source.page(2)
    assert (last.description or "").splitlines() == ["21. Item 20", "22. Item 21", "23. Item 22"]
    assert last.title == "Saved tracks"
    assert last.footer.text == "Alice"
    assert last.thumbnail.url == ART


async def test_fetches_only_the_page_asked_for() -> None:
    calls: list[tuple[int, int]] = []

    async def fetch(offset: int, limit: int) -> Sequence[ItemLine]:
        calls.append((offset, limit))
        return lines(offset + limit)[offset:]

    source = ItemPageSource("Top", total=120, fetch=fetch, per_page=50, numbered=False)
    assert source.page_count == 3
    page = await source.page(1)
    assert calls == [(50, 50)]
    assert (page.description or "").splitlines()[0] == "- Item 50"


async def test_an_empty_list_is_one_empty_page() -> None:
    source = ItemPageSource.from_lines("Saved shows", [])
    assert source.page_count == 1
    page = await source.page(0)
    assert page.description == EMPTY_PAGE
    assert not page.thumbnail


async def test_a_note_sits_above_the_lines_on_every_page() -> None:
    note = "As of <t:1772366400:R> — Spotify did not answer."
    source = ItemPageSource.from_lines("Top", lines(15), per_page=10, note=note)
    for index in range(source.page_count):
        page = await source.page(index)
        first, blank, *rest = (page.description or "").splitlines()
        assert first == note and blank == ""
        assert rest[0] == f"{index * 10 + 1}. Item {index * 10}"
