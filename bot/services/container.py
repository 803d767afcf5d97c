"""Builds the services once, over one HTTP session and one database engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp

from bot.config import Settings
from bot.db.engine import Sessions, session_scope
from bot.db.vault import TokenVault
from bot.domain import PlayIn
from bot.services.access import AccessService
from bot.services.accounts import AccountService
from bot.services.artwork import ArtworkFetcher
from bot.services.charts import ChartService
from bot.services.community import CommunityService
from bot.services.enrichment import TrackEnricher
from bot.services.import_jobs import ImportJobs
from bot.services.import_links import ImportLinks
from bot.services.imports import ZipLimits
from bot.services.imports.storing import store_sink
from bot.services.library import LibraryService
from bot.services.limits import SharedLimits
from bot.services.linking import LinkingService
from bot.services.listening import ListeningService
from bot.services.member_limits import MemberLimiter
from bot.services.members import MembershipService
from bot.services.play_rankings import PlayRankingService
from bot.services.presence import PlaySink, PresenceTracker
from bot.services.recent import RecentlyPlayedPoller
from bot.services.recording import RecordingSwitches
from bot.services.server_playlist import ServerPlaylistService
from bot.services.shares import ShareService
from bot.services.spending import BackgroundSpender
from bot.services.sync import SyncService
from bot.services.top import TopService
from bot.services.wrapped import WrappedService
from bot.spotify.client import AppTokens, SpotifyClient
from bot.spotify.oauth import SpotifyOAuth
from bot.store.play_imports import HistoryRecorder
from bot.store.plays import record_plays

START_PATH = "/link"
RECENT_SCHEDULE = "recent"
ENRICH_SCHEDULE = "enrich"
IMPORTS_FOLDER = "imports"


def web_origin(settings: Settings) -> str:
    """The bot's own web server as members reach it: the redirect URI's origin."""
    parts = urlsplit(settings.SPOTIFY_REDIRECT_URI)
    return f"{parts.scheme}://{parts.netloc}"


def start_url(settings: Settings) -> str:
    """The bot's own /link starter, on the same origin as the redirect URI."""
    return f"{web_origin(settings)}{START_PATH}"


@dataclass
class Services:
    spotify: SpotifyClient
    oauth: SpotifyOAuth
    accounts: AccountService
    access: AccessService
    linking: LinkingService
    members: MembershipService
    library: LibraryService
    top: TopService
    shares: ShareService
    charts: ChartService
    community: CommunityService
    plays: PlayRankingService
    server_playlist: ServerPlaylistService
    sync: SyncService
    recent: RecentlyPlayedPoller
    enrichment: TrackEnricher
    imports: ImportJobs
    limits: SharedLimits
    recording: RecordingSwitches
    presence: PresenceTracker
    listening: ListeningService
    member_limits: MemberLimiter
    wrapped: WrappedService

    @classmethod
    def build(
        cls,
        settings: Settings,
        http: aiohttp.ClientSession,
        sessions: Sessions,
        vault: TokenVault,
    ) -> Services:
        secret = settings.SPOTIFY_CLIENT_SECRET
        oauth = SpotifyOAuth(
            http,
            client_id=settings.SPOTIFY_CLIENT_ID or "",
            client_secret=secret.get_secret_value() if secret else "",
            redirect_uri=settings.SPOTIFY_REDIRECT_URI,
            accounts_url=settings.SPOTIFY_ACCOUNTS_URL,
            timeout=settings.SPOTIFY_TIMEOUT_SECONDS,
        )
        spotify = SpotifyClient(
            http,
            api_url=settings.SPOTIFY_API_URL,
            timeout=settings.SPOTIFY_TIMEOUT_SECONDS,
            interactive_max_wait=settings.SPOTIFY_INTERACTIVE_MAX_WAIT,
            background_max_wait=settings.SPOTIFY_BACKGROUND_MAX_WAIT,
        )
        limits = SharedLimits(
            sessions,
            sync_budget=settings.SPOTIFY_SYNC_BUDGET,
            interactive_share=settings.SPOTIFY_INTERACTIVE_SHARE,
        )
        spotify.limits = limits
        accounts = AccountService(sessions, vault, oauth, spotify)
        top = TopService(sessions, accounts, timedelta(minutes=settings.SNAPSHOT_MAX_AGE_MINUTES))
        community = CommunityService(sessions, top)
        plays = PlayRankingService(sessions)
        members = MembershipService(sessions)
        recording = RecordingSwitches(sessions)
        presence = PresenceTracker(recording, plays_sink(sessions))
        app_tokens = AppTokens(oauth)
        artwork = ArtworkFetcher(http)
        return cls(
            spotify=spotify,
            oauth=oauth,
            accounts=accounts,
            access=AccessService(sessions, accounts.linked, members),
            linking=LinkingService(
                sessions,
                vault,
                oauth,
                spotify,
                start_url=start_url(settings),
                linked=accounts.linked,
            ),
            members=members,
            library=LibraryService(accounts),
            shares=ShareService(sessions),
            top=top,
            charts=ChartService(top, artwork),
            community=community,
            plays=plays,
            server_playlist=ServerPlaylistService(community, accounts, plays),
            sync=SyncService(
                sessions,
                accounts,
                spotify,
                interval=timedelta(hours=settings.SYNC_INTERVAL_HOURS),
                budget=limits,
            ),
            recent=RecentlyPlayedPoller(
                sessions,
                accounts,
                BackgroundSpender(
                    spotify, limits.share(RECENT_SCHEDULE, settings.SPOTIFY_RECENT_BUDGET)
                ),
                may_record=recording.records,
            ),
            enrichment=TrackEnricher(
                sessions,
                lambda: spotify.app(app_tokens),
                BackgroundSpender(
                    spotify, limits.share(ENRICH_SCHEDULE, settings.SPOTIFY_ENRICH_BUDGET)
                ),
            ),
            imports=ImportJobs(
                ImportLinks(sessions, vault, base_url=web_origin(settings)),
                store_sink(sessions, HistoryRecorder().record),
                folder=settings.DATA_DIR / IMPORTS_FOLDER,
                concurrency=settings.IMPORT_CONCURRENCY,
                limits=ZipLimits(max_total_bytes=settings.IMPORT_MAX_UNPACKED_BYTES),
                may_record=recording.records,
            ),
            limits=limits,
            recording=recording,
            presence=presence,
            listening=ListeningService(sessions, accounts, presence),
            member_limits=MemberLimiter(),
            wrapped=WrappedService(sessions, artwork),
        )


def plays_sink(sessions: Sessions) -> PlaySink:
    """Writes a batch of plays in one transaction."""

    async def write(plays: Sequence[PlayIn]) -> None:
        async with session_scope(sessions) as session:
            await record_plays(session, plays)

    return write
