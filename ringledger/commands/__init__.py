"""Subcommands of the `ringledger` command line."""
