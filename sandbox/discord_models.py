"""The Discord stand-in's state: users, guilds, channels and messages, and their wire payloads."""

from __future__ import annotations

import mimetypes
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000
_FIRST_ID_MS = 1_704_067_200_000  # 2024-01-01: ids look like real, recent snowflakes

FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15
SETTABLE_FLAGS = (
    FLAG_SUPPRESS_EMBEDS | FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2
)
EDITABLE_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_COMPONENTS_V2

MEMBER_PERMISSIONS = (
    (1 << 0)  # create instant invite
    | (1 << 6)  # add reactions
    | (1 << 10)  # view channel
    | (1 << 11)  # send messages
    | (1 << 14)  # embed links
    | (1 << 15)  # attach files
    | (1 << 16)  # read message history
    | (1 << 18)  # use external emojis
    | (1 << 31)  # use application commands
)
ALL_PERMISSIONS = (1 << 51) - 1

CHANNEL_GUILD_TEXT = 0
CHANNEL_DM = 1


class Snowflakes:
    """Deterministic, increasing snowflakes, one millisecond apart, so consecutive ids of one
    generator alternate between two shards; generators with different workers never collide."""

    def __init__(self, worker: int = 0) -> None:
        self._worker = worker
        self._count = 0

    def next(self) -> int:
        self._count += 1
        timestamp = _FIRST_ID_MS - DISCORD_EPOCH_MS + self._count
        return (timestamp << 22) | (self._worker << 17) | (self._count & 0xFFF)


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(eq=False)
class StandInUser:
    id: int
    name: str
    global_name: str | None = None
    bot: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> Json:
        data: Json = {
            "id": str(self.id),
            "username": self.name,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass(eq=False)
class StandInMember:
    user: StandInUser
    joined_at: str
    nick: str | None = None
    administrator: bool = False

    @property
    def permissions(self) -> int:
        return ALL_PERMISSIONS if self.administrator else MEMBER_PERMISSIONS

    def payload(self, *, with_user: bool = True) -> Json:
        data: Json = {
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass(eq=False)
class StandInChannel:
    id: int
    name: str
    type: int = CHANNEL_GUILD_TEXT
    guild_id: int | None = None
    recipient: StandInUser | None = None

    def payload(self) -> Json:
        if self.type == CHANNEL_DM:
            recipients = [self.recipient.payload()] if self.recipient else []
            return {
                "id": str(self.id),
                "type": CHANNEL_DM,
                "last_message_id": None,
                "flags": 0,
                "recipients": recipients,
            }
        data: Json = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "position": 0,
            "permission_overwrites": [],
            "topic": None,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        return data


@dataclass(eq=False)
class StandInGuild:
    id: int
    name: str
    owner_id: int
    joined_at: str
    channels: list[StandInChannel] = field(default_factory=list)
    members: dict[int, StandInMember] = field(default_factory=dict)

    @property
    def text_channel(self) -> StandInChannel:
        return self.channels[0]

    @property
    def channel_id(self) -> int:
        return self.text_channel.id

    def channel(self, channel_id: int) -> StandInChannel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def shard_id(self, shard_count: int) -> int:
        return (self.id >> 22) % shard_count

    def everyone_role(self) -> Json:
        return {
            "id": str(self.id),
            "name": "@everyone",
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": 0,
            "permissions": str(MEMBER_PERMISSIONS),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def payload(self, *, members: list[StandInMember], presences: list[Json] | None = None) -> Json:
        """The GUILD_CREATE payload, carrying `members` (the whole list only with presences)
        and `presences` (only to sessions that asked for them)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "system_channel_id": str(self.channel_id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
            "max_members": 500000,
            "features": [],
            "roles": [self.everyone_role()],
            "emojis": [],
            "stickers": [],
            "joined_at": self.joined_at,
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "members": [m.payload() for m in members],
            "channels": [c.payload() for c in self.channels],
            "threads": [],
            "presences": presences or [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


@dataclass(frozen=True)
class UploadedFile:
    """One `files[n]` part of a multipart request."""

    field: str
    filename: str
    data: bytes
    content_type: str | None


@dataclass(eq=False)
class StandInAttachment:
    id: int
    filename: str
    data: bytes
    url: str
    description: str | None = None

    @property
    def name(self) -> str:
        return self.filename

    @property
    def content_type(self) -> str:
        return mimetypes.guess_type(self.filename)[0] or "application/octet-stream"

    def image_size(self) -> tuple[int, int] | None:
        """Width and height when the data is a PNG."""
        if self.data[:8] != b"\x89PNG\r\n\x1a\n" or len(self.data) < 24:
            return None
        width, height = struct.unpack(">II", self.data[16:24])
        return width, height

    def payload(self) -> Json:
        data: Json = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }
        if self.description is not None:
            data["description"] = self.description
        size = self.image_size()
        if size is not None:
            data["width"], data["height"] = size
        return data


@dataclass(frozen=True)
class MessageRevision:
    """A message as it stood after its creation or one of its edits."""

    content: str
    embeds: list[Json]
    components: list[Json]
    attachments: tuple[str, ...]
    flags: int
    at: str


def iter_components(components: list[Json]) -> Iterator[Json]:
    """Every component, depth first, through action rows, sections and containers."""
    for component in components:
        yield component
        yield from iter_components(component.get("components") or [])
        accessory = component.get("accessory")
        if accessory:
            yield from iter_components([accessory])


def _embed_text(embed: Json) -> Iterator[str]:
    for key in ("title", "description"):
        if embed.get(key):
            yield str(embed[key])
    author = embed.get("author") or {}
    if author.get("name"):
        yield str(author["name"])
    for embed_field in embed.get("fields") or []:
        yield f"{embed_field.get('name', '')}: {embed_field.get('value', '')}"
    footer = embed.get("footer") or {}
    if footer.get("text"):
        yield str(footer["text"])


class StandInMessage:
    """A message the bot sent: a channel message, an interaction response or a followup."""

    def __init__(
        self,
        *,
        id: int,
        channel_id: int,
        guild_id: int | None,
        author: StandInUser,
        new_id: Callable[[], int],
        attachment_url: Callable[[int, int, str], str],
        interaction: Json | None = None,
        webhook_id: int | None = None,
        type: int = 0,
    ) -> None:
        self.id = id
        self.channel_id = channel_id
        self.guild_id = guild_id
        self.author = author
        self.type = type
        self.webhook_id = webhook_id
        self.interaction_metadata = interaction
        self.content = ""
        self.embeds: list[Json] = []
        self.components: list[Json] = []
        self.attachments: list[StandInAttachment] = []
        self.flags = 0
        self.deleted = False
        self.timestamp = iso_now()
        self.edited_timestamp: str | None = None
        self.revisions: list[MessageRevision] = []
        self._new_id = new_id
        self._attachment_url = attachment_url

    def __repr__(self) -> str:
        return f"<StandInMessage id={self.id} flags={self.flags} text={self.text()[:60]!r}>"

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while this is a deferred response that was not filled in yet."""
        return bool(self.flags & FLAG_LOADING)

    @property
    def edits(self) -> list[MessageRevision]:
        """The message after each edit, oldest first (creation excluded)."""
        return self.revisions[1:]

    def buttons(self) -> list[Json]:
        return [c for c in iter_components(self.components) if c.get("type") == 2]

    def button(self, custom_id: str) -> Json | None:
        return next((b for b in self.buttons() if b.get("custom_id") == custom_id), None)

    def text(self) -> str:
        """Content, embed texts and v2 text displays, one per line: handy for asserts."""
        parts = [self.content] if self.content else []
        for embed in self.embeds:
            parts.extend(_embed_text(embed))
        parts.extend(
            str(c["content"]) for c in iter_components(self.components) if c.get("type") == 10
        )
        return "\n".join(parts)

    def create(self, data: Json, files: list[UploadedFile], *, flags_mask: int) -> None:
        self.content = str(data.get("content") or "")
        self.embeds = list(data.get("embeds") or [])
        self.components = list(data.get("components") or [])
        self.flags = int(data.get("flags") or 0) & flags_mask
        self.attachments = self._attachments_from(data, files, keep=[])
        self._snapshot()

    def edit(self, data: Json, files: list[UploadedFile]) -> None:
        """Apply a PATCH: only the fields present change; a loading message stops loading."""
        if "content" in data:
            self.content = str(data["content"] or "")
        if "embeds" in data:
            self.embeds = list(data["embeds"] or [])
        if "components" in data:
            self.components = list(data["components"] or [])
        if data.get("flags") is not None:
            kept = self.flags & ~EDITABLE_FLAGS
            self.flags = kept | (int(data["flags"]) & EDITABLE_FLAGS)
        if "attachments" in data or files:
            self.attachments = self._attachments_from(data, files, keep=self.attachments)
        self.flags &= ~FLAG_LOADING
        self.edited_timestamp = iso_now()
        self._snapshot()

    def _attachments_from(
        self, data: Json, files: list[UploadedFile], *, keep: list[StandInAttachment]
    ) -> list[StandInAttachment]:
        by_field = {f.field: f for f in files}
        declared = data.get("attachments")
        if declared is None:
            kept = list(keep)
            declared = [{"id": i} for i in range(len(files))]
        else:
            kept_ids = {str(a.get("id")) for a in declared}
            kept = [a for a in keep if str(a.id) in kept_ids]
        new: list[StandInAttachment] = []
        for entry in declared:
            upload = by_field.get(f"files[{entry.get('id')}]")
            if upload is None:
                continue
            attachment_id = self._new_id()
            filename = str(entry.get("filename") or upload.filename)
            url = self._attachment_url(self.channel_id, attachment_id, filename)
            new.append(
                StandInAttachment(
                    attachment_id, filename, upload.data, url, entry.get("description")
                )
            )
        return kept + new

    def _snapshot(self) -> None:
        self.revisions.append(
            MessageRevision(
                content=self.content,
                embeds=list(self.embeds),
                components=list(self.components),
                attachments=tuple(a.filename for a in self.attachments),
                flags=self.flags,
                at=self.edited_timestamp or self.timestamp,
            )
        )

    def payload(self) -> Json:
        data: Json = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "type": self.type,
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [a.payload() for a in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
            data["application_id"] = str(self.webhook_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
        return data
