"""Agents: one package per algorithm, shared pieces here.

`agent.Agent` (the single-process actor + learner), `losses`, `policies`,
`config_fields`, `variable_client`, and `registry` (agent names, and loading a
trained policy from a run directory).
"""

from rlkit.agents.agent import Agent
