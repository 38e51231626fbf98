"""OpenAI-compatible gateway in front of Azure OpenAI deployments."""

__version__ = "0.1.0"
