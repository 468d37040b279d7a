"""The LLM engine's pure half: prompts (versioned files), context assembly under a token
budget, the answer schemas and their validation, prices. The calls live in ``activities/llm.py``."""
