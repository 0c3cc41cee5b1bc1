"""Trains advantage actor-critic, evaluates its greedy policy; see experiments.run_dqn.

    python -m experiments.run_actor_critic --env=gym:CartPole-v1

Every field of `rlkit.agents.actor_critic.ActorCriticConfig` is a flag.
"""

from experiments import launcher

launcher.define_flags('actor_critic', env='gym:CartPole-v1', num_steps=30_000, eval_every=5_000,
                      checkpoint_every_steps=10_000)

if __name__ == '__main__':
  launcher.run()
