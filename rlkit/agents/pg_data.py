"""The data path of the policy-gradient agents: episode batches and returns.

Episodes arrive from a Reverb queue table, one item per episode (written by
`adders.EpisodeAdder`), and are padded into an `EpisodeBatch` of numpy arrays:

  observation [B, T + 1, ...]  o_0 .. o_L of each episode (o_L the final one)
  action      [B, T]           a_t taken in o_t
  reward      [B, T]           r_t received after a_t
  discount    [B, T]           the environment's discount after a_t: 0 when the
                               episode terminated at t, 1 when it was truncated
  mask        [B, T]           True for t < L
  length      [B]              L, the number of transitions

with T the longest episode of the batch. Padding is 0 everywhere (discount
too), so recursions over the padded tail add nothing.

The return functions work on these padded numpy arrays (float64 inside), with
the dm_env semantics `G_t = r_t + gamma * d_t * G_{t+1}`.
"""

import numbers
from typing import Any, Iterator, NamedTuple, Optional, Sequence

import numpy as np
import tree

from rlkit.adders import base as adders_base


class EpisodeBatch(NamedTuple):
  """B episodes padded to the longest one; see the module docstring."""
  observation: np.ndarray
  action: np.ndarray
  reward: np.ndarray
  discount: np.ndarray
  mask: np.ndarray
  length: np.ndarray

  @property
  def num_episodes(self) -> int:
    return int(self.length.shape[0])

  @property
  def num_steps(self) -> int:
    return int(self.length.sum())

  @property
  def observation_mask(self) -> np.ndarray:
    """[B, T + 1]: True for t <= L (the final observation included)."""
    max_length = self.observation.shape[1]
    return np.arange(max_length)[None, :] <= self.length[:, None]


def _check_gamma(gamma: float) -> float:
  if (not isinstance(gamma, numbers.Real) or isinstance(gamma, bool) or
      not 0.0 <= gamma <= 1.0):
    raise ValueError(f'gamma must be a number in [0, 1], got {gamma!r}.')
  return float(gamma)


def _check_padded(reward: np.ndarray, discount: np.ndarray,
                  length: np.ndarray) -> None:
  if reward.ndim != 2 or reward.shape != discount.shape:
    raise ValueError(
        f'reward and discount must both be [B, T], got shapes {reward.shape} '
        f'and {discount.shape}.')
  if length.shape != reward.shape[:1]:
    raise ValueError(
        f'length must be [B] = [{reward.shape[0]}], got shape {length.shape}.')
  if length.size and (length.min() < 0 or length.max() > reward.shape[1]):
    raise ValueError(
        f'lengths must be in [0, T={reward.shape[1]}], got {length.tolist()}.')


def discounted_returns(reward: np.ndarray, discount: np.ndarray,
                       length: np.ndarray, gamma: float,
                       bootstrap_value: Optional[np.ndarray] = None) -> np.ndarray:
  """Returns G_t = r_t + gamma * d_t * G_{t+1} for t < L, and 0 on padding.

  Without `bootstrap_value`, G_L = 0: the Monte-Carlo return
  G_t = sum_{n >= t} gamma^(n - t) r_n (when all discounts are 1). With it,
  G_L = bootstrap_value[b] (e.g. V(o_L)); it counts only as far as the final
  discount lets it: a terminated episode (d_{L-1} = 0) ignores it, a truncated
  one (d_{L-1} = 1) bootstraps from it.

  Args:
    reward: [B, T] padded rewards.
    discount: [B, T] padded environment discounts.
    length: [B] episode lengths L.
    gamma: the agent's discount.
    bootstrap_value: optional [B] values of the final observations.

  Returns:
    [B, T] float64 returns.
  """
  gamma = _check_gamma(gamma)
  reward = np.asarray(reward, np.float64)
  discount = np.asarray(discount, np.float64)
  length = np.asarray(length, np.int64)
  _check_padded(reward, discount, length)
  num_episodes, max_length = reward.shape
  mask = np.arange(max_length)[None, :] < length[:, None]
  gd = gamma * np.where(mask, discount, 0.0)
  reward = np.where(mask, reward, 0.0)
  returns = np.zeros_like(reward)
  g = np.zeros(num_episodes)
  if bootstrap_value is not None:
    bootstrap_value = np.asarray(bootstrap_value, np.float64)
    if bootstrap_value.shape != (num_episodes,):
      raise ValueError(
          f'bootstrap_value must be [B] = [{num_episodes}], got shape '
          f'{bootstrap_value.shape}.')
    ends = length
  for t in range(max_length - 1, -1, -1):
    if bootstrap_value is not None:
      g = np.where(ends == t + 1, bootstrap_value, g)
    g = reward[:, t] + gd[:, t] * g
    returns[:, t] = g
  return returns


def n_step_returns(reward: np.ndarray, discount: np.ndarray,
                   length: np.ndarray, values: np.ndarray, gamma: float,
                   n_step: Optional[int]) -> np.ndarray:
  """Returns the n-step bootstrapped returns of padded episodes.

  G_t = sum_{k<m} gamma^k (prod_{j<k} d_{t+j}) r_{t+k}
        + gamma^m (prod_{j<m} d_{t+j}) V(o_{t+m}),   m = min(n, L - t),

  so the last steps of an episode bootstrap from the final observation's value
  V(o_L), which a termination (d_{L-1} = 0) cancels and a truncation keeps.

  Args:
    reward, discount: [B, T] padded.
    length: [B] episode lengths.
    values: [B, T + 1] V(o_t) for t <= L (padding ignored).
    gamma: the agent's discount.
    n_step: n >= 1, or None (or n >= T) for full-episode returns
      bootstrapped only at the end.

  Returns:
    [B, T] float64 returns (0 on padding).
  """
  gamma = _check_gamma(gamma)
  reward = np.asarray(reward, np.float64)
  discount = np.asarray(discount, np.float64)
  values = np.asarray(values, np.float64)
  length = np.asarray(length, np.int64)
  _check_padded(reward, discount, length)
  num_episodes, max_length = reward.shape
  if values.shape != (num_episodes, max_length + 1):
    raise ValueError(
        f'values must be [B, T + 1] = [{num_episodes}, {max_length + 1}], got '
        f'shape {values.shape}.')
  if n_step is not None and (not isinstance(n_step, numbers.Integral) or
                             isinstance(n_step, bool) or n_step < 1):
    raise ValueError(f'n_step must be a positive integer or None, got {n_step!r}.')
  final_value = values[np.arange(num_episodes), length]
  if n_step is None or n_step >= max_length:
    return discounted_returns(reward, discount, length, gamma, final_value)

  n = int(n_step)
  steps = np.arange(max_length)
  mask = steps[None, :] < length[:, None]
  reward = np.where(mask, reward, 0.0)
  gd = gamma * np.where(mask, discount, 0.0)
  pad = np.zeros((num_episodes, n))
  reward_pad = np.concatenate([reward, pad], axis=1)
  gd_pad = np.concatenate([gd, pad], axis=1)
  values_pad = np.concatenate([values, pad], axis=1)
  returns = np.zeros((num_episodes, max_length))
  coefficient = np.ones((num_episodes, max_length))
  ends_here = length[:, None]
  for k in range(n):
    returns += coefficient * reward_pad[:, k:k + max_length]
    coefficient = coefficient * gd_pad[:, k:k + max_length]
    # The episode ends after step t + k: bootstrap from V(o_L).
    at_end = steps[None, :] + k + 1 == ends_here
    returns += np.where(at_end, coefficient * final_value[:, None], 0.0)
  inside = steps[None, :] + n < ends_here
  returns += np.where(inside, coefficient * values_pad[:, n:n + max_length], 0.0)
  return np.where(mask, returns, 0.0)


def standardize(x: np.ndarray, mask: np.ndarray, mode: str,
                epsilon: float = 1e-8) -> np.ndarray:
  """Standardizes the valid entries of `x` [B, T] to mean 0 and std 1.

  Args:
    x: [B, T] values (returns or advantages).
    mask: [B, T] which entries are real steps.
    mode: 'none', 'episode' (each row on its own, as seed 001's REINFORCE) or
      'batch' (all valid entries together).
    epsilon: added to the standard deviation (population std, so a
      one-step episode gives 0 rather than NaN).

  Returns:
    [B, T] float64, 0 on padding.
  """
  x = np.asarray(x, np.float64)
  mask = np.asarray(mask, bool)
  if x.shape != mask.shape:
    raise ValueError(f'x and mask must have one shape, got {x.shape} and {mask.shape}.')
  if mode == 'none':
    return np.where(mask, x, 0.0)
  if mode == 'episode':
    count = np.maximum(mask.sum(axis=1, keepdims=True), 1)
    mean = np.where(mask, x, 0.0).sum(axis=1, keepdims=True) / count
    var = np.where(mask, (x - mean) ** 2, 0.0).sum(axis=1, keepdims=True) / count
    return np.where(mask, (x - mean) / (np.sqrt(var) + epsilon), 0.0)
  if mode == 'batch':
    valid = x[mask]
    if valid.size == 0:
      return np.zeros_like(x)
    return np.where(mask, (x - valid.mean()) / (valid.std() + epsilon), 0.0)
  raise ValueError(f"mode must be one of 'none', 'episode', 'batch', got {mode!r}.")


STANDARDIZE_MODES = ('none', 'episode', 'batch')


def scatter(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
  """Puts `values` [N] at the True entries of `mask` [B, T] (0 elsewhere, float64)."""
  padded = np.zeros(mask.shape, np.float64)
  padded[mask] = values
  return padded


def pad_episodes(episodes: Sequence[Any]) -> EpisodeBatch:
  """Pads whole episodes into an `EpisodeBatch`.

  Args:
    episodes: objects with `observation` [L + 1, ...] (the final observation
      last) and `action`, `reward`, `discount` of at least L entries (extra
      trailing entries, such as the padding step of an episode adder, are
      dropped).

  Returns:
    The padded batch.
  """
  if not episodes:
    raise ValueError('pad_episodes needs at least one episode, got none.')
  lengths = np.array([len(e.observation) - 1 for e in episodes], np.int64)
  if lengths.min() < 0:
    raise ValueError('Every episode needs at least its first observation.')
  num_episodes, max_length = len(episodes), int(lengths.max())
  first = episodes[0]
  observation = np.zeros((num_episodes, max_length + 1) + np.shape(first.observation)[1:],
                         np.asarray(first.observation).dtype)
  action = np.zeros((num_episodes, max_length) + np.shape(first.action)[1:],
                    np.asarray(first.action).dtype)
  reward = np.zeros((num_episodes, max_length), np.float32)
  discount = np.zeros((num_episodes, max_length), np.float32)
  for i, (episode, length) in enumerate(zip(episodes, lengths)):
    observation[i, :length + 1] = episode.observation
    action[i, :length] = episode.action[:length]
    reward[i, :length] = episode.reward[:length]
    discount[i, :length] = episode.discount[:length]
  mask = np.arange(max_length)[None, :] < lengths[:, None]
  return EpisodeBatch(observation, action, reward, discount, mask, lengths)


class EpisodeReader(Iterator[EpisodeBatch]):
  """Reads batches of whole episodes from a Reverb queue table, synchronously.

  Each `next()` takes `episodes_per_batch` items (`adders.Step` sequences of
  L + 1 rows written by `adders.EpisodeAdder`; the queue removes them) and pads
  them into an `EpisodeBatch`. There is no prefetching: an on-policy learner
  must not read episodes before they exist. The items' structure comes from
  the table's signature on the server, so the client is all it needs.

  `next()` never waits: when the table holds fewer than `episodes_per_batch`
  items it raises RuntimeError (in one thread the queue would never fill).
  A learner in its own process steps only when `ready()`.

  Args:
    client: a `reverb.Client` of the server holding `table`.
    table: the queue table's name.
    episodes_per_batch: episodes per batch.
  """

  def __init__(self, client: Any, table: str, episodes_per_batch: int):
    if not (callable(getattr(client, 'sample', None)) and
            callable(getattr(client, 'server_info', None))):
      raise TypeError(f'client must be a reverb.Client, got {type(client).__name__}.')
    if not isinstance(table, str) or not table:
      raise ValueError(f'table must be a non-empty string, got {table!r}.')
    if (not isinstance(episodes_per_batch, numbers.Integral) or
        isinstance(episodes_per_batch, bool) or episodes_per_batch < 1):
      raise ValueError(
          f'episodes_per_batch must be a positive integer, got {episodes_per_batch!r}.')
    self._client = client
    self._table = table
    self._episodes_per_batch = int(episodes_per_batch)
    info = client.server_info()
    if table not in info:
      raise ValueError(f'Table {table!r} is not on the Reverb server; it has {sorted(info)}.')
    signature = info[table].signature
    if signature is None or tuple(getattr(signature, '_fields', ())) != adders_base.Step._fields:
      raise ValueError(
          f'Table {table!r} does not hold episodes: its signature is {signature}, '
          f'expected a Step of sequences (fields {adders_base.Step._fields}).')
    if tree.is_nested(signature.observation) or tree.is_nested(signature.action):
      raise NotImplementedError(
          'EpisodeReader supports single-array observations and actions only.')
    self._structure = signature
    self._num_columns = len(tree.flatten(signature))
    self._closed = False

  @property
  def episodes_per_batch(self) -> int:
    return self._episodes_per_batch

  @property
  def table(self) -> str:
    return self._table

  def ready(self) -> bool:
    """Whether the table holds a batch (one server call)."""
    if self._closed:
      return False
    return self._client.server_info()[self._table].current_size >= self._episodes_per_batch

  def __iter__(self) -> 'EpisodeReader':
    return self

  def __next__(self) -> EpisodeBatch:
    if self._closed:
      raise RuntimeError(f'EpisodeReader of table {self._table!r} is closed.')
    if not self.ready():
      raise RuntimeError(
          f'Table {self._table!r} holds fewer than {self._episodes_per_batch} '
          f'episodes; reading now would wait forever. Step the learner only '
          f'after that many episodes have ended (or when ready()).')
    episodes = []
    for sample in self._client.sample(self._table, self._episodes_per_batch,
                                      emit_timesteps=False):
      if len(sample.data) != self._num_columns:
        raise ValueError(
            f'Items of table {self._table!r} have {len(sample.data)} columns; '
            f'its signature has {self._num_columns}.')
      episodes.append(tree.unflatten_as(self._structure, list(sample.data)))
    return pad_episodes(episodes)

  def close(self) -> None:
    """Makes later reads fail; there is no background thread to stop."""
    self._closed = True
