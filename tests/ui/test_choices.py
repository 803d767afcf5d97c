from bot.ui import limits
from bot.ui.choices import autocomplete_choices
from bot.ui.text import text_length


def test_choices_are_bounded_and_names_cut() -> None:
    pairs = ((f"Song {i} " + "é" * 200, f"spotify:track:{i:022d}") for i in range(100))
    choices = autocomplete_choices(pairs)
    assert len(choices) == limits.AUTOCOMPLETE_CHOICES
    assert all(text_length(choice.name) <= limits.CHOICE_NAME for choice in choices)
    assert choices[3].value == f"spotify:track:{3:022d}"
    assert choices[3].name.startswith("Song 3 é")


def test_values_too_long_are_skipped_not_cut() -> None:
    choices = autocomplete_choices([("long", "v" * 101), ("ok", "v" * 100), ("empty", "")])
    assert [(choice.name, choice.value) for choice in choices] == [("ok", "v" * 100)]


def test_blank_names_fall_back_to_the_value() -> None:
    choices = autocomplete_choices([(" \n ", "spotify:album:x"), ("a\nb", "v")])
    assert [choice.name for choice in choices] == ["spotify:album:x", "a b"]
