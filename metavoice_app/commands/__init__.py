"""Subcommands of ``metavoice``: one module each, registered by :mod:`metavoice_app.cli`.

Each module exposes ``register(subparsers)``; the parser it adds sets a
``handler(args, paths) -> int`` default that the CLI calls.
"""
