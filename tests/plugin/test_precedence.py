"""Settings reach the test through every source in one order: CLI > marker > ini > default."""

from __future__ import annotations

SHOW = """
import pytest

@pytest.mark.sessionmem(provider="zep", record_mode="once")
def test_marked(recorded_session):
    print("SEEN", recorded_session.provider, recorded_session.cassette.mode)

def test_unmarked(recorded_session):
    print("SEEN", recorded_session.provider, recorded_session.cassette.mode)
"""


def test_cli_beats_marker_beats_ini(inner) -> None:
    inner.pytester.makeini(
        inner.INI + "sessionmem_provider = meibel\nsessionmem_record_mode = new_episodes\n"
    )
    inner.pytester.makepyfile(test_show=SHOW)
    from_ini_and_marker = inner.replay_offline("-s")
    from_ini_and_marker.assert_outcomes(passed=2)
    from_ini_and_marker.stdout.fnmatch_lines(["*SEEN zep once*", "*SEEN meibel new_episodes*"])
    from_cli = inner.replay_offline(
        "-s", "--sessionmem-provider=eliza", "--sessionmem-record-mode=none"
    )
    from_cli.assert_outcomes(passed=2)
    from_cli.stdout.fnmatch_lines(["*SEEN eliza none*", "*SEEN eliza none*"])


def test_defaults(inner) -> None:
    # The provider has no default: a test without one fails at set-up (test_first_contact.py).
    inner.pytester.makepyfile(
        test_show="import pytest\n\n\n@pytest.mark.sessionmem(provider='zep')\n"
        "def test_x(recorded_session):\n"
        "    print('SEEN', recorded_session.provider, recorded_session.cassette.mode)\n"
    )
    result = inner.replay_offline("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*SEEN zep none*"])
