"""Trains QR-DQN (quantile regression DQN), evaluates its greedy policy; see experiments.run_dqn.

    python -m experiments.run_qr_dqn --env=gym:CartPole-v1

Every field of the agent's config dataclass is a flag.
"""

from experiments import launcher

launcher.define_flags('qr_dqn', env='gym:CartPole-v1', num_steps=30_000, eval_every=5_000,
                      checkpoint_every_steps=10_000)

if __name__ == '__main__':
  launcher.run()
