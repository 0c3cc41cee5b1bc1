"""RunningMeanStd: moments against numpy, normalization, clipping, state dict, checks."""

import numpy as np
import pytest
import torch

from rlkit.utils import running_statistics


def test_moments_match_numpy_over_uneven_batches():
  rng = np.random.default_rng(0)
  normalizer = running_statistics.RunningMeanStd((3,))
  batches = [rng.normal(5.0, 3.0, size=(n, 3)) for n in (1, 7, 50, 2)]
  for batch in batches:
    normalizer.update(torch.as_tensor(batch, dtype=torch.float32))
  everything = np.concatenate(batches).astype(np.float32).astype(np.float64)
  np.testing.assert_allclose(normalizer.mean.numpy(), everything.mean(0), rtol=1e-10)
  np.testing.assert_allclose(normalizer.var.numpy(), everything.var(0), rtol=1e-9)
  assert float(normalizer.count) == len(everything)


def test_leading_axes_are_flattened():
  normalizer = running_statistics.RunningMeanStd((2,))
  x = np.arange(24, dtype=np.float64).reshape(3, 4, 2)
  normalizer.update(x)
  np.testing.assert_allclose(normalizer.mean.numpy(), x.reshape(-1, 2).mean(0))
  assert float(normalizer.count) == 12


def test_normalize_standardizes_and_clips():
  rng = np.random.default_rng(1)
  normalizer = running_statistics.RunningMeanStd((2,), clip=3.0)
  data = torch.as_tensor(rng.normal([10.0, -4.0], [2.0, 0.5], size=(5000, 2)),
                         dtype=torch.float32)
  normalizer.update(data)
  normalized = normalizer(data)
  assert normalized.dtype == torch.float32
  np.testing.assert_allclose(normalized.mean(0).numpy(), 0.0, atol=0.01)
  np.testing.assert_allclose(normalized.std(0).numpy(), 1.0, atol=0.02)
  far = normalizer(torch.tensor([[1000.0, -1000.0]]))
  np.testing.assert_allclose(far.numpy(), [[3.0, -3.0]])


def test_fresh_normalizer_is_the_identity_up_to_clipping():
  normalizer = running_statistics.RunningMeanStd((2,), clip=0.0)
  x = torch.tensor([[1.5, -20.0]])
  np.testing.assert_allclose(normalizer(x).numpy(), x.numpy(), rtol=1e-6)


def test_statistics_travel_in_the_state_dict():
  source = running_statistics.RunningMeanStd((2,))
  source.update(torch.tensor([[1.0, 2.0], [3.0, 6.0]]))
  target = running_statistics.RunningMeanStd((2,))
  target.load_state_dict(source.state_dict())
  x = torch.tensor([[2.0, 3.0]])
  assert torch.equal(target(x), source(x))
  assert set(source.state_dict()) == {'mean', 'var', 'count'}


def test_bad_inputs_raise():
  normalizer = running_statistics.RunningMeanStd((3,))
  with pytest.raises(ValueError, match=r'shape \[\.\.\., 3\].*\(4, 2\)'):
    normalizer.update(torch.zeros(4, 2))
  with pytest.raises(ValueError, match='shape'):
    normalizer(torch.zeros(2))
  with pytest.raises(ValueError, match='non-finite'):
    normalizer.update(torch.tensor([[0.0, float('nan'), 1.0]]))
  with pytest.raises(ValueError, match='epsilon'):
    running_statistics.RunningMeanStd((3,), epsilon=-1.0)
  with pytest.raises(ValueError, match='positive'):
    running_statistics.RunningMeanStd((0,))
