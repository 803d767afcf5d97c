"""The /import reply: the link to the upload page, and what it says once an import ran."""

from __future__ import annotations

from datetime import datetime

import discord

from bot.services.import_jobs import ImportJob, JobState
from bot.services.imports.importer import ImportSummary
from bot.ui.text import escape

BUTTON_LABEL = "Open the upload page"


def import_view(url: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(style=discord.ButtonStyle.link, url=url, label=BUTTON_LABEL))
    return view


def import_prompt(expires_at: datetime | None = None) -> str:
    until = f" (until {discord.utils.format_dt(expires_at, 't')})" if expires_at else ""
    return (
        "Press **Open the upload page** to import your Spotify streaming history: the page "
        "explains how to get it from Spotify and takes the ZIP or JSON files as they are. "
        f"The link is yours alone and works for 30 minutes{until}, for one import."
    )


def import_started_message() -> dict[str, object]:
    return {"content": "⏳ Importing your Spotify history… The upload page shows the progress."}


def import_finished_message(job: ImportJob) -> dict[str, object]:
    """The payload that replaces the /import reply once the import ended."""
    if job.state is JobState.DONE and job.summary is not None:
        return {"content": summary_text(job.summary), "components": [], "embeds": []}
    if job.refusal is not None:
        reason = escape(job.refusal.reason)
        text = f"❌ Those files could not be imported: {reason}\nThe link above still works."
        return {"content": text}
    return {
        "content": "❌ The import failed on Encore's side. What was stored stays; uploading "
        "the same files again adds what is missing. The link above still works."
    }


def summary_text(summary: ImportSummary) -> str:
    lines = [f"✅ Imported your Spotify history: **{summary.added:,}** plays added."]
    if summary.duplicates:
        lines.append(f"{summary.duplicates:,} plays were already stored and were skipped.")
    if summary.first_play and summary.last_play:
        first = discord.utils.format_dt(summary.first_play, "D")
        last = discord.utils.format_dt(summary.last_play, "D")
        lines.append(f"Dates: {first} to {last}")
    if summary.top_artist:
        lines.append(
            f"Top artist: **{escape(summary.top_artist)}** ({summary.top_artist_plays:,} plays)"
        )
    skipped = [f"{count:,} {reason.words}" for reason, count in summary.skipped.items() if count]
    if skipped:
        lines.append("Not counted: " + ", ".join(skipped) + ".")
    return "\n".join(lines)
