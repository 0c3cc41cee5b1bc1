"""RandomActor over discrete and bounded action specs."""

import numpy as np
import pytest

from rlkit import specs
from rlkit.actors import RandomActor


def test_discrete_actions_cover_the_spec_and_are_reproducible():
  spec = specs.DiscreteArray(4, dtype=np.int64)
  first = [RandomActor(spec, seed=3).select_action(None) for _ in range(1)]
  actor_a, actor_b = RandomActor(spec, seed=3), RandomActor(spec, seed=3)
  a = [actor_a.select_action(None) for _ in range(5000)]
  b = [actor_b.select_action(None) for _ in range(5000)]
  assert a == b and a[0] == first[0]
  assert set(np.unique(a)) == {0, 1, 2, 3}
  for action in a[:10]:
    spec.validate(action)


def test_bounded_continuous_actions_stay_in_bounds():
  spec = specs.BoundedArray((2,), np.float32, minimum=[-1, 0], maximum=[1, 5])
  actor = RandomActor(spec, seed=0)
  actions = np.stack([actor.select_action(None) for _ in range(500)])
  assert actions.dtype == np.float32 and actions.shape == (500, 2)
  assert (actions[:, 0] >= -1).all() and (actions[:, 0] <= 1).all()
  assert (actions[:, 1] >= 0).all() and (actions[:, 1] <= 5).all()
  assert actions[:, 1].max() > 4


def test_bounded_integer_actions_include_the_maximum():
  spec = specs.BoundedArray((), np.int32, minimum=2, maximum=4)
  actor = RandomActor(spec, seed=0)
  values = {int(actor.select_action(None)) for _ in range(300)}
  assert values == {2, 3, 4}


def test_unbounded_spec_is_rejected():
  with pytest.raises(TypeError, match='BoundedArray'):
    RandomActor(specs.Array((2,), np.float32))
