"""Environments with dm_env interfaces: a native GridWorld and gymnasium adapters."""
