"""Reading what adders wrote, shared by the adder tests."""

from typing import Any, List


def read_all(replay_server: Any, table: str) -> List[Any]:
  """All items of a queue table, in insertion order (empties the queue)."""
  size = replay_server.table_sizes()[table]
  if size == 0:
    return []
  samples = replay_server.client().sample(
      table, size, emit_timesteps=False, unpack_as_table_signature=True)
  return [sample.data for sample in samples]
