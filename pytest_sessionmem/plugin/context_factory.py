"""Building each test's ``recorded_session`` from its settings, and closing it.

Opening picks the cassette and transcript paths, the scrub rules, the base URL and the
record mode; closing writes the cassette (or discards it) and says what happened.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_sessionmem.plugin.hints import missing_key, record_hint
from pytest_sessionmem.plugin.paths import (
    CASSETTE_SUFFIX,
    TRANSCRIPT_SUFFIX,
    check_no_link_out,
    test_file_path,
)
from pytest_sessionmem.plugin.report import CassetteOutcome
from pytest_sessionmem.plugin.upstream import refusing_transport
from pytest_sessionmem.providers.registry import provider_spec, secret_env_names

if TYPE_CHECKING:
    from pytest_sessionmem.plugin.context import RecordedSession
    from pytest_sessionmem.plugin.settings import Settings
    from pytest_sessionmem.plugin.upstream import Upstream

__all__ = ["close_context", "open_context"]


def open_context(
    settings: Settings,
    upstream: Upstream,
    *,
    test_path: Path,
    test_name: str,
    nodeid: str,
) -> RecordedSession:
    """Build the ``recorded_session`` of one test."""
    from pytest_sessionmem.cassette import CassetteSession, RecordMode, ScrubConfig, goes_live
    from pytest_sessionmem.plugin.context import RecordedSession

    cassette_path = test_file_path(
        test_path,
        folder=settings.cassette_dir,
        test_name=test_name,
        suffix=CASSETTE_SUFFIX,
        override=settings.cassette,
    )
    mode = RecordMode(settings.record_mode)
    secrets = {
        env: value
        for env in (*secret_env_names(), *settings.secret_env)
        if (value := os.environ.get(env))
    }
    scrub = ScrubConfig(
        headers=settings.scrub_headers,
        query_params=settings.scrub_query_params,
        json_paths=settings.scrub_json_paths,
        patterns=settings.scrub_patterns,
        secrets=secrets,
        pii=settings.scrub_pii,
    )
    # --sessionmem-verify goes live like a recording run (seeded emulator included) and
    # compares each answer with the cassette instead of writing it.
    will_record = goes_live(mode, file_exists=cassette_path.exists(), verify=settings.verify)
    if will_record and not settings.verify:  # never write through a symlinked folder elsewhere
        check_no_link_out(cassette_path, test_path.parent / settings.cassette_dir, what="cassette")
    spec = provider_spec(settings.provider) if settings.provider else None
    base_url = upstream.base_url(settings, recording=will_record, nodeid=nodeid)
    # Without the key the service would refuse every request: the first request that
    # would go out raises a ConfigError instead (replayed ones under new_episodes need none).
    problem = (
        missing_key(spec, base_url=base_url, nodeid=nodeid, mode=settings.record_mode)
        if will_record and spec is not None
        else None
    )
    real: Any = refusing_transport(problem) if problem else None
    session = CassetteSession(
        cassette_path,
        mode=mode,
        base_url=base_url,
        scrub=scrub,
        record_hint=record_hint(nodeid, spec),
        recorded_against=upstream.records_against(settings) if will_record else "",
        # Without one, the session builds its network side when a request first has to
        # go out, sync or async: each costs an SSL context, which replays never pay.
        real_transport=real,
        real_async_transport=real,
        match_ignore=settings.match_ignore,
        before_record_request=settings.before_record_request,
        before_record_response=settings.before_record_response,
        verify=settings.verify,
    )
    api_key = (
        os.environ.get(provider_spec(settings.provider).api_key_env) if settings.provider else None
    )
    transcript_path = test_file_path(
        test_path,
        folder=settings.transcript_dir,
        test_name=test_name,
        suffix=TRANSCRIPT_SUFFIX,
    )
    if settings.update:
        check_no_link_out(
            transcript_path,
            test_path.parent / settings.transcript_dir,
            what="expected-transcript file",
        )
    return RecordedSession(
        provider=settings.provider,
        session_id=settings.session_id,
        base_url=base_url,
        cassette=session,
        transcript_path=transcript_path,
        update=settings.update,
        api_key=api_key,
        replaying=not session.is_recording,
        emulator=upstream.running_emulator if will_record and settings.emulator else None,
        nodeid=nodeid,
    )


def close_context(
    recorded: RecordedSession, *, nodeid: str, failed: bool, keep_failed: bool
) -> CassetteOutcome:
    """Close the clients and write the cassette if it should be; returns what happened."""
    recorded.close()
    report = recorded.cassette.session.finish(failed=failed, keep_on_failure=keep_failed)
    outcome = CassetteOutcome(
        nodeid=nodeid,
        path=str(report.path),
        mode=recorded.cassette.mode,
        played=report.played,
        recorded=report.recorded,
        # A failed test stopped early: what it did not replay says nothing about the
        # cassette, and a warning on top of the failure would only hide it.
        unused=0 if failed else report.unused,
        written=report.written,
        discarded=report.discarded,
        verified=report.verified,
        drifted=report.drifted,
        verify=recorded.cassette.session.verify,
    )
    return outcome
