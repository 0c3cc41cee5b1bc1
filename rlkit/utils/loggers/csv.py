"""A logger writing rows to `<directory>/<label>.csv`."""

import csv
import os
from typing import List, Optional

from rlkit.utils.loggers import base


class CSVLogger(base.Logger):
  """Appends rows to a CSV file; flushed after every row so a crash loses none.

  The header is the keys of the first row. When the file already exists (a
  resumed run), rows are appended under its header. A later row with a key
  the header lacks raises ValueError rather than silently dropping it.
  """

  def __init__(self, directory: str, label: str = 'logs'):
    if not label or os.sep in label:
      raise ValueError(f'CSVLogger label must be a plain file name, got {label!r}.')
    os.makedirs(directory, exist_ok=True)
    self._path = os.path.join(directory, f'{label}.csv')
    self._fieldnames: Optional[List[str]] = None
    if os.path.exists(self._path) and os.path.getsize(self._path) > 0:
      with open(self._path, newline='') as f:
        self._fieldnames = next(csv.reader(f), None)
    self._file = open(self._path, 'a', newline='')
    self._writer: Optional[csv.DictWriter] = None

  @property
  def file_path(self) -> str:
    return self._path

  def write(self, data: base.LoggingData) -> None:
    row = {key: base.to_numpy(value) for key, value in data.items()}
    if self._writer is None:
      if self._fieldnames is None:
        self._fieldnames = list(row.keys())
        writer = csv.DictWriter(self._file, fieldnames=self._fieldnames)
        writer.writeheader()
      self._writer = csv.DictWriter(self._file, fieldnames=self._fieldnames)
    unknown = set(row) - set(self._fieldnames)
    if unknown:
      raise ValueError(
          f'CSVLogger({self._path}): keys {sorted(unknown)} are not in the '
          f'header {self._fieldnames}; log the same keys in every row.')
    self._writer.writerow(row)
    self._file.flush()

  def close(self) -> None:
    if not self._file.closed:
      self._file.close()
