"""The files a run writes stay where they belong: one cassette per test, names every file
system can hold, no writes or deletes through a symlinked folder that leads out of the
cassette folder, and no temporary files left behind by a killed run."""

from __future__ import annotations

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

    result = inner.record()

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
        "-p", "no:cacheprovider", "-n", "2", *inner.RECORD_ARGS
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
