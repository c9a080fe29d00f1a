"""``sessionmem lint``: planted secrets are found with their line, clean trees pass.

The command runs as a user runs it, in a subprocess; a few pure checks of the patterns
cover the shapes that must *not* be reported (placeholders, dates, ids).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_sessionmem.lint import lint_text

ROOT = Path(__file__).resolve().parents[2]
ZEP_KEY = "z_1dWlkIjoiY2FmZWJhYmUtMDAwMCJ9.Qk5x9v7Yq2Lw8e3Rt"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("ZEP_API_KEY", "MEIBEL_API_KEY")}
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
        ("sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2M3n4", "API key (sk-/pk- shape)"),
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
