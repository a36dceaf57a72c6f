"""Parsers of incoming payment orders: MT102 (one or many messages), CSV/XLSX lists, JSON.

Each turns bytes into ``ParsedFile`` (see ``base``); the pipeline never sees a format.
"""
