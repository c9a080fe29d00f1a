"""The key variables of the services an agent calls besides the memory providers.

The registry names each memory provider's key variable (``ProviderSpec.api_key_env``). An
agent under test also calls LLM APIs and agent platforms, each with a key of its own, read
from the environment by its SDK. This table names those variables and what each one is.
:func:`pytest_sessionmem.providers.registry.secret_env_names` joins the two lists; every
part of the product that scrubs or looks for key values reads that function, and nothing
else lists key variables. A service that gets a provider entry moves its variable there.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AGENT_KEY_VARIABLES", "AgentKeyVariable"]


@dataclass(frozen=True)
class AgentKeyVariable:
    """One environment variable holding a credential of a service an agent calls."""

    name: str
    """The variable, as the service's SDK reads it: ``"OPENAI_API_KEY"``."""
    service: str
    """Who issues the key: ``"OpenAI"``."""
    kind: str
    """``"LLM API"``, ``"agent memory"`` or ``"agent platform"`` (tracing, deployment)."""


_LLM = "LLM API"
_MEMORY = "agent memory"
_PLATFORM = "agent platform"

#: Key variables of LLM APIs and agent platforms, scrubbed and linted like the providers'.
AGENT_KEY_VARIABLES: tuple[AgentKeyVariable, ...] = (
    AgentKeyVariable("OPENAI_API_KEY", "OpenAI", _LLM),
    AgentKeyVariable("AZURE_OPENAI_API_KEY", "Azure OpenAI", _LLM),
    AgentKeyVariable("ANTHROPIC_API_KEY", "Anthropic", _LLM),
    AgentKeyVariable("GOOGLE_API_KEY", "Google Gemini API", _LLM),
    AgentKeyVariable("GEMINI_API_KEY", "Google Gemini API", _LLM),
    AgentKeyVariable("MISTRAL_API_KEY", "Mistral AI", _LLM),
    AgentKeyVariable("GROQ_API_KEY", "Groq", _LLM),
    AgentKeyVariable("COHERE_API_KEY", "Cohere", _LLM),
    AgentKeyVariable("XAI_API_KEY", "xAI", _LLM),
    AgentKeyVariable("DEEPSEEK_API_KEY", "DeepSeek", _LLM),
    AgentKeyVariable("OPENROUTER_API_KEY", "OpenRouter", _LLM),
    AgentKeyVariable("TOGETHER_API_KEY", "Together AI", _LLM),
    AgentKeyVariable("FIREWORKS_API_KEY", "Fireworks AI", _LLM),
    AgentKeyVariable("PERPLEXITY_API_KEY", "Perplexity", _LLM),
    AgentKeyVariable("MEM0_API_KEY", "Mem0 platform", _MEMORY),
    AgentKeyVariable("LETTA_API_KEY", "Letta", _MEMORY),
    AgentKeyVariable("LANGSMITH_API_KEY", "LangSmith", _PLATFORM),
    AgentKeyVariable("LANGGRAPH_API_KEY", "LangGraph Platform", _PLATFORM),
    # The older name both LangChain SDKs still read.
    AgentKeyVariable("LANGCHAIN_API_KEY", "LangSmith", _PLATFORM),
)
