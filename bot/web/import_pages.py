"""The /import pages: the upload form, the progress and result page, the pages for what went
wrong, and the status the page polls. Self-contained HTML; the one script is inline and runs
under a CSP nonce; everything works without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from bot.services.import_jobs import BusyReason, ImportJob, JobState
from bot.services.import_links import LinkProblem
from bot.services.imports import ImportProblem, SkipReason
from bot.services.imports.importer import ImportSummary
from bot.web.import_upload import CSRF_FIELD, FILE_FIELD, UploadProblem

PRIVACY_PAGE = "https://www.spotify.com/account/privacy/"
REFRESH_SECONDS = 2
GREEN, RED = "#1db954", "#e22134"


@dataclass(frozen=True)
class Problem:
    """A page saying what went wrong and what to do instead."""

    status: int
    title: str
    text: str


NEW_LINK = "Run <b>/import</b> in Discord for a new link."
UPLOAD_INSTEAD = (
    "Upload the ZIP Spotify e-mailed you (<b>my_spotify_data.zip</b>) as it is, or the "
    "<b>Streaming_History_Audio_*.json</b> (or <b>StreamingHistory_music_*.json</b>) files in it."
)

LINK_PROBLEMS = {
    LinkProblem.UNKNOWN: Problem(
        404,
        "This import link is not valid",
        "It was replaced by a newer <b>/import</b>, or it did not come from Encore. " + NEW_LINK,
    ),
    LinkProblem.EXPIRED: Problem(
        410, "This import link has expired", "Import links work for 30 minutes. " + NEW_LINK
    ),
    LinkProblem.USED: Problem(
        410,
        "This import link was already used",
        "An import through it finished; each link imports once. " + NEW_LINK,
    ),
}

UPLOAD_PROBLEMS = {
    UploadProblem.NO_FILES: Problem(
        400, "No file was chosen", "Choose a file, then press Import. " + UPLOAD_INSTEAD
    ),
    UploadProblem.FORBIDDEN: Problem(
        403,
        "This form has expired",
        "Reload the page (so the form is fresh) and upload again.",
    ),
    UploadProblem.MALFORMED: Problem(
        400,
        "The upload did not arrive as a form",
        "Upload your files with the form on this page. " + UPLOAD_INSTEAD,
    ),
}

REFUSAL_TITLES = {
    ImportProblem.NOT_HISTORY: "This is not a Spotify history file",
    ImportProblem.WRONG_SHAPE: "This is not a Spotify streaming history",
    ImportProblem.EMPTY: "There are no plays in these files",
    ImportProblem.TRUNCATED: "The file is incomplete",
    ImportProblem.DAMAGED: "The ZIP is damaged",
    ImportProblem.NO_HISTORY_FILES: "There is no listening history in this ZIP",
    ImportProblem.TOO_LARGE: "This ZIP unpacks to too much",
}

BUSY = {
    BusyReason.MEMBER: Problem(
        409,
        "Your other import is still running",
        "Encore imports one upload per member at a time. Wait until it is done (its page and "
        "your <b>/import</b> reply in Discord show when), then upload again.",
    ),
    BusyReason.PROCESS: Problem(
        503,
        "Encore is busy importing",
        "Other members' imports are running right now. Wait a few minutes, then upload "
        "again with this page (the link stays valid).",
    ),
}

RECORDING_OFF = Problem(
    403,
    "Recording is switched off for you",
    "You asked Encore not to record your listening, so it imports nothing for you. Run "
    "<b>/privacy record:true</b> in Discord first if you want to import your history.",
)
ERROR = Problem(
    500,
    "Something went wrong",
    "Encore could not take this upload. Please try again in a moment.",
)
FAILED_NOTICE = (
    "Something went wrong on Encore's side",
    "What was imported before stays stored, and uploading the same files again adds exactly "
    "what is missing. Please try again in a moment.",
)


def too_large(max_bytes: int) -> Problem:
    return Problem(
        413,
        "The upload is too large",
        f"This bot takes at most {_megabytes(max_bytes)} per upload. Upload the "
        "<b>Streaming_History_Audio_*.json</b> files from Spotify's ZIP a few at a time.",
    )


def refusal_problem(problem: ImportProblem, reason: str) -> Problem:
    return Problem(400, REFUSAL_TITLES[problem], escape(reason))


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#121212;
color:#eee;margin:0;display:flex;justify-content:center;line-height:1.5}
main{width:100%;max-width:40rem;box-sizing:border-box;margin:2rem 1rem;padding:2rem;
border-radius:12px;background:#1e1e1e}
h1{font-size:1.5rem;margin-top:0;color:var(--accent)} h2{font-size:1.1rem;margin-bottom:.3rem}
a{color:#1ed760} .who{font-size:1.05rem} .small{color:#aaa;font-size:.9rem}
ol li,ul li{margin:.3rem 0} .notice{border-left:4px solid #e22134;padding:.5rem 1rem;
background:#2a1a1c;border-radius:6px} .notice h2{margin-top:0;color:#ff6b6b}
form{margin:1rem 0;padding:1rem;border:1px dashed #555;border-radius:8px}
label{display:block;margin-bottom:.5rem} input[type=file]{color:#eee;margin-bottom:1rem;
max-width:100%} button{background:#1db954;color:#000;border:0;border-radius:20px;
padding:.6rem 1.6rem;font-weight:700;font-size:1rem;cursor:pointer}
progress{width:100%;height:1.2rem;accent-color:#1db954} .headline{font-weight:600}
#summary{background:#16281c;border-radius:8px;padding:.8rem 1rem .8rem 2rem}
"""

_SCRIPT = """
(() => {
  const form = document.getElementById("upload");
  const box = document.getElementById("progress");
  const bar = document.getElementById("bar");
  const headline = document.getElementById("headline");
  const counts = document.getElementById("counts");
  const summary = document.getElementById("summary");
  const title = document.querySelector("h1");
  const mb = (n) => (n / 1048576).toFixed(1);
  const fill = (list, lines) => {
    list.replaceChildren(...lines.map((line) => {
      const item = document.createElement("li");
      item.textContent = line;
      return item;
    }));
  };
  const swap = (html) => {
    const page = new DOMParser().parseFromString(html, "text/html");
    const main = page.querySelector("main");
    if (!main) {
      headline.textContent = "The upload failed. Reload the page and try again.";
      return;
    }
    document.title = page.title;
    document.querySelector("main").replaceWith(main);
  };
  let polling = false;
  let posted = false;
  const poll = () => {
    polling = true;
    fetch(box.dataset.status, {headers: {Accept: "application/json"}, cache: "no-store"})
      .then((response) => response.json())
      .then((status) => {
        box.dataset.state = status.state;
        if (status.state === "uploading") { setTimeout(poll, 700); return; }
        headline.textContent = status.headline;
        title.textContent = status.title;
        fill(counts, status.lines);
        if (status.files_total) { bar.max = status.files_total; bar.value = status.files_done; }
        if (status.state === "done") {
          bar.max = 1; bar.value = 1;
          fill(summary, status.summary);
          summary.hidden = false;
        } else if (status.state === "refused" || status.state === "failed") {
          if (posted) location.reload();  // else the upload's own answer says what went wrong
        } else {
          setTimeout(poll, 700);
        }
      })
      .catch(() => setTimeout(poll, 2000));
  };
  if (form) {
    form.addEventListener("submit", (event) => {
      if (!form.reportValidity()) return;
      event.preventDefault();
      for (const id of ["upload", "steps", "notes", "validity", "notice"]) {
        const element = document.getElementById(id);
        if (element) element.hidden = true;
      }
      box.hidden = false;
      headline.textContent = "Uploading…";
      const request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable) return;
        bar.max = e.total; bar.value = e.loaded;
        headline.textContent = `Uploading… ${Math.floor(100 * e.loaded / e.total)} % ` +
          `(${mb(e.loaded)} of ${mb(e.total)} MB)`;
      });
      request.upload.addEventListener("load", () => {
        headline.textContent = "Upload complete. Checking your files…";
        bar.removeAttribute("value");
        if (!polling) poll();
      });
      request.addEventListener("load", () => {
        if (request.status === 202) {
          posted = true;
          if (!polling) poll();
          return;
        }
        // Files refused after they arrived: the page shows the form again, saying why.
        fetch(box.dataset.status, {headers: {Accept: "application/json"}, cache: "no-store"})
          .then((response) => response.json())
          .then((status) => {
            if (status.state === "refused") location.reload(); else swap(request.responseText);
          })
          .catch(() => swap(request.responseText));
      });
      request.addEventListener("error", () => {
        for (const id of ["upload", "steps", "notes"]) document.getElementById(id).hidden = false;
        headline.textContent = "The upload was interrupted. Check your connection and try again.";
      });
      request.send(new FormData(form));
    });
  } else if (box && box.dataset.state !== "done") {
    poll();
  }
})();
"""


def _page(
    title: str,
    body: str,
    *,
    accent: str = GREEN,
    nonce: str | None = None,
    refresh: bool = False,
) -> str:
    script = f'<script nonce="{nonce}">{_SCRIPT}</script>' if nonce else ""
    refresh_tag = (
        f'<noscript><meta http-equiv="refresh" content="{REFRESH_SECONDS}"></noscript>'
        if refresh
        else ""
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title} · Encore</title>{refresh_tag}\n<style>{_STYLE}</style></head>\n"
        f'<body style="--accent:{accent}"><main>\n<h1>{title}</h1>\n{body}\n</main>'
        f"{script}</body></html>\n"
    )


def problem_page(problem: Problem) -> str:
    return _page(escape(problem.title), f"<p>{problem.text}</p>", accent=RED)


def upload_page(
    *,
    member_name: str,
    action: str,
    status_url: str,
    csrf: str,
    nonce: str,
    max_bytes: int,
    notice: Problem | None = None,
) -> str:
    notice_html = (
        f'<section class="notice" id="notice"><h2>{escape(notice.title)}</h2>'
        f"<p>{notice.text}</p></section>"
        if notice
        else ""
    )
    body = f"""<p class="who">Importing for <b>{escape(member_name)}</b>.<span id="validity"> This
link is yours alone: it works for 30 minutes after you ran <b>/import</b>, for one
import.</span></p>
{notice_html}
<section id="steps">
<h2>Get your history from Spotify</h2>
<ol>
<li>Open <a href="{PRIVACY_PAGE}" target="_blank" rel="noopener noreferrer">Spotify's privacy
page</a> and log in.</li>
<li>Under <b>Download your data</b>, tick <b>Extended streaming history</b>, press
<b>Request data</b>, and confirm with the link Spotify e-mails you.</li>
<li>When Spotify's e-mail arrives (often within days, at most 30), download
<b>my_spotify_data.zip</b> and upload it here as it is.</li>
</ol>
</section>
<form id="upload" method="post" enctype="multipart/form-data" action="{escape(action)}">
<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf)}">
<label for="files">The ZIP, or one or more <b>.json</b> history files (at most
{_megabytes(max_bytes)} together)</label>
<input id="files" type="file" name="{FILE_FIELD}" multiple required
accept=".zip,.json,application/zip,application/json">
<div><button type="submit">Import</button></div>
</form>
{_progress_box(status_url, "idle", "", [], hidden=True)}
<ul id="summary" hidden></ul>
<p class="small" id="notes">The shorter <b>Account data</b> download
(StreamingHistory_music_*.json) works too, but covers only the last year. Plays under
30 seconds, podcasts, audiobooks, videos and private-session plays are not counted, and
importing the same files again adds nothing.</p>"""
    return _page("Import your Spotify listening history", body, nonce=nonce)


def job_page(job: ImportJob, *, status_url: str, nonce: str) -> str:
    """Progress while the import runs (refreshing itself without JavaScript), then its result."""
    status = job_status(job)
    done = job.state is JobState.DONE
    summary = "".join(f"<li>{escape(line)}</li>" for line in status["summary"] or [])
    body = (
        f'<p class="who">For <b>{escape(job.ticket.member_name)}</b>.</p>\n'
        + _progress_box(
            status_url,
            status["state"],
            status["headline"],
            status["lines"],
            done=1 if done else status["files_done"],
            total=1 if done else status["files_total"],
        )
        + f'\n<ul id="summary"{"" if done else " hidden"}>{summary}</ul>\n'
        '<p class="small">You can close this page: your <b>/import</b> reply in Discord shows '
        "the result too.</p>"
    )
    return _page(escape(status["title"]), body, nonce=nonce, refresh=not done)


def _progress_box(
    status_url: str,
    state: str,
    headline: str,
    lines: list[str],
    *,
    hidden: bool = False,
    done: int = 0,
    total: int = 0,
) -> str:
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    value = f' value="{done}" max="{total}"' if total else ""
    return (
        f'<section id="progress" data-status="{escape(status_url)}" data-state="{state}"'
        f'{" hidden" if hidden else ""}><progress id="bar"{value}></progress>'
        f'<p id="headline" class="headline" aria-live="polite">{escape(headline)}</p>'
        f'<ul id="counts">{items}</ul></section>'
    )


def job_status(job: ImportJob) -> dict[str, Any]:
    """What the page shows of a job, as the status endpoint sends it."""
    progress = job.progress
    files_done = progress.files_done if progress else 0
    files_total = progress.files_total if progress else 0
    lines: list[str] = []
    if progress is not None and job.state is not JobState.DONE:
        lines = [
            f"Plays read: {progress.plays_read:,}",
            f"Plays added: {progress.added:,}",
            f"Already stored, skipped: {progress.duplicates:,}",
        ]
        skipped = _skipped_words(progress.skipped)
        if skipped:
            lines.append(f"Not counted: {skipped}")
    state = job.state
    title, headline = {
        JobState.UPLOADING: ("Importing your listening history", "Uploading…"),
        JobState.CHECKING: (
            "Importing your listening history",
            f"Checking your files… ({files_done} of {files_total})",
        ),
        JobState.STORING: (
            "Importing your listening history",
            f"Importing… ({files_done} of {files_total} files read)",
        ),
        JobState.DONE: ("Import finished", "Done! Your plays are in."),
        JobState.REFUSED: ("Import refused", "These files could not be imported."),
        JobState.FAILED: ("Import failed", FAILED_NOTICE[0]),
    }[state]
    return {
        "state": state.value,
        "title": title,
        "headline": headline,
        "files_done": files_done,
        "files_total": files_total,
        "plays_read": progress.plays_read if progress else 0,
        "added": progress.added if progress else 0,
        "duplicates": progress.duplicates if progress else 0,
        "lines": lines,
        "summary": summary_lines(job.summary) if job.summary else None,
    }


def summary_lines(summary: ImportSummary) -> list[str]:
    lines = [
        f"Plays added: {summary.added:,}"
        + (f" ({summary.duplicates:,} were already stored)" if summary.duplicates else "")
    ]
    if summary.first_play and summary.last_play:
        lines.append(f"Dates: {summary.first_play:%d %b %Y} to {summary.last_play:%d %b %Y}")
    if summary.top_artist:
        lines.append(f"Top artist: {summary.top_artist} ({summary.top_artist_plays:,} plays)")
    skipped = _skipped_words(summary.skipped)
    lines.append(f"Not counted: {skipped}" if skipped else "Nothing was left out.")
    return lines


def _skipped_words(skipped: Mapping[SkipReason, int]) -> str:
    return ", ".join(f"{count:,} {reason.words}" for reason, count in skipped.items() if count)


def _megabytes(size: int) -> str:
    return f"{size / (1 << 20):,.0f} MB"
