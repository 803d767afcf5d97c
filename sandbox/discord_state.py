"""Everything the Discord stand-in knows: users, guilds, channels, messages, interactions."""

from __future__ import annotations

from sandbox.discord_commands import CommandRegistry
from sandbox.discord_interactions import (
    APPLICATION_COMMAND,
    Changes,
    StandInInteraction,
)
from sandbox.discord_models import (
    CHANNEL_DM,
    MEMBER_PERMISSIONS,
    Json,
    Snowflakes,
    StandInAttachment,
    StandInChannel,
    StandInGuild,
    StandInMember,
    StandInMessage,
    StandInUser,
    UploadedFile,
)
from sandbox.discord_presence import Presence

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
APPLICATION_FLAGS = (1 << 13) | (1 << 15) | (1 << 19)
"""Limited presence, guild members and message content intents: an unverified bot's flags."""


class World:
    def __init__(self, *, application_id: int, bot_user_id: int, token: str) -> None:
        self.ids = Snowflakes()
        self.guild_ids = Snowflakes(worker=1)
        self.application_id = application_id
        self.token = token
        self.bot = StandInUser(bot_user_id, "Encore", bot=True)
        self.owner = StandInUser(self.ids.next(), "owner")
        self.users: dict[int, StandInUser] = {u.id: u for u in (self.bot, self.owner)}
        self.guilds: dict[int, StandInGuild] = {}
        self.presences: dict[int, Presence] = {}
        """Users who are online, by user id; everyone else is offline."""
        self.dm_channels: dict[int, StandInChannel] = {}
        self.messages: dict[int, StandInMessage] = {}
        self.interactions: dict[str, StandInInteraction] = {}
        self.commands = CommandRegistry(application_id, self.ids.next)
        self.changes = Changes()
        self.base_url = ""

    def user(self, value: StandInUser | int) -> StandInUser:
        user_id = value.id if isinstance(value, StandInUser) else value
        try:
            return self.users[user_id]
        except KeyError:
            raise LookupError(f"unknown user {user_id}: add it with add_user()") from None

    def member(self, guild_id: int, user_id: int) -> StandInMember | None:
        guild = self.guilds.get(guild_id)
        return guild.members.get(user_id) if guild else None

    def channel(self, value: StandInChannel | int) -> StandInChannel:
        channel_id = value.id if isinstance(value, StandInChannel) else value
        channel = self.find_channel(channel_id)
        if channel is None:
            raise LookupError(f"unknown channel {channel_id}")
        return channel

    def find_channel(self, channel_id: int) -> StandInChannel | None:
        for guild in self.guilds.values():
            channel = guild.channel(channel_id)
            if channel is not None:
                return channel
        return next((c for c in self.dm_channels.values() if c.id == channel_id), None)

    def dm_channel(self, user: StandInUser) -> StandInChannel:
        if user.id not in self.dm_channels:
            channel = StandInChannel(self.ids.next(), "", CHANNEL_DM, recipient=user)
            self.dm_channels[user.id] = channel
        return self.dm_channels[user.id]

    def attachment_url(self, channel_id: int, attachment_id: int, filename: str) -> str:
        return f"{self.base_url}/attachments/{channel_id}/{attachment_id}/{filename}"

    def attachment(self, attachment_id: int) -> StandInAttachment | None:
        for message in self.messages.values():
            for attachment in message.attachments:
                if attachment.id == attachment_id:
                    return attachment
        return None

    def new_message(
        self,
        channel: StandInChannel,
        data: Json,
        files: list[UploadedFile],
        *,
        flags_mask: int,
        interaction: StandInInteraction | None = None,
    ) -> StandInMessage:
        metadata: Json | None = None
        message_type = 0
        if interaction is not None:
            metadata = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": interaction.user.payload(),
                "authorizing_integration_owners": self._owners(interaction.guild_id),
            }
            if interaction.type == APPLICATION_COMMAND:
                metadata["name"] = interaction.name
                message_type = 20
            if interaction.source is not None:
                metadata["interacted_message_id"] = str(interaction.source.id)
            if interaction.original is not None:
                metadata["original_response_message_id"] = str(interaction.original.id)
        message = StandInMessage(
            id=self.ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=self.bot,
            new_id=self.ids.next,
            attachment_url=self.attachment_url,
            interaction=metadata,
            webhook_id=self.application_id if interaction else None,
            type=message_type,
        )
        message.create(data, files, flags_mask=flags_mask)
        self.messages[message.id] = message
        return message

    def channel_messages(self, channel_id: int) -> list[StandInMessage]:
        return [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id and not m.deleted and not m.ephemeral
        ]

    def application_payload(self) -> Json:
        return {
            "id": str(self.application_id),
            "name": self.bot.name,
            "icon": None,
            "description": "",
            "summary": "",
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "bot": self.bot.payload(),
            "owner": self.owner.payload(),
            "team": None,
            "verify_key": "0" * 64,
            "flags": APPLICATION_FLAGS,
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "tags": [],
            "approximate_guild_count": len(self.guilds),
        }

    def interaction_payload(
        self, interaction: StandInInteraction, data: Json, *, locale: str
    ) -> Json:
        channel = self.channel(interaction.channel_id)
        payload: Json = {
            "id": str(interaction.id),
            "application_id": str(self.application_id),
            "type": interaction.type,
            "data": data,
            "token": interaction.token,
            "version": 1,
            "locale": locale,
            "app_permissions": str(MEMBER_PERMISSIONS),
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "channel_id": str(channel.id),
            "authorizing_integration_owners": self._owners(interaction.guild_id),
        }
        guild_id = interaction.guild_id
        member = self.member(guild_id, interaction.user.id) if guild_id is not None else None
        if guild_id is not None and member is not None:
            permissions = str(member.permissions)
            payload["guild_id"] = str(guild_id)
            payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["member"] = {**member.payload(), "permissions": permissions}
            payload["channel"] = {**channel.payload(), "permissions": permissions}
            payload["context"] = 0
        else:
            payload["user"] = interaction.user.payload()
            payload["channel"] = channel.payload()
            payload["context"] = 1
        if interaction.source is not None:
            payload["message"] = interaction.source.payload()
        return payload

    @staticmethod
    def _owners(guild_id: int | None) -> Json:
        return {"0": str(guild_id) if guild_id is not None else "0"}
