"""Trains NFQ (seed 001's GridWorld set-up) and evaluates it; see experiments.run_dqn.

    python -m experiments.run_nfq --env=gridworld:simple --observation_type=AGENT_GOAL_POS

Every field of `rlkit.agents.nfq.NFQConfig` is a flag.
"""

from experiments import launcher

launcher.define_flags('nfq', env='gridworld:simple', observation_type='AGENT_GOAL_POS',
                      num_steps=5_000, eval_every=1_000, eval_episodes=5,
                      checkpoint_every_steps=5_000)

if __name__ == '__main__':
  launcher.run()
