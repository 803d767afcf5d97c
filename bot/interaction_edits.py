"""Edits an interaction's original reply with a plain REST call.

The OAuth callback may be served by a process without a gateway connection (`python -m bot
web`), so it cannot use discord.py's Interaction object: it only has the application id and
the interaction token kept (encrypted) with the pending state.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import discord


class InteractionEditFailed(Exception):
    """Discord refused or failed an edit. The message names the status only: the URL holds
    the interaction token, which lets anyone post as the bot in that channel."""


class InteractionEditor:
    def __init__(self, http: aiohttp.ClientSession) -> None:
        self._http = http

    async def edit_original(
        self, application_id: int, interaction_token: str, payload: dict[str, Any]
    ) -> bool:
        """PATCH the original response; False when Discord no longer knows it (token expired)."""
        base = discord.http.Route.BASE
        url = f"{base}/webhooks/{application_id}/{interaction_token}/messages/@original"
        body = {**payload, "allowed_mentions": {"parse": []}}
        async with self._http.patch(
            url, json=body, timeout=aiohttp.ClientTimeout(total=10)
        ) as resp:
            if resp.status in (401, 404):
                return False
            if resp.status >= 400:
                raise InteractionEditFailed(
                    f"Discord answered {resp.status} to an interaction reply edit"
                )
            return True
