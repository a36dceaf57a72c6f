"""Models arrive with the issue that asks for them (see docs/architecture.md)."""
