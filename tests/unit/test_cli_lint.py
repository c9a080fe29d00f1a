"""``sessionmem lint``: planted secrets are found with their line, clean trees pass.

The command runs as a user runs it, in a subprocess; a few pure checks of the patterns
cover the shapes that must *not* be reported (placeholders, dates, ids).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from pytest_sessionmem.lint import lint_paths, lint_text
from pytest_sessionmem.providers.registry import secret_env_names

ROOT = Path(__file__).resolve().parents[2]
ZEP_KEY = "z_1dWlkIjoiY2FmZWJhYmUtMDAwMCJ9.Qk5x9v7Yq2Lw8e3Rt"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in secret_env_names()}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest_sessionmem.cli", *args],
        capture_output=True,
        text=True,
        env=environ,
        check=False,
    )


def cassette_text(response_json: object, request_headers: dict[str, str] | None = None) -> str:
    data = {
        "version": 1,
        "recorded_with": "pytest-sessionmem",
        "base_url": "http://127.0.0.1/zep/api/v2",
        "interactions": [
            {
                "request": {
                    "method": "GET",
                    "path": "/sessions/s1/memory",
                    "headers": request_headers or {},
                },
                "response": {
                    "status": 200,
                    "headers": {"content-type": "application/json"},
                    "json": response_json,
                },
            }
        ],
    }
    return json.dumps(data, indent=2) + "\n"


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_lint_finds_a_planted_zep_key_with_its_file_and_line(tmp_path: Path) -> None:
    text = cassette_text({"context": f"the key is {ZEP_KEY}"})
    cassette = tmp_path / "cassettes" / "test_mod" / "test_one.json"
    cassette.parent.mkdir(parents=True)
    cassette.write_text(text)

    result = run_cli("lint", str(tmp_path))

    assert result.returncode == 1, result.stdout + result.stderr
    expected_line = line_of(text, ZEP_KEY)
    assert result.stdout.splitlines() == [f"{cassette}:{expected_line}: Zep API key (z_1d...)"]
    assert ZEP_KEY not in result.stdout + result.stderr  # the output never republishes it
    assert "1 finding(s) in 1 of 1 file(s)" in result.stderr


def test_lint_passes_the_examples_tree() -> None:
    result = run_cli("lint", "--pii", str(ROOT / "examples"))

    assert result.returncode == 0, result.stdout
    assert result.stdout == ""
    assert "14 file(s) checked, no secrets or personal data found" in result.stderr


def test_lint_reports_unscrubbed_credential_headers(tmp_path: Path) -> None:
    text = cassette_text(
        {"ok": True},
        request_headers={"Authorization": "Api-Key abcdefgh12345678", "X-API-KEY": "tok-123"},
    )
    path = tmp_path / "c.json"
    path.write_text(text)

    result = run_cli("lint", str(path))

    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert f"{path}:{line_of(text, 'Authorization')}: unscrubbed Authorization header" in lines[0]
    assert f"{path}:{line_of(text, 'X-API-KEY')}: unscrubbed X-API-KEY header" in lines[1]
    assert len(lines) == 2  # the Api-Key value is one finding, not a second "Zep credential"


def test_placeholders_are_not_findings() -> None:
    text = cassette_text(
        {"note": "Api-Key <ZEP_API_KEY>", "token": "<REDACTED>", "user": "<EMAIL_1>"},
        request_headers={"authorization": "<REDACTED>", "cookie": "[REDACTED]"},
    )
    assert lint_text(text, path="c.json", pii=True) == []


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("Bearer abc.DEF-ghi_123456", "bearer token"),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "JWT",
        ),
        ("sk-live-A1b2C3d4E5f6G7h8I9j0K1l2M3n4", "API key (sk-/pk- shape)"),
        ('MEIBEL_API_KEY="mb-9f8e7d6c5b4a"', "Meibel API key"),
        ("Api-Key 0123456789abcdef", "Zep Api-Key credential"),
    ],
)
def test_secret_shapes_are_found(value: str, label: str) -> None:
    findings = lint_text(json.dumps({"text": value}), path="t.json")
    assert [f.what.split(" (")[0] for f in findings] == [label.split(" (")[0]]


def test_a_credential_named_json_field_is_found() -> None:
    findings = lint_text('    "api_key": "live-0a1b2c3d4e5f"', path="c.json")
    assert [f.what for f in findings] == ['credential-named value ("api...)']


def test_the_value_of_a_key_variable_is_found_wherever_it_is(tmp_path: Path) -> None:
    transcript = tmp_path / "transcripts" / "test_mod" / "test_one.txt"
    transcript.parent.mkdir(parents=True)
    transcript.write_text("# sessionmem transcript 1\n\n--- user\nmy key: plainvalue42\n")

    result = run_cli("lint", str(tmp_path), env={"MEIBEL_API_KEY": "plainvalue42"})

    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{transcript}:4: the value of $MEIBEL_API_KEY (plai...)"]


def test_pii_is_reported_only_when_asked(tmp_path: Path) -> None:
    transcript = tmp_path / "t.txt"
    transcript.write_text(
        "# sessionmem transcript 1\n\n--- user\nmail me at alice@example.org\n"
        "or call +1 415 555 0100 after 9:40\n"
    )

    plain = run_cli("lint", str(transcript))
    with_pii = run_cli("lint", "--pii", str(transcript))

    assert plain.returncode == 0
    assert with_pii.returncode == 1
    assert with_pii.stdout.splitlines() == [
        f"{transcript}:4: e-mail address (alic...)",
        f"{transcript}:5: phone number (+1 4...)",
    ]


@pytest.mark.parametrize(
    "text",
    [
        '"created_at": "2025-01-01T00:00:00.001Z"',
        '"uuid": "6f42fdee-2a63-4684-957b-10d0766584d6"',
        '"before": "1735689600153"',
        "order #5521, flight TP1351 09:40, version 1.2.3",
        '"agent": "b850bc30-45f8-0041-a00a-83df46d8555d"',
    ],
)
def test_ids_dates_and_timestamps_are_not_personal_data(text: str) -> None:
    assert lint_text(text, path="c.json", pii=True) == []


def test_walking_a_folder_reads_only_cassettes_and_transcript_files(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"token": f"Bearer {ZEP_KEY}"}))
    (tmp_path / "notes.txt").write_text(f"Bearer {ZEP_KEY}\n")
    hidden = tmp_path / ".cache" / "c.json"
    hidden.parent.mkdir()
    hidden.write_text(cassette_text({"k": ZEP_KEY}))

    result = run_cli("lint", str(tmp_path))

    assert result.returncode == 0, result.stdout
    assert "0 file(s) checked" in result.stderr
    # A file named on the command line is always read.
    named = run_cli("lint", str(tmp_path / "notes.txt"))
    assert named.returncode == 1


def test_a_missing_path_is_a_clear_usage_error(tmp_path: Path) -> None:
    result = run_cli("lint", str(tmp_path / "nope"))

    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"sessionmem: error: {tmp_path / 'nope'}: no such file or folder. "
        "Pass cassettes, transcript files or folders."
    )


# -- the LLM APIs' keys, and every form of a key variable's value -------------------------------

# Key characters as the services issue them: letters, digits, "-" and "_" mixed in.
_CHARS = "aB3-xY9_qR7sT1uV5wZ0kL2mN4pQ6rS8"


def _key(prefix: str, length: int, alphabet: str = _CHARS) -> str:
    return prefix + (alphabet * (length // len(alphabet) + 1))[:length]


_ALNUM = _CHARS.replace("-", "").replace("_", "")


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (_key("sk-proj-", 156), "OpenAI API key"),
        (_key("sk-svcacct-", 120), "OpenAI API key"),
        (_key("sk-", 48, _ALNUM), "API key (sk-/pk- shape)"),  # a legacy OpenAI key
        ("sk-test-canary-123456", "API key (sk-/pk- shape)"),
        (_key("sk-ant-api03-", 93) + "AA", "Anthropic API key"),
        (_key("sk-ant-admin01-", 93), "Anthropic API key"),
        (_key("AIza", 35), "Google API key"),
        (_key("gsk_", 52, _ALNUM), "Groq API key"),
        (_key("xai-", 80, _ALNUM), "xAI API key"),
        (_key("pplx-", 48, _ALNUM), "Perplexity API key"),
        (_key("hf_", 34, _ALNUM), "Hugging Face token"),
        (_key("r8_", 37, _ALNUM), "Replicate API token"),
        ("lsv2_pt_" + "0a1b2c3d" * 4 + "_" + "9f8e7d6c5b", "LangSmith API key"),
        (_key("sk-or-v1-", 64, "0123456789abcdef"), "API key (sk-/pk- shape)"),  # OpenRouter
    ],
)
def test_llm_keys_are_found_whole_at_their_real_length(value: str, label: str) -> None:
    text = json.dumps({"messages": [{"content": f"use {value} for this"}]})

    findings = lint_text(text, path="c.json")

    assert [f.what for f in findings] == [f"{label} ({value[:4]}...)"]
    # Found whole: nothing of the key is left over for a second, partial finding.
    assert len(lint_text(text.replace(value, value[:12]), path="c.json")) <= 1


@pytest.mark.parametrize(
    "text",
    [
        "risk-assessment-framework-2024 and task-runner-v2-final-20250101",
        "the sk-learn estimator, sklearn-0.24, pk_id, rk-4",
        '"sku": "sk-LARGE-BLUE-COTTON-SHIRT"',
        "AIzaSy is how the short prefix looks",
    ],
)
def test_words_and_ids_near_key_prefixes_are_not_keys(text: str) -> None:
    assert lint_text(text, path="t.txt") == []


CANARY = "ck-4f1a+ab/cd9e=="


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("planted", "form"),
    [
        (CANARY, ""),
        (quote(CANARY, safe=""), ", encoded"),
        (quote(CANARY, safe="/"), ", encoded"),
        (quote(CANARY, safe="/").lower(), ", encoded"),
        (CANARY.replace("+", " "), ", encoded"),
        (json.dumps(CANARY)[1:-1].replace("/", "\\/"), ", encoded"),
        ("Basic " + _b64("user:" + CANARY), ", base64-encoded"),
        (base64.urlsafe_b64encode(b"~" + CANARY.encode()).decode(), ", base64-encoded"),
    ],
)
@pytest.mark.parametrize("variable", ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LETTA_API_KEY"])
def test_a_key_variables_value_is_found_in_every_form(
    tmp_path: Path, variable: str, planted: str, form: str
) -> None:
    path = tmp_path / "c.json"
    text = cassette_text({"echo": f"got {planted} back"})
    path.write_text(text)

    findings, checked = lint_paths([path], environ={variable: CANARY})

    assert checked == 1
    assert [str(f) for f in findings] == [
        f"{path}:{line_of(text, 'echo')}: the value of ${variable}{form} (ck-4...)"
    ]


def test_every_built_in_key_variable_is_looked_for(tmp_path: Path) -> None:
    names = secret_env_names()
    assert {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY"} < set(names)
    assert {"MISTRAL_API_KEY", "GROQ_API_KEY", "COHERE_API_KEY", "AZURE_OPENAI_API_KEY"} < set(
        names
    )
    assert {"MEM0_API_KEY", "LANGSMITH_API_KEY", "LANGGRAPH_API_KEY", "LETTA_API_KEY"} < set(names)
    assert {"ZEP_API_KEY", "MEIBEL_API_KEY", "ELIZA_SERVER_AUTH_TOKEN"} < set(names)
    values = {name: f"canary-{index:03d}-value" for index, name in enumerate(names)}
    transcript = tmp_path / "t.txt"
    transcript.write_text(
        "# sessionmem transcript 1\n\n--- user\n"
        + "\n".join(quote(value) for value in values.values())
        + "\n"
    )

    findings, _ = lint_paths([transcript], environ=values)

    assert [f.what.split(" (")[0] for f in findings] == [f"the value of ${n}" for n in names]


def test_lint_looks_for_the_variables_named_with_secret_env(tmp_path: Path) -> None:
    transcript = tmp_path / "t.txt"
    transcript.write_text("# sessionmem transcript 1\n\n--- user\ntoken%3A%2Fvalue-42\n")
    env = {"MY_SERVICE_TOKEN": "token:/value-42"}

    plain = run_cli("lint", str(transcript), env=env)
    named = run_cli("lint", "--secret-env", "MY_SERVICE_TOKEN", str(transcript), env=env)
    bad = run_cli("lint", "--secret-env", "token:/value-42", str(transcript), env=env)

    assert plain.returncode == 0, plain.stdout
    assert named.returncode == 1
    assert named.stdout.splitlines() == [
        f"{transcript}:4: the value of $MY_SERVICE_TOKEN, encoded (toke...)"
    ]
    assert bad.returncode == 2
    assert "is not an environment variable name" in bad.stderr
    assert "'toke'... is not an environment variable name" in bad.stderr
    assert "value-42" not in bad.stdout + bad.stderr


@pytest.mark.parametrize(
    "echoed",
    [
        {"authorization": "Api-Key <ZEP_API_KEY>", "x-api-key": "<ELIZA_SERVER_AUTH_TOKEN>"},
        {"Authorization": "Bearer <OPENAI_API_KEY>", "Api-Key": "<AZURE_OPENAI_API_KEY>"},
        {"authorization": "Basic <REDACTED>", "x-goog-api-key": "<GEMINI_API_KEY>"},
        {"cookie": "sid=<OPENAI_API_KEY>; theme=<REDACTED>"},
        {"set-cookie": "sid=<OPENAI_API_KEY>; Path=/; HttpOnly; SameSite=Lax"},
    ],
)
def test_a_server_echoing_scrubbed_credential_headers_is_not_a_finding(
    echoed: dict[str, str],
) -> None:
    text = cassette_text({"headers_received": echoed})
    assert lint_text(text, path="c.json") == []
    # The same headers with real values are findings, one each.
    leaked = {name: value.replace("<", "k3y-").replace(">", "-x") for name, value in echoed.items()}
    assert len(lint_text(cassette_text({"headers_received": leaked}), path="c.json")) == len(leaked)


def test_a_scrubbed_credential_in_a_transcript_line_is_not_a_finding() -> None:
    text = (
        "# sessionmem transcript 1\n\n--- tool\nAuthorization: Api-Key \\u003cZEP_API_KEY\\u003e\n"
    )
    assert lint_text(text, path="t.txt") == []
