from bot.domain import DEFAULT_TIME_RANGE, ItemKind, Period
from bot.services.play_rankings import PlayWhoKnows
from bot.store.crowns import Crown, CrownHolder
from bot.store.play_rankings import PlayListener
from bot.store.plays import PlayedItem
from bot.ui.crowns import crowns_source, no_crowns
from bot.ui.plays import play_who_knows_embed


def artist(n: int, name: str | None = None) -> PlayedItem:
    return PlayedItem(n, ItemKind.ARTIST, f"{n:022d}", name or f"Artist {n}", None, None)


async def test_crowns_pages_show_plays_and_the_runner_up() -> None:
    crowns = [Crown(artist(n), 100 - n, None if n % 2 else 30) for n in range(12)]
    source = crowns_source(crowns, "Jess", "The *Club*")
    assert source.page_count == 2
    first = await source.page(0)
    lines = (first.description or "").splitlines()
    assert lines[0].startswith("1. [Artist 0]") and lines[0].endswith("100 plays · runner-up 30")
    assert lines[1].endswith("99 plays · no runner-up")
    assert first.title == "👑 Jess' crowns in The \\*Club\\*"
    assert first.footer.text == "12 crowns · by plays · all time"
    second = await source.page(1)
    assert (second.description or "").splitlines()[0].startswith("11. [Artist 10]")


def test_no_crowns_says_how_they_are_earned() -> None:
    assert no_crowns("x", own=True).startswith("You hold no crowns in this server yet.")
    text = no_crowns("**Bo**", own=False)
    assert text.startswith("\\*\\*Bo\\*\\* holds no crowns")
    assert "at least 30 plays" in text and "got there first" in text
    assert "/privacy visible:True" in no_crowns("x", own=True, hidden=True)


def who_knows(listeners: list[tuple[int, int]], crown: CrownHolder | None) -> str:
    result = PlayWhoKnows(
        artist(1, "Ann"),
        Period.WEEK,
        [PlayListener(user, plays) for user, plays in listeners],
        [],
        DEFAULT_TIME_RANGE,
        crown,
    )
    return play_who_knows_embed(result, None).description or ""


def test_whoknows_marks_the_crown_holder_or_names_them_below() -> None:
    marked = who_knows([(7, 12), (8, 3)], CrownHolder(7, 80)).splitlines()
    assert marked == ["1. <@7> — 12 plays 👑", "2. <@8> — 3 plays"]
    below = who_knows([(8, 3)], CrownHolder(7, 80)).splitlines()
    assert below == ["1. <@8> — 3 plays", "👑 <@7> holds the crown (80 plays all time)"]
    assert "👑" not in who_knows([(8, 3)], None)
