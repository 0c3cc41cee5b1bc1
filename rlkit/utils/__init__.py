"""Utilities shared by rlkit components (counting, loggers, ...)."""
