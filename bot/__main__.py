"""`python -m bot [run|migrate|check|invite|genkey]`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.process.memory import limit_malloc_arenas


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        print("Encore cannot start: the configuration has problems.", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        print("Fix them in .env (see .env.example) or the environment.", file=sys.stderr)
        raise SystemExit(2) from None


def _require_credentials(settings: Settings, names: tuple[str, ...] | None = None) -> None:
    missing = [n for n in settings.missing_credentials() if names is None or n in names]
    if missing:
        print("Encore cannot start: these settings are missing:", file=sys.stderr)
        for name in missing:
            print(f"  - {name}", file=sys.stderr)
        print(
            "Copy .env.example to .env and fill them in (the README explains where each comes "
            "from), or run `python -m bot check` for a full report.",
            file=sys.stderr,
        )
        print(
            "To see Encore work without any credentials, run: python -m bot demo "
            "(or scripts/run demo)",
            file=sys.stderr,
        )
        raise SystemExit(2)


def _require_shared_key(settings: Settings, process: str) -> None:
    """A process that shares the database with others must not generate its own key: what
    one process encrypts, every other one has to decrypt."""
    if settings.encryption_keys:
        return
    print(
        f"Encore cannot start: {process} needs TOKEN_ENCRYPTION_KEY.\n"
        "Every process that shares the database must have the same key, or links one of them "
        "writes are unreadable to the others. Generate one with `python -m bot genkey` (or "
        "reuse the one in the bot's data folder, encryption.key) and set the same "
        "TOKEN_ENCRYPTION_KEY on every process.",
        file=sys.stderr,
    )
    raise SystemExit(2)


def _run_demo(*, keep: bool, step_delay: float) -> int:
    """The demo drives the stand-ins in the checkout's `sandbox/`, which is not shipped."""
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "sandbox" / "demo.py").is_file() and str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    try:
        from sandbox.demo import main as demo_main
    except ModuleNotFoundError as exc:
        if exc.name not in ("sandbox", "sandbox.demo"):
            raise
        print(
            "The demo needs the local stand-ins in sandbox/, which only a source checkout has: "
            "clone the repository and run `scripts/run demo` there.",
            file=sys.stderr,
        )
        return 2
    return demo_main(keep=keep, step_delay=step_delay)


def main(argv: list[str] | None = None) -> int:
    limit_malloc_arenas()  # before any thread starts (see bot/process/memory.py)
    parser = argparse.ArgumentParser(prog="python -m bot", description="Encore, the Spotify bot.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot and its web server (the default)")
    sub.add_parser("web", help="run only the web server (OAuth callback, /healthz, /metrics)")
    sub.add_parser("migrate", help="apply database migrations and exit")
    sub.add_parser("check", help="validate the configuration and the credentials")
    sub.add_parser("invite", help="print the URL that adds the bot to a server")
    sub.add_parser("genkey", help="print a new TOKEN_ENCRYPTION_KEY")
    demo = sub.add_parser("demo", help="tour the real bot against local stand-ins (no credentials)")
    demo.add_argument("--keep", action="store_true", help="keep the temporary data folder and log")
    demo.add_argument(
        "--step-delay", type=float, default=0.0, metavar="SECONDS", help="pause between steps"
    )
    args = parser.parse_args(argv)
    command = args.command or "run"

    if command == "genkey":
        from cryptography.fernet import Fernet

        print(Fernet.generate_key().decode())
        return 0
    if command == "demo":
        return _run_demo(keep=args.keep, step_delay=args.step_delay)

    settings = _settings_or_exit()
    from bot.process.logs import setup_logging

    setup_logging(settings.LOG_LEVEL)
    if command == "migrate":
        from bot.db.migrate import upgrade_to_head

        asyncio.run(upgrade_to_head(settings.DATABASE_URL))
        print("Database is at the latest migration.")
        return 0
    if command == "check":
        from bot.process.diagnostics import run_checks

        return asyncio.run(run_checks(settings))
    if command == "invite":
        from bot.process.diagnostics import invite_url

        _require_credentials(settings)
        print(invite_url(settings))
        return 0

    if command == "web":
        _require_credentials(settings, ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET"))
        _require_shared_key(settings, "a web-only process (`python -m bot web`)")
        from bot.process.runner import run_event_loop, run_web

        return run_event_loop(run_web(settings))

    _require_credentials(settings)
    if settings.SHARD_COUNT is not None:
        _require_shared_key(settings, "a sharded process (SHARD_COUNT is set)")
    from bot.process.runner import run_bot, run_event_loop

    return run_event_loop(run_bot(settings))


if __name__ == "__main__":
    sys.exit(main())
