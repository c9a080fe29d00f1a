"""A small support agent: it recalls what Zep remembers, asks an LLM, and stores both turns.

It uses the real SDKs in their default set-up: ``OpenAI()`` (which reads ``OPENAI_API_KEY``
and ``OPENAI_BASE_URL``) and ``Zep(api_key=...)``. Nothing is injected for testing:
pytest-sessionmem captures every HTTP request the test makes.
"""

from __future__ import annotations

from openai import OpenAI
from zep_cloud.client import Zep
from zep_cloud.types import Message as ZepMessage

MODEL = "gpt-4o-mini"


class SupportAgent:
    def __init__(self, zep: Zep, llm: OpenAI, session_id: str) -> None:
        self.zep = zep
        self.llm = llm
        self.session_id = session_id

    def start(self, user_id: str, first_name: str) -> None:
        """Create the user and the session the conversation is stored in."""
        self.zep.user.add(user_id=user_id, first_name=first_name)
        self.zep.memory.add_session(session_id=self.session_id, user_id=user_id)

    def chat(self, text: str) -> str:
        """Answer ``text`` with what memory recalls in the system prompt; store both turns."""
        memory = self.zep.memory.get(self.session_id)
        facts = [fact.fact for fact in memory.relevant_facts or [] if fact.fact]
        system = "You are a friendly support agent."
        if facts:
            system += " What you remember about the user:\n" + "\n".join(f"- {f}" for f in facts)
        completion = self.llm.chat.completions.create(
            model=MODEL,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": text}],
        )
        reply = completion.choices[0].message.content or ""
        self.zep.memory.add(
            self.session_id,
            messages=[
                ZepMessage(role_type="user", content=text),
                ZepMessage(role_type="assistant", content=reply),
            ],
        )
        return reply
