"""Every fenced ``python`` block of README.md and docs/*.md runs (convention: conftest.py here
and docs/contributing.md). A block that fails is a docs bug: the reader would copy it."""

from __future__ import annotations

from pathlib import Path

# Record the way the docs tell readers to: against the emulator, writing expected transcripts.
RECORD = ("--sessionmem-record-mode=once", "--sessionmem-emulator", "--sessionmem-update")


def test_snippet_runs(snippet_block, run_snippet) -> None:
    run_snippet(snippet_block)


def test_block_records_then_replays_offline(project_block, inner) -> None:
    conftest, module, count = project_block.project_files()
    inner.pytester.makepyfile(test_doc_example=module)
    if project_block.kind == "conftest":
        # Its one test stands for a suite whose tests name their provider. The ini is the
        # lowest source, so a provider the block's sessionmem_config returns still wins.
        inner.pytester.makeini(inner.INI + "sessionmem_provider = zep\n")

    inner.online(conftest)
    recorded = inner.run(*RECORD)
    recorded.assert_outcomes(passed=count)

    inner.offline(conftest)
    replayed = inner.run()
    replayed.assert_outcomes(passed=count)


def test_an_excluded_block_states_why(excluded_block) -> None:
    reason = excluded_block.directives["not-run"]
    assert len(reason.split()) >= 3, f"{excluded_block.id}: say why it cannot run"


def test_an_excerpt_is_verbatim(excerpt_block) -> None:
    root = Path(__file__).resolve().parents[2]
    source = (root / excerpt_block.directives["excerpt"]).read_text(encoding="utf-8")
    assert excerpt_block.code in source, (
        f"{excerpt_block.id} is not a verbatim part of {excerpt_block.directives['excerpt']}"
    )


def test_the_docs_have_python_blocks_of_every_runnable_kind(doc_blocks) -> None:
    kinds = {block.kind for block in doc_blocks}
    assert {"snippet", "test"} <= kinds
