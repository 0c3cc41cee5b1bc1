"""Acme's adder test cases (acme/adders/reverb/test_cases.py) on rlkit's adders.

Each case adds an episode (first timestep, then (action, timestep[, extras])
steps) to a real Reverb queue, reads the items back in order and compares
values, shapes and dtypes with what Acme writes. Observations are Python ints
(int64) and rewards/discounts Python floats (float64), as in Acme's cases.
"""

import dm_env
import numpy as np
import pytest
import reverb
import tensorflow as tf
import tree

from rlkit import specs
from rlkit import types
from rlkit.adders import episode
from rlkit.adders import transition
from rlkit.replay import tables

TABLE = tables.DEFAULT_PRIORITY_TABLE
T = types.Transition


@pytest.fixture(name='client')
def _client():
  server = reverb.Server([reverb.Table.queue(TABLE, 1000)])
  client = reverb.Client(f'localhost:{server.port}')
  yield client
  server.stop()


def _read_all(client):
  size = client.server_info()[TABLE].current_size
  if not size:
    return []
  return [s.data for s in client.sample(TABLE, num_samples=size, emit_timesteps=False)]


def _run(adder, first, steps, repeat=1):
  for _ in range(repeat):
    adder.add_first(first)
    for step in steps:
      adder.add(*step)
  adder.close()


def _specs_of(step):
  """The environment spec Acme's test_utils.get_specs infers from a step."""
  to_spec = lambda x: specs.Array(np.shape(x), np.asarray(x).dtype)
  ts = step[1]
  return specs.EnvironmentSpec(
      observations=tree.map_structure(to_spec, ts.observation),
      actions=tree.map_structure(to_spec, step[0]),
      rewards=tree.map_structure(to_spec, ts.reward),
      discounts=tree.map_structure(to_spec, ts.discount))


def _check(expected, observed, signature):
  expected, observed = tree.flatten(expected), tree.flatten(observed)
  assert len(expected) == len(observed)
  for e, o, spec in zip(expected, observed, tree.flatten(signature)):
    np.testing.assert_array_almost_equal(o, e)
    assert spec.is_compatible_with(tf.convert_to_tensor(o)), (spec, o)


def _mid(r, o, d=1.0):
  return dm_env.transition(reward=r, observation=o, discount=d)


def _end(r, o, d=None):
  ts = dm_env.termination(reward=r, observation=o)
  return ts if d is None else ts._replace(discount=d)


def _two_step(reward, discount, last_discount):
  return [(0, _mid(reward, 2, discount)), (0, _mid(reward, 3, discount)),
          (0, _end(reward, 4, last_discount))]


A = np.array
TRANSITION_CASES = {
    'OneStepFinalReward': (1, 1.0, 1, [(0, _mid(0.0, 2)), (0, _mid(0.0, 3)), (0, _end(1.0, 4))],
                           [T(1, 0, 0.0, 1.0, 2), T(2, 0, 0.0, 1.0, 3), T(3, 0, 1.0, 0.0, 4)]),
    'OneStepDict': (1, 1.0, {'foo': 1},
                    [(0, _mid(0.0, {'foo': 2})), (0, _mid(0.0, {'foo': 3})),
                     (0, _end(1.0, {'foo': 4}))],
                    [T({'foo': 1}, 0, 0.0, 1.0, {'foo': 2}), T({'foo': 2}, 0, 0.0, 1.0, {'foo': 3}),
                     T({'foo': 3}, 0, 1.0, 0.0, {'foo': 4})]),
    'OneStepExtras': (1, 1.0, 1,
                      [(0, _mid(0.0, 2), {'state': 0}), (0, _mid(0.0, 3), {'state': 1}),
                       (0, _end(1.0, 4), {'state': 2})],
                      [T(1, 0, 0.0, 1.0, 2, {'state': 0}), T(2, 0, 0.0, 1.0, 3, {'state': 1}),
                       T(3, 0, 1.0, 0.0, 4, {'state': 2})]),
    'TwoStep': (2, 1.0, 1, _two_step(1.0, 0.5, None),
                [T(1, 0, 1.0, 0.5, 2), T(1, 0, 1.5, 0.25, 3), T(2, 0, 1.5, 0.0, 4),
                 T(3, 0, 1.0, 0.0, 4)]),
    'TwoStepStructuredReward': (
        2, 1.0, 1, _two_step((1.0, 2.0), 0.5, None),
        [T(1, 0, (1.0, 2.0), (0.5, 0.5), 2), T(1, 0, (1.5, 3.0), (0.25, 0.25), 3),
         T(2, 0, (1.5, 3.0), (0.0, 0.0), 4), T(3, 0, (1.0, 2.0), (0.0, 0.0), 4)]),
    'TwoStepNDArrayReward': (
        2, 1.0, 1, _two_step(A((1.0, 2.0)), 0.5, None),
        [T(1, 0, A((1.0, 2.0)), 0.5, 2), T(1, 0, A((1.5, 3.0)), 0.25, 3),
         T(2, 0, A((1.5, 3.0)), 0.0, 4), T(3, 0, A((1.0, 2.0)), 0.0, 4)]),
    'TwoStepStructuredDiscount': (
        2, 1.0, 1, _two_step(1.0, {'a': 0.5, 'b': 0.1}, {'a': 0.0, 'b': 0.0}),
        [T(1, 0, {'a': 1.0, 'b': 1.0}, {'a': 0.5, 'b': 0.1}, 2),
         T(1, 0, {'a': 1.5, 'b': 1.1}, {'a': 0.25, 'b': 0.01}, 3),
         T(2, 0, {'a': 1.5, 'b': 1.1}, {'a': 0.0, 'b': 0.0}, 4),
         T(3, 0, {'a': 1.0, 'b': 1.0}, {'a': 0.0, 'b': 0.0}, 4)]),
    'TwoStepNDArrayDiscount': (
        2, 1.0, 1, _two_step(1.0, A((0.5, 0.1)), A((0.0, 0.0))),
        [T(1, 0, A((1.0, 1.0)), A((0.5, 0.1)), 2), T(1, 0, A((1.5, 1.1)), A((0.25, 0.01)), 3),
         T(2, 0, A((1.5, 1.1)), A((0.0, 0.0)), 4), T(3, 0, A((1.0, 1.0)), A((0.0, 0.0)), 4)]),
    'TwoStepBroadcastedNDArrays': (
        2, 1.0, 1, _two_step(A([[1.0, 2.0]]), A([[0.5], [0.1]]), A([[0.0], [0.0]])),
        [T(1, 0, A([[1.0, 2.0], [1.0, 2.0]]), A([[0.5], [0.1]]), 2),
         T(1, 0, A([[1.5, 3.0], [1.1, 2.2]]), A([[0.25], [0.01]]), 3),
         T(2, 0, A([[1.5, 3.0], [1.1, 2.2]]), A([[0.0], [0.0]]), 4),
         T(3, 0, A([[1.0, 2.0], [1.0, 2.0]]), A([[0.0], [0.0]]), 4)]),
    'TwoStepStructuredBroadcastedNDArrays': (
        2, 1.0, 1, _two_step({'a': A([[1.0, 2.0]])}, A([[0.5], [0.1]]), A([[0.0], [0.0]])),
        [T(1, 0, {'a': A([[1.0, 2.0], [1.0, 2.0]])}, {'a': A([[0.5], [0.1]])}, 2),
         T(1, 0, {'a': A([[1.5, 3.0], [1.1, 2.2]])}, {'a': A([[0.25], [0.01]])}, 3),
         T(2, 0, {'a': A([[1.5, 3.0], [1.1, 2.2]])}, {'a': A([[0.0], [0.0]])}, 4),
         T(3, 0, {'a': A([[1.0, 2.0], [1.0, 2.0]])}, {'a': A([[0.0], [0.0]])}, 4)]),
    'TwoStepWithExtras': (
        2, 1.0, 1, [(0, _mid(1.0, 2, 0.5), {'state': 0}), (0, _mid(1.0, 3, 0.5), {'state': 1}),
                    (0, _end(1.0, 4), {'state': 2})],
        [T(1, 0, 1.0, 0.5, 2, {'state': 0}), T(1, 0, 1.5, 0.25, 3, {'state': 0}),
         T(2, 0, 1.5, 0.0, 4, {'state': 1}), T(3, 0, 1.0, 0.0, 4, {'state': 2})]),
    'ThreeStepDiscounted': (
        3, 0.4, 1, _two_step(1.0, 0.5, None),
        [T(1, 0, 1.0, 0.5, 2), T(1, 0, 1.2, 0.1, 3), T(1, 0, 1.24, 0.0, 4),
         T(2, 0, 1.2, 0.0, 4), T(3, 0, 1.0, 0.0, 4)]),
    'ThreeStepVaryingReward': (
        3, 0.5, 1, [(0, _mid(2.0, 2)), (0, _mid(3.0, 3)), (0, _mid(5.0, 4)), (0, _end(7.0, 5))],
        [T(1, 0, 2.0, 1.0, 2), T(1, 0, 3.5, 0.5, 3), T(1, 0, 4.75, 0.25, 4),
         T(2, 0, 3 + 2.5 + 1.75, 0.0, 5), T(3, 0, 8.5, 0.0, 5), T(4, 0, 7.0, 0.0, 5)]),
    'SingleTransitionEpisode': (4, 1.0, 1, [(0, _end(1.0, 2))], [T(1, 0, 1.0, 0.0, 2)]),
    'EpisodeShorterThanN': (
        4, 1.0, 1, [(0, _mid(1.0, 2)), (0, _end(1.0, 3))],
        [T(1, 0, 1.0, 1.0, 2), T(1, 0, 2.0, 0.0, 3), T(2, 0, 1.0, 0.0, 3)]),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize('name', sorted(TRANSITION_CASES))
@pytest.mark.parametrize('with_spec', [False, True], ids=['no_spec', 'spec'])
def test_transition_adder_matches_acme(client, name, with_spec):
  n_step, discount, first_obs, steps, expected = TRANSITION_CASES[name]
  spec = _specs_of(steps[0])
  adder = transition.NStepTransitionAdder(
      client, n_step, discount, environment_spec=spec if with_spec else None)
  _run(adder, dm_env.restart(first_obs), steps)
  extras_spec = tree.map_structure(
      lambda x: specs.Array(np.shape(x), np.asarray(x).dtype), steps[0][2]) if len(
          steps[0]) == 3 else ()
  signature = transition.NStepTransitionAdder.signature(spec, extras_spec)
  observed = _read_all(client)
  assert len(observed) == len(expected)
  for e, o in zip(expected, observed):
    _check(e, o, signature)


def test_nested_rewards_keep_the_fast_path_for_scalars(client):
  adder = transition.NStepTransitionAdder(client, 2, 1.0)
  _run(adder, dm_env.restart(1), _two_step(1.0, 0.5, None))
  assert adder._nested is False  # pylint: disable=protected-access


def _rows(*rows):
  """Acme's (observation, action, reward, discount, start_of_episode) rows."""
  columns = list(zip(*rows))
  return [np.array(c) for c in columns]


S = [(0, _mid(2.0, 2)), (0, _mid(3.0, 3)), (0, _mid(5.0, 4)), (0, _end(7.0, 5))]
SHORT = [(0, _mid(2.0, 2)), (0, _end(3.0, 3))]
LONG = [(0, _mid(float(r), o)) for r, o in zip((2, 3, 5, 7, 9, 11), range(2, 8))] + [
    (0, _end(13.0, 8))]
SEQUENCE_CASES = {
    'PeriodOne': (3, 1, S, 'zero_pad', [
        [(1, 0, 2., 1., True), (2, 0, 3., 1., False), (3, 0, 5., 1., False)],
        [(2, 0, 3., 1., False), (3, 0, 5., 1., False), (4, 0, 7., 0., False)],
        [(3, 0, 5., 1., False), (4, 0, 7., 0., False), (5, 0, 0., 0., False)]]),
    'PeriodTwo': (3, 2, S, 'zero_pad', [
        [(1, 0, 2., 1., True), (2, 0, 3., 1., False), (3, 0, 5., 1., False)],
        [(3, 0, 5., 1., False), (4, 0, 7., 0., False), (5, 0, 0., 0., False)]]),
    'EarlyTerminationPeriodTwo': (3, 2, SHORT, 'zero_pad', [
        [(1, 0, 2., 1., True), (2, 0, 3., 0., False), (3, 0, 0., 0., False)]]),
    'EarlyTerminationPadding': (4, 1, SHORT, 'zero_pad', [
        [(1, 0, 2., 1., True), (2, 0, 3., 0., False), (3, 0, 0., 0., False),
         (0, 0, 0., 0., False)]]),
    'EarlyTerminationNoPadding': (4, 1, SHORT, 'truncate', [
        [(1, 0, 2., 1., True), (2, 0, 3., 0., False), (3, 0, 0., 0., False)]]),
    'LongEpisodePadding': (3, 3, LONG, 'zero_pad', [
        [(1, 0, 2., 1., True), (2, 0, 3., 1., False), (3, 0, 5., 1., False)],
        [(4, 0, 7., 1., False), (5, 0, 9., 1., False), (6, 0, 11., 1., False)],
        [(7, 0, 13., 0., False), (8, 0, 0., 0., False), (0, 0, 0., 0., False)]]),
    'LongEpisodeNoPadding': (3, 3, LONG, 'truncate', [
        [(1, 0, 2., 1., True), (2, 0, 3., 1., False), (3, 0, 5., 1., False)],
        [(4, 0, 7., 1., False), (5, 0, 9., 1., False), (6, 0, 11., 1., False)],
        [(7, 0, 13., 0., False), (8, 0, 0., 0., False)]]),
    'EndBehavior_WRITE': (3, 2, S[:3] + [(0, _mid(7.0, 5)), (0, _end(8.0, 6))], 'write', [
        [(1, 0, 2., 1., True), (2, 0, 3., 1., False), (3, 0, 5., 1., False)],
        [(3, 0, 5., 1., False), (4, 0, 7., 1., False), (5, 0, 8., 0., False)],
        [(4, 0, 7., 1., False), (5, 0, 8., 0., False), (6, 0, 0., 0., False)]]),
    'WriteDropsShortEpisodes': (4, 1, SHORT, 'write', []),
}
_E1 = [(1, 0, 2., 1., True), (2, 0, 3., 1., False), (3, 0, 5., 1., False),
       (4, 0, 7., 1., False), (5, 0, 9., 1., False), (6, 0, 13., 0., False),
       (7, 0, 0., 0., False)]


def _continue_expected(episodes):
  rows = _E1 * episodes
  return [rows[end - 3:end] for end in range(3, len(rows) + 1, 2)]


@pytest.mark.timeout(60)
@pytest.mark.parametrize('name', sorted(SEQUENCE_CASES))
def test_sequence_adder_matches_acme(client, name):
  length, period, steps, behavior, expected = SEQUENCE_CASES[name]
  adder = episode.SequenceAdder(client, TABLE, length, period,
                                end_of_episode_behavior=behavior)
  _run(adder, dm_env.restart(1), steps)
  signature = episode.SequenceAdder.signature(_specs_of(steps[0]))
  observed = _read_all(client)
  assert len(observed) == len(expected)
  for e, o in zip(expected, observed):
    _check(_rows(*e), o, signature)
    assert o[4].dtype == np.bool_


@pytest.mark.timeout(60)
@pytest.mark.parametrize('episodes', [1, 3])
def test_sequence_adder_continue_crosses_episodes(client, episodes):
  steps = [(0, _mid(float(r), o)) for r, o in zip((2, 3, 5, 7, 9), range(2, 7))] + [
      (0, _end(13.0, 7))]
  adder = episode.SequenceAdder(client, TABLE, 3, 2,
                                end_of_episode_behavior=episode.EndBehavior.CONTINUE)
  _run(adder, dm_env.restart(1), steps, repeat=episodes)
  expected = _continue_expected(episodes)
  observed = _read_all(client)
  assert len(observed) == len(expected)
  for e, o in zip(expected, observed):
    _check(_rows(*e), o, episode.SequenceAdder.signature(_specs_of(steps[0])))


def test_sequence_adder_default_is_zero_pad(client):
  adder = episode.SequenceAdder(client, TABLE, 3, 1)
  assert adder.end_of_episode_behavior is episode.EndBehavior.ZERO_PAD
  adder.close()


def _trajectory(length):
  steps = [(0, _mid(0.0, o)) for o in range(1, length - 1)] + [(0, _end(0.0, length - 1))]
  rows = [(o, 0, 0.0, 1.0, o == 0) for o in range(length - 1)]
  rows[-1] = (length - 2, 0, 0.0, 0.0, length == 2)
  return steps, rows + [(length - 1, 0, 0.0, 0.0, False)]


@pytest.mark.timeout(60)
@pytest.mark.parametrize('length, padding, fill', [(2, 0, None), (10, 0, None), (2, 1, 0),
                                                   (10, 2, 0), (10, 2, -1)])
def test_episode_adder_matches_acme(client, length, padding, fill):
  padding_fn = None if fill is None else (lambda s, d: np.zeros(s, d) + fill)
  adder = episode.EpisodeAdder(client, TABLE, length + padding, padding_fn=padding_fn)
  steps, rows = _trajectory(length)
  _run(adder, dm_env.restart(0), steps)
  if padding:
    rows += [(fill, fill, float(fill), float(fill), False)] * padding
  (observed,) = _read_all(client)
  _check(_rows(*rows), observed, episode.EpisodeAdder.signature(_specs_of(steps[0])))


def test_episode_adder_rejects_a_bad_padding_fn(client):
  with pytest.raises(TypeError, match='padding_fn'):
    episode.EpisodeAdder(client, TABLE, 5, padding_fn=3)
