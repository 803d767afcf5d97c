"""Discord's size limits for messages, embeds, components and autocomplete."""

from typing import Final

EMBED_TITLE: Final = 256
EMBED_DESCRIPTION: Final = 4096
EMBED_FIELDS: Final = 25
EMBED_FIELD_NAME: Final = 256
EMBED_FIELD_VALUE: Final = 1024
EMBED_FOOTER: Final = 2048
EMBED_AUTHOR_NAME: Final = 256
EMBED_TOTAL: Final = 6000
"""Sum of title, description, field names and values, footer text and author name; the same
bound applies to all embeds of one message together."""
EMBEDS_PER_MESSAGE: Final = 10
MESSAGE_CONTENT: Final = 2000
AUTOCOMPLETE_CHOICES: Final = 25
CHOICE_NAME: Final = 100
CHOICE_VALUE: Final = 100
COMPONENT_LABEL: Final = 80
