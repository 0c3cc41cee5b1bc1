"""Actors that need no learner."""

from rlkit.actors.random import RandomActor
