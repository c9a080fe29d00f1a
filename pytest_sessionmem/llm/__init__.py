"""Sans-IO readers of LLM wire formats: a recorded request and response become an ``LLMCall``.

One module per format (``openai_chat``, ``openai_responses``, ``anthropic_messages``), one for
server-sent events (``sse``), what they share (``common``) and the entry point
(``reader.read_llm_call``), which picks the format from the request (``reader.llm_api``).
"""

from __future__ import annotations

from pytest_sessionmem.llm.reader import llm_api, read_llm_call

__all__ = ["llm_api", "read_llm_call"]
