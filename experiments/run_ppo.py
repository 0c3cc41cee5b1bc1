"""Trains PPO (continuous or discrete actions), evaluates its greedy policy; see experiments.run_dqn.

    python -m experiments.run_ppo --env=gym:CartPole-v1

Every field of the agent's config dataclass is a flag.
"""

from experiments import launcher

launcher.define_flags('ppo', env='gym:CartPole-v1', num_steps=100_000, eval_every=10_000,
                      checkpoint_every_steps=10_000)

if __name__ == '__main__':
  launcher.run()
