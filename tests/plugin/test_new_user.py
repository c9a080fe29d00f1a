"""What a new user meets, read as they would read it: each error names its type once, hides
the plugin's frames, and every command it prints works when copied (the tests copy it)."""

from __future__ import annotations

import contextlib
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A test that writes a conversation (so it records whole against a fresh emulator) and
# compares it with its expected-transcript file; EXTRA=1 in the environment makes it read
# one more time than it recorded.
CHAT = """
import os

import pytest


@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_chat(recorded_session, session_client):
    session_client.add_user("u1")
    session_client.create_session(session_id="s1", user_id="u1")
    session_client.add_messages("s1", [("user", "hi"), ("assistant", "hello")])
    recorded_session.assert_transcript()
    if os.environ.get("EXTRA"):
        session_client.get_messages("s1", page_size=7)


@pytest.mark.sessionmem(provider="zep", session_id="s2")
def test_other(session_client):
    session_client.add_user("u2")
"""


def _commands(text: str) -> list[str]:
    """Every command an error printed on its own line (indented), or in parentheses."""
    found = re.findall(r"^E?\s+(pytest \S.*?)\s*$", text, flags=re.MULTILINE)
    found += re.findall(r"\((pytest [^)]+)\)", text)
    # Under CI=true the short summary repeats each message in full: each command once.
    return list(dict.fromkeys(found))


def _run_copied(inner, command: str, *extra: str) -> pytest.RunResult:
    args = shlex.split(command)
    assert args[0] == "pytest"
    return inner.run(*args[1:], *extra)


def _recorded(inner) -> None:
    inner.pytester.makepyfile(test_chat=CHAT)
    inner.record("--sessionmem-update").assert_outcomes(passed=2)


# -- item 3: recording without a key -------------------------------------------------------


def test_recording_from_the_service_without_a_key_is_a_config_error(inner) -> None:
    inner.offline()  # no socket may open, no emulator may start
    inner.pytester.makepyfile(test_chat=CHAT)
    result = inner.run("test_chat.py::test_chat", "--sessionmem-record-mode=once", "-rN")
    result.assert_outcomes(failed=1)  # at its first request, before anything is sent
    text = result.stdout.str()
    assert text.count("ConfigError: test_chat.py::test_chat would record from Zep") == 1
    assert "at https://api.getzep.com/api/v2, but ZEP_API_KEY is not set" in text
    assert "Nothing was sent." in text
    assert "network blocked in this run" not in text  # it failed before any connect
    emulator, service = (
        "pytest test_chat.py::test_chat --sessionmem-record-mode=once --sessionmem-emulator",
        "pytest test_chat.py::test_chat --sessionmem-record-mode=once",
    )
    assert _commands(text) == [service, emulator]
    # The alternative it names works as printed: the emulator needs no key.
    inner.online()
    copied = _run_copied(inner, emulator, "--sessionmem-update")
    copied.assert_outcomes(passed=1)
    assert (inner.path / "cassettes" / "test_chat" / "test_chat.json").exists()


def test_recording_against_a_local_server_needs_no_key(inner) -> None:
    inner.pytester.makepyfile(test_chat=CHAT)
    # ElizaOS servers need a key only when configured to; the emulator never does.
    inner.record("test_chat.py::test_other").assert_outcomes(passed=1)


# -- item 6: the documented three-step workflow ---------------------------------------------


def _plugin_doc_workflow() -> tuple[str, list[str]]:
    """The first Python example of docs/plugin.md and the commands of its first bash block."""
    text = (ROOT / "docs" / "plugin.md").read_text(encoding="utf-8")
    example = re.search(r"```python\n(.*?)```", text, flags=re.DOTALL)
    commands = re.search(r"```bash\n(.*?)```", text, flags=re.DOTALL)
    assert example is not None and commands is not None
    lines = [line.split("#", 1)[0].strip() for line in commands.group(1).splitlines()]
    return example.group(1), [line for line in lines if line]


def test_the_documented_record_workflow_works_verbatim(inner) -> None:
    example, commands = _plugin_doc_workflow()
    assert commands == [
        "pytest --sessionmem-record-mode=once --sessionmem-emulator",
        "pytest --sessionmem-update",
        "pytest",
    ]
    inner.pytester.makepyfile(test_memory=example)
    cassette = inner.path / "cassettes" / "test_memory" / "test_remembers_the_name.json"
    transcript = inner.path / "transcripts" / "test_memory" / "test_remembers_the_name.txt"

    inner.online()
    first = _run_copied(inner, commands[0])
    # The recording is kept although its transcript file does not exist yet; the test
    # says so, with the next step as a command.
    assert cassette.exists()
    assert not transcript.exists()
    first.assert_outcomes(passed=1, errors=1)
    assert "The recording was kept." in first.stdout.str()
    assert _commands(first.stdout.str()) == [
        "pytest test_memory.py::test_remembers_the_name --sessionmem-update"
    ]

    inner.offline()
    _run_copied(inner, commands[1]).assert_outcomes(passed=1)
    assert transcript.read_text().count("--- ") == 2
    _run_copied(inner, commands[2]).assert_outcomes(passed=1)


# -- item 7: every "to record it, run ..." works when copied -------------------------------


def test_a_missing_emulator_cassette_prints_the_emulator_command(inner) -> None:
    _recorded(inner)
    cassette = inner.path / "cassettes" / "test_chat" / "test_chat.json"
    assert '"recorded_against": "emulator"' in cassette.read_text()
    cassette.unlink()
    inner.offline()
    result = inner.run()
    result.assert_outcomes(passed=1, failed=1)
    # The other cassettes of the module say "emulator": so the one command is that one.
    assert _commands(result.stdout.str()) == [
        "pytest test_chat.py::test_chat --sessionmem-record-mode=once --sessionmem-emulator"
    ]
    inner.online()
    _run_copied(inner, _commands(result.stdout.str())[0]).assert_outcomes(passed=1)
    inner.replay_offline().assert_outcomes(passed=2)


def test_a_missing_cassette_of_unknown_origin_prints_both_commands(inner) -> None:
    inner.pytester.makepyfile(test_chat=CHAT)
    inner.offline()
    result = inner.run("test_chat.py::test_other")
    result.assert_outcomes(failed=1)
    assert _commands(result.stdout.str()) == [
        "pytest test_chat.py::test_other --sessionmem-record-mode=once --sessionmem-emulator",
        "pytest test_chat.py::test_other --sessionmem-record-mode=once",
    ]
    assert "or against the real service (with ZEP_API_KEY set):" in result.stdout.str()


def test_a_corrupt_emulator_cassette_prints_a_command_that_records_it_again(
    inner,
) -> None:
    _recorded(inner)
    cassette = inner.path / "cassettes" / "test_chat" / "test_chat.json"
    # A merge conflict: not JSON any more, but it still says where it was recorded.
    cassette.write_text(cassette.read_text().replace('"interactions": [', "<<<<<<< HEAD\n", 1))
    inner.offline()
    result = inner.run("-rN")
    result.assert_outcomes(passed=1, errors=1)
    text = result.stdout.str()
    assert text.count("CassetteCorrupt: Cassette ") == 1
    assert "is not valid JSON" in text
    assert "During handling of the above exception" not in text
    [command] = _commands(text)
    assert command == (
        "pytest test_chat.py::test_chat --sessionmem-record-mode=all --sessionmem-emulator"
    )
    inner.online()
    _run_copied(inner, command).assert_outcomes(passed=1)
    inner.replay_offline().assert_outcomes(passed=2)


def test_an_unmatched_request_against_the_emulator_never_suggests_new_episodes(
    inner, monkeypatch: pytest.MonkeyPatch
) -> None:
    _recorded(inner)
    monkeypatch.setenv("EXTRA", "1")
    inner.offline()
    result = inner.run()
    result.assert_outcomes(passed=1, failed=1)
    text = result.stdout.str()
    assert "UnmatchedRequest: No recorded interaction matches GET /sessions/s1/messages" in text
    assert "new_episodes cannot work against the emulator" in text
    [command] = _commands(text)
    assert command == (
        "pytest test_chat.py::test_chat --sessionmem-record-mode=all --sessionmem-emulator"
    )
    inner.online()
    _run_copied(inner, command).assert_outcomes(passed=1)
    inner.replay_offline().assert_outcomes(passed=2)


# -- item 9: errors name their type once and hide the plugin's frames ----------------------


def test_a_missing_cassette_traceback_shows_the_test_not_the_plugin(inner) -> None:
    inner.pytester.makepyfile(test_chat=CHAT)
    inner.offline()
    result = inner.run("test_chat.py::test_chat", "-rN")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert text.count("CassetteNotFound: Cassette ") == 1
    frames = re.findall(r"^(\S+\.py):\d+: ", text, flags=re.MULTILINE)
    # The test's own line, and the client call it made; no cassette, transport or
    # driver frames of ours, and none of httpx's.
    assert [Path(frame).name for frame in frames] == ["test_chat.py", "session_client.py"]


def test_a_marker_typo_suggests_the_closest_keyword(inner) -> None:
    inner.pytester.makepyfile(
        test_typo="""
import pytest

@pytest.mark.sessionmem(provider="zep", sesion_id="s1")
def test_typo(recorded_session):
    pass
"""
    )
    result = inner.run("-rN")
    result.assert_outcomes(errors=1)
    text = result.stdout.str()
    assert text.count("ConfigError: @pytest.mark.sessionmem got unknown argument(s) sesion_id") == 1
    assert "(did you mean session_id?)" in text
    assert "During handling" not in text


def test_a_bad_marker_value_names_its_type_once(inner) -> None:
    inner.pytester.makepyfile(
        test_bad="""
import pytest

@pytest.mark.sessionmem(provider="zep", record_mode="sometimes")
def test_bad(recorded_session):
    pass
"""
    )
    result = inner.run("-rN")
    result.assert_outcomes(errors=1)
    text = result.stdout.str()
    assert text.count("ConfigError: 'sometimes' is not a valid sessionmem record_mode") == 1
    assert "During handling" not in text


# -- item 10: a read-only transcript folder -------------------------------------------------


@contextlib.contextmanager
def _read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` refuse new files, for root too (an immutable folder)."""
    folder.chmod(0o555)
    probe = folder / ".probe"
    immutable = False
    try:
        try:
            probe.touch()
        except PermissionError:
            pass
        else:  # root ignores modes
            probe.unlink()
            subprocess.run(["chattr", "+i", str(folder)], check=True)
            immutable = True
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_a_read_only_transcript_folder_names_the_file_and_the_folder(inner) -> None:
    _recorded(inner)
    folder = inner.path / "transcripts" / "test_chat"
    transcript = folder / "test_chat.txt"
    transcript.write_text(transcript.read_text().replace("hello", "hello there"))
    inner.offline()
    with _read_only(folder):
        result = inner.run("test_chat.py::test_chat", "--sessionmem-update", "-rN")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert (
        f"TranscriptFileError: {transcript}: cannot write this expected-transcript file: "
        f"its folder {folder} is not writable"
    ) in text
    assert f"chmod u+w '{folder}'" in text
    assert ".tmp" not in text  # no raw error about a temporary file
    assert "hello there" in transcript.read_text()  # the old file is untouched


# -- item 11: unused interactions are one line ---------------------------------------------


def test_unused_interactions_under_filterwarnings_error_are_one_line(
    inner, monkeypatch: pytest.MonkeyPatch
) -> None:
    _recorded(inner)
    inner.pytester.makepyfile(
        test_chat=CHAT.replace(
            '    session_client.add_user("u2")', "    pass  # stopped adding the user"
        )
    )
    inner.offline()
    result = inner.run("test_chat.py::test_other", "-rN")  # INNER_INI: filterwarnings = error
    result.assert_outcomes(passed=1, errors=1)
    section = result.stdout.str().split("ERROR at teardown of test_other", 1)[1]
    section = section.split("= sessionmem =", 1)[0].strip("_ \n=")
    assert section.splitlines() == [
        "UnusedInteractionsWarning: 1 recorded interaction in "
        "cassettes/test_chat/test_other.json was not used by test_chat.py::test_other: "
        "POST /users. To drop them, record the test again (pytest test_chat.py::test_other "
        "--sessionmem-record-mode=all --sessionmem-emulator), or mark it "
        "@pytest.mark.sessionmem(unused='ignore')."
    ]
    # And the command in it works.
    inner.online()
    [command] = _commands(section)
    _run_copied(inner, command).assert_outcomes(passed=1)
    inner.replay_offline("test_chat.py::test_other").assert_outcomes(passed=1)


def test_unused_interactions_warn_at_the_test_when_not_an_error(inner) -> None:
    _recorded(inner)
    inner.pytester.makepyfile(
        test_chat=CHAT.replace('    session_client.add_user("u2")', "    pass")
    )
    inner.offline()
    result = inner.run("test_chat.py::test_other", "-W", "default::UserWarning")
    result.assert_outcomes(passed=1, warnings=1)
    assert re.search(
        r"test_chat\.py:\d+: UnusedInteractionsWarning: 1 recorded", result.stdout.str()
    )
    assert "hooks.py" not in result.stdout.str()


# -- item 8: one base URL per provider -------------------------------------------------------


def test_a_base_url_is_per_provider_and_a_bare_one_shows_the_form(inner) -> None:
    inner.pytester.makepyfile(
        test_where="""
import pytest

@pytest.mark.sessionmem(provider="zep")
def test_zep(recorded_session):
    print("ZEP", recorded_session.base_url)

@pytest.mark.sessionmem(provider="eliza")
def test_eliza(recorded_session):
    print("ELIZA", recorded_session.base_url)
"""
    )
    result = inner.run("-s", "--sessionmem-base-url", "eliza=http://127.0.0.1:3999")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*ZEP https://api.getzep.com/api/v2*"])
    result.stdout.fnmatch_lines(["*ELIZA http://127.0.0.1:3999*"])
    bare = inner.run("--sessionmem-base-url=http://127.0.0.1:3999")
    assert bare.ret == pytest.ExitCode.USAGE_ERROR
    bare.stderr.fnmatch_lines(
        ["*--sessionmem-base-url takes PROVIDER=URL*eliza=http://localhost:3000*"]
    )


# -- item 4: respx and pytest-httpx never reach a cassette ----------------------------------

MOCKED = """
import httpx
import pytest
import respx


@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_with_respx(session_client):
    with respx.mock(assert_all_called=False) as mock:
        mock.get(url__regex=r".*/sessions/s1/messages.*").respond(
            json={"messages": [{"uuid": "m1", "role_type": "user", "content": "MOCKED"}],
                  "row_count": 1, "total_count": 1}
        )
        session_client.get_messages("s1")


@pytest.mark.httpx_mock(assert_all_responses_were_requested=False)
@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_with_pytest_httpx(recorded_session, httpx_mock):
    httpx_mock.add_response(json={"messages": [], "row_count": 0, "total_count": 0})
    with recorded_session.intercept_httpx(), httpx.Client() as sdk_like:
        sdk_like.get(f"{recorded_session.base_url}/sessions/s1/messages")
"""


def test_a_mocked_response_is_never_recorded(inner) -> None:
    inner.pytester.makepyfile(test_mocked=MOCKED)
    result = inner.record("-rN")
    result.assert_outcomes(failed=2)
    text = result.stdout.str()
    assert "ConfigError: respx is mocking httpx in this test while it records GET" in text
    assert "ConfigError: pytest-httpx is mocking httpx in this test while it records GET" in text
    assert "Record this test without respx.mock" in text
    assert "Record this test without the httpx_mock fixture" in text
    assert inner.cassettes() == []  # neither mocked answer was written anywhere
