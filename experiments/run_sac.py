"""Trains SAC, evaluates its greedy policy; see experiments.run_dqn.

    python -m experiments.run_sac --env=gym:Pendulum-v1

Every field of the agent's config dataclass is a flag.
"""

from experiments import launcher

launcher.define_flags('sac', env='gym:Pendulum-v1', num_steps=20_000, eval_every=5_000,
                      checkpoint_every_steps=10_000)

if __name__ == '__main__':
  launcher.run()
