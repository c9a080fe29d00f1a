"""--sessionmem-prune deletes exactly the unused cassette and transcript files of a full run,
refuses on partial runs and failing runs, and works under pytest-xdist."""

from __future__ import annotations

import pytest

SUITE = """
import pytest

pytestmark = pytest.mark.sessionmem(provider="zep")

def seed(client, n):
    client.add_user(f"u{n}")
    client.create_session(session_id=f"s{n}", user_id=f"u{n}")
    client.add_messages(f"s{n}", [("user", f"hello {n}")])

def test_a(recorded_session, session_client):
    seed(session_client, 1)
    recorded_session.assert_transcript(actual=session_client.get_messages("s1"))

def test_b(session_client):
    seed(session_client, 2)

def test_c():
    pass  # uses no cassette (it used to)

@pytest.mark.skip(reason="kept for later")
def test_skipped(recorded_session):
    pass

@pytest.mark.skip(reason="kept for later")
@pytest.mark.sessionmem(cassette="shared")
def test_skipped_shared(recorded_session):
    pass
"""

PLANTED = (
    "cassettes/test_mod/test_gone.json",  # its test was deleted
    "cassettes/test_mod/test_c.json",  # its test ran and did not use it
    "transcripts/test_mod/test_gone.txt",
    "transcripts/test_mod/test_b.txt",  # test_b ran without reading a transcript file
)
KEPT = (
    "cassettes/test_mod/test_a.json",
    "cassettes/test_mod/test_b.json",
    "cassettes/test_mod/test_skipped.json",  # a skipped test still owns its file
    "cassettes/test_mod/shared.json",  # named by a marker
    "transcripts/test_mod/test_a.txt",
    "cassettes/test_old_module/test_x.json",  # a module this run did not collect
)
EMPTY_CASSETTE = '{"version": 1, "recorded_with": "pytest-sessionmem", "interactions": []}\n'


def recorded_suite(inner) -> None:
    inner.pytester.makepyfile(test_mod=SUITE)
    inner.record("--sessionmem-update").assert_outcomes(passed=3, skipped=2)
    for name in (*PLANTED, *KEPT):
        path = inner.path / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            text = EMPTY_CASSETTE if name.endswith(".json") else "# sessionmem transcript 1\n"
            path.write_text(text, encoding="utf-8")


def present(inner) -> set[str]:
    files = [*inner.files("cassettes/**/*"), *inner.files("transcripts/**/*")]
    return {str(p.relative_to(inner.path)) for p in files}


def test_prune_deletes_exactly_the_unused_files(inner) -> None:
    recorded_suite(inner)

    result = inner.replay_offline("--sessionmem-prune")

    result.assert_outcomes(passed=3, skipped=2)
    assert present(inner) == set(KEPT)
    result.stdout.fnmatch_lines(
        [
            "prune: deleted 4 unused file(s):",
            "  cassettes/test_mod/test_c.json",
            "  cassettes/test_mod/test_gone.json",
            "  transcripts/test_mod/test_b.txt",
            "  transcripts/test_mod/test_gone.txt",
        ]
    )
    again = inner.run("--sessionmem-prune")
    again.stdout.fnmatch_lines(["prune: every cassette and transcript file is used; nothing*"])


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("-k", "test_a"), "-k 'test_a' selects part of the tests"),
        (("-m", "slow"), "-m 'slow' selects part of the tests"),
        (("test_mod.py::test_a",), "node id 'test_mod.py::test_a' selects part of a module"),
        (("--lf",), "--lf runs the last failures only"),
    ],
)
def test_prune_refuses_a_partial_run_before_running_anything(
    inner, args: tuple[str, ...], why: str
) -> None:
    recorded_suite(inner)
    before = present(inner)

    inner.offline()
    # --lf needs the cache plugin, which the harness's runs switch off.
    result = inner.pytester.runpytest("-p", "no:randomly", "--sessionmem-prune", *args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*--sessionmem-prune needs a full run, and {why}: a file whose test is left out*"]
    )
    assert present(inner) == before


def test_prune_refuses_after_a_failing_test(inner) -> None:
    recorded_suite(inner)
    before = present(inner)
    (inner.path / "test_mod.py").write_text(
        SUITE.replace("def test_c():\n    pass", "def test_c():\n    assert False"),
        encoding="utf-8",
    )

    result = inner.replay_offline("--sessionmem-prune")

    result.assert_outcomes(passed=2, failed=1, skipped=2)
    result.stdout.fnmatch_lines(
        ["prune: nothing deleted: 1 test(s) failed, and a failing test may have stopped*"]
    )
    assert present(inner) == before


def test_prune_under_xdist_deletes_once_from_the_controller(inner) -> None:
    recorded_suite(inner)
    inner.offline()

    result = inner.pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:randomly", "-n", "2", "--sessionmem-prune"
    )

    result.assert_outcomes(passed=3, skipped=2)
    assert present(inner) == set(KEPT)
    assert result.stdout.str().count("prune: deleted 4 unused file(s):") == 1
