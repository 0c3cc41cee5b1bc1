"""Trains REINFORCE, evaluates its greedy policy; see experiments.run_dqn.

    python -m experiments.run_reinforce --env=gym:CartPole-v1

Every field of `rlkit.agents.reinforce.REINFORCEConfig` is a flag.
"""

from experiments import launcher

launcher.define_flags('reinforce', env='gym:CartPole-v1', num_steps=30_000, eval_every=5_000,
                      checkpoint_every_steps=10_000)

if __name__ == '__main__':
  launcher.run()
