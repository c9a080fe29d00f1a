"""The files a run writes stay where they belong: one cassette per test, names every file
system can hold, no writes or deletes through a symlinked folder that leads out of the
cassette folder, and no temporary files left behind by a killed run."""

from __future__ import annotations

import os

import pytest

SHARED = """
import pytest

@pytest.mark.sessionmem(provider="zep", session_id="s1", cassette="{first}")
def test_first(recorded_session, session_client):
    session_client.add_user("u1")

@pytest.mark.sessionmem(provider="zep", session_id="s2"{second})
def test_second(recorded_session, session_client):
    session_client.add_user("u2")
"""

SHARED_MESSAGE = (
    "*ConfigError: test_shared.py::test_first and test_shared.py::test_second record into "
    "one cassette, cassettes/test_shared/{file}: each would overwrite the other's "
    "recording*"
)


# -- two tests, one cassette= --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "file"),
    [
        ("shared", ', cassette="shared"', "shared.json"),
        ("shared", ', cassette="shared.json"', "shared.json"),  # the suffix is implied
        ("test_second", "", "test_second.json"),  # a name that is another test's own file
    ],
)
def test_two_tests_naming_one_cassette_both_fail_before_recording(
    inner, first: str, second: str, file: str
) -> None:
    inner.pytester.makepyfile(test_shared=SHARED.format(first=first, second=second))

    # -rN: no short summary, which under CI=true repeats each error's text in full.
    result = inner.record("-rN")

    result.assert_outcomes(errors=2)
    assert result.stdout.str().count("record into one cassette") == 2
    result.stdout.fnmatch_lines([SHARED_MESSAGE.format(file=file)])
    assert inner.cassettes() == []


def test_two_tests_naming_one_cassette_both_fail_under_xdist(inner) -> None:
    inner.pytester.makepyfile(
        test_shared=SHARED.format(first="shared", second=', cassette="shared"')
    )
    inner.online()

    result = inner.pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "-rN", *inner.RECORD_ARGS
    )

    result.assert_outcomes(errors=2)
    assert result.stdout.str().count("record into one cassette") == 2
    result.stdout.fnmatch_lines([SHARED_MESSAGE.format(file="shared.json")])
    assert inner.cassettes() == []


def test_one_cassette_name_in_two_modules_is_two_files(inner) -> None:
    for module in ("test_one", "test_two"):
        inner.pytester.makepyfile(
            **{module: SHARED.format(first="shared", second="").replace("test_second", "test_b")}
        )

    inner.record().assert_outcomes(passed=4)

    assert len(inner.cassettes()) == 4


# -- cassette= names no file system holds --------------------------------------------------------


BAD_NAME = """
import pytest

@pytest.mark.sessionmem(provider="zep", session_id="s1", cassette={name})
def test_named(recorded_session, session_client):
    session_client.add_user("u1")
"""


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ('"a\\x00b"', "holds a NUL character, which no file name can hold"),
        (
            '"x" * 250',
            "makes a file name of 255 bytes ('xxxxxxxxxxxxxxxxxxxx'...); a file name "
            "may have at most 241 bytes",
        ),
        ('"é" * 128 + "/c"', "makes a folder name of 256 bytes"),
    ],
)
def test_a_cassette_name_no_file_system_holds_fails_at_set_up(
    inner, name: str, problem: str
) -> None:
    inner.pytester.makepyfile(test_bad=BAD_NAME.format(name=name))

    result = inner.record()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [f"*ConfigError: @pytest.mark.sessionmem(cassette=*): the cassette name {problem}*"]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
    assert inner.cassettes() == []


# -- symlinked folders ---------------------------------------------------------------------------


UNUSED_FILES = """
import pytest

@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_kept(recorded_session, session_client):
    session_client.add_user("u1")

def test_plain():
    pass
"""


def test_prune_leaves_files_behind_a_link_out_of_the_folder_alone(
    inner, tmp_path_factory: pytest.TempPathFactory
) -> None:
    inner.pytester.makepyfile(test_mod=UNUSED_FILES)
    inner.record().assert_outcomes(passed=2)
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "precious.json").write_text("{}\n", encoding="utf-8")
    (elsewhere / "notes.txt").write_text("keep me\n", encoding="utf-8")
    # a module folder of each kind is a link out of its cassette / transcript folder
    os.symlink(elsewhere, inner.path / "cassettes/test_plain_mod", target_is_directory=True)
    (inner.path / "transcripts").mkdir()
    os.symlink(elsewhere, inner.path / "transcripts/test_plain_mod", target_is_directory=True)
    inner.pytester.makepyfile(test_plain_mod="def test_plain():\n    pass\n")
    planted = inner.path / "cassettes/test_mod/test_gone.json"
    planted.write_text("{}\n", encoding="utf-8")

    result = inner.replay_offline("--sessionmem-prune")

    result.assert_outcomes(passed=3)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["notes.txt", "precious.json"]
    assert not planted.exists()  # the rest of the prune went ahead
    result.stdout.fnmatch_lines(
        [
            "prune: deleted 1 unused file(s):",
            "  cassettes/test_mod/test_gone.json",
            "prune: left 2 unused file(s) alone behind symlinked folders that lead out of the "
            "cassette and transcript folders:",
            f"  cassettes/test_plain_mod -> {os.path.realpath(elsewhere)} (1 file(s))",
            f"  transcripts/test_plain_mod -> {os.path.realpath(elsewhere)} (1 file(s))",
        ]
    )


def test_recording_through_a_link_out_of_the_cassette_folder_fails_at_set_up(
    inner, tmp_path_factory: pytest.TempPathFactory
) -> None:
    inner.pytester.makepyfile(test_mod=UNUSED_FILES)
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (inner.path / "cassettes").mkdir()
    os.symlink(elsewhere, inner.path / "cassettes/test_mod", target_is_directory=True)

    result = inner.record()

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*ConfigError: The cassette {inner.path}/cassettes/test_mod/test_kept.json would be "
            f"written through {inner.path}/cassettes/test_mod, a symlink to "
            f"{os.path.realpath(elsewhere)}, outside the folder {inner.path}/cassettes.*"
        ]
    )
    assert list(elsewhere.iterdir()) == []


def test_a_cassette_folder_that_is_itself_a_link_records_and_replays(
    inner, tmp_path_factory: pytest.TempPathFactory
) -> None:
    inner.pytester.makepyfile(test_mod=UNUSED_FILES)
    elsewhere = tmp_path_factory.mktemp("shared-cassettes")
    os.symlink(elsewhere, inner.path / "cassettes", target_is_directory=True)

    inner.record().assert_outcomes(passed=2)

    assert [p.name for p in (elsewhere / "test_mod").iterdir()] == ["test_kept.json"]
    inner.replay_offline().assert_outcomes(passed=2)


# -- temporary files a killed run left -----------------------------------------------------------


def test_prune_removes_and_lists_the_temporaries_a_killed_run_left(inner) -> None:
    inner.pytester.makepyfile(test_mod=UNUSED_FILES)
    inner.record().assert_outcomes(passed=2)
    left = inner.path / "cassettes/test_mod/.test_kept.json.k9x_2abc.tmp"
    left.write_bytes(b'{"version": 1, "interac')
    other = inner.path / "cassettes/test_mod/.hidden-notes"
    other.write_bytes(b"not ours")

    result = inner.replay_offline("--sessionmem-prune")

    result.assert_outcomes(passed=2)
    assert not left.exists()
    assert other.exists()
    result.stdout.fnmatch_lines(
        [
            "prune: removed 1 temporary file(s) a killed run left:",
            "  cassettes/test_mod/.test_kept.json.k9x_2abc.tmp",
        ]
    )
