"""Scores bsuite's own CSV logs with bsuite's own analysis code: a table and its plots.

    report = write_report('runs/bsuite/<timestamp>/bsuite', 'runs/bsuite/<timestamp>')
    report.scores   # {experiment: score in [0, 1]}

bsuite's CSV logger (`bsuite:<id>` with `bsuite_results_dir`) writes one file
per id; `bsuite.experiments.summary_analysis` turns them into per-experiment
scores, a radar plot and a bar plot. Scores are bsuite's: an experiment
scored on fewer episodes than it prescribes is partial (the table's
'finished' column), and the table says how many episodes each id ran.
"""

import contextlib
import dataclasses
import logging
import os
import warnings
from typing import Any, Dict, Iterator, Mapping, Optional

# bsuite's own reference DQN (bsuite.baselines), scored by bsuite's analysis on this
# project's machines with bsuite's full episode budgets, one seed per experiment (the
# figures recorded in the project's schedules issue). bsuite's published baseline
# results are fetched from the network by its colab and are not available here.
REFERENCE_DQN = {
    'catch': 0.92, 'cartpole': 0.61, 'bandit': 0.92, 'mountain_car': 0.67, 'memory_len': 1.0,
}


@dataclasses.dataclass
class BsuiteReport:
  scores: Dict[str, float]
  episodes: Dict[str, int]
  finished: Dict[str, bool]
  table_path: str
  plots: Dict[str, str]


def _load(results_dir: str):
  from bsuite.logging import csv_load  # pylint: disable=g-import-not-at-top
  if not os.path.isdir(results_dir) or not any(
      name.endswith('.csv') for name in os.listdir(results_dir)):
    raise FileNotFoundError(f'{results_dir!r} holds no bsuite CSV logs (bsuite_id=*.csv).')
  return csv_load.load_bsuite(results_dir)


def write_report(results_dir: str, output_dir: str,
                 published: Optional[Mapping[str, float]] = None) -> BsuiteReport:
  """Scores the logs in `results_dir` beside `published` (default REFERENCE_DQN).

  Writes bsuite_scores.md (the table), bsuite_scores.csv (bsuite's summary) and
  bsuite's radar and bar plots to `output_dir`.
  """
  from bsuite.experiments import summary_analysis  # pylint: disable=g-import-not-at-top
  published = REFERENCE_DQN if published is None else published
  df, sweep_vars = _load(results_dir)
  with warnings.catch_warnings(), _series_append():
    warnings.simplefilter('ignore', FutureWarning)  # bsuite's groupby under pandas 2
    summary = summary_analysis.bsuite_score(df, sweep_vars)
  finished = {str(k): bool(v) for k, v in
              summary.groupby('bsuite_env')['finished'].all().to_dict().items()}
  scores = {str(k): float(v) for k, v in
            summary.groupby('bsuite_env')['score'].mean().to_dict().items()}
  episodes = {str(k): int(v) for k, v in
              df.groupby('bsuite_id')['episode'].max().to_dict().items()}
  os.makedirs(output_dir, exist_ok=True)
  table_path = os.path.join(output_dir, 'bsuite_scores.md')
  lines = ['| experiment | rlkit score | bsuite reference DQN | finished | ids (episodes run) |',
           '|---|---|---|---|---|']
  for experiment in sorted(scores):
    ids = ', '.join(f'{i} ({n})' for i, n in sorted(episodes.items())
                    if i.partition('/')[0] == experiment)
    reference = published.get(experiment)
    lines.append(f'| {experiment} | {scores[experiment]:.2f} | '
                 f'{"" if reference is None else f"{reference:.2f}"} | '
                 f'{"yes" if finished[experiment] else "no (partial)"} | {ids} |')
  with open(table_path, 'w') as f:
    f.write('\n'.join(lines) + '\n')
  summary.to_csv(os.path.join(output_dir, 'bsuite_scores.csv'), index=False)
  plots = {}
  figures = (('bsuite_radar', lambda: radar_plot(
                  summary_analysis.ave_score_by_tag(summary, sweep_vars))),
             ('bsuite_bars', lambda: summary_analysis.bsuite_bar_plot(summary, sweep_vars)))
  font_logger = logging.getLogger('matplotlib.font_manager')
  level = font_logger.level
  font_logger.setLevel(logging.ERROR)  # plotnine asks for serif fonts the machine may lack.
  try:
    with warnings.catch_warnings():
      warnings.simplefilter('ignore')
      for name, make in figures:
        try:
          plots[name] = _save(make(), os.path.join(output_dir, f'{name}.png'))
        except Exception as e:  # pylint: disable=broad-except
          print(f'warning: no {name} plot ({type(e).__name__}: {e}).', flush=True)
  finally:
    font_logger.setLevel(level)
  return BsuiteReport(scores=scores, episodes=episodes, finished=finished, table_path=table_path, plots=plots)


@contextlib.contextmanager
def _series_append() -> Iterator[None]:
  """`pandas.Series.append` (removed in pandas 2) while bsuite scores: deep_sea's scorer uses it."""
  import pandas as pd  # pylint: disable=g-import-not-at-top
  if hasattr(pd.Series, 'append'):
    yield
    return
  pd.Series.append = lambda self, other: pd.concat([self, other])
  try:
    yield
  finally:
    del pd.Series.append


def _save(figure: Any, path: str) -> str:
  if hasattr(figure, 'save'):  # plotnine
    figure.save(path, verbose=False)
  else:
    import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
    figure.savefig(path, bbox_inches='tight')
    plt.close(figure)
  return path


def radar_plot(by_tag: Any) -> Any:
  """bsuite's radar plot of the scores by tag (`summary_analysis.ave_score_by_tag`).

  bsuite's own `bsuite_radar_plot` fails with pandas 2 (it averages a frame
  holding its string 'agent' column); this draws the same plot, for the tags
  that have a score.
  """
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  scored = by_tag.dropna(subset=['score']).groupby('tag')['score'].mean().sort_index()
  if scored.empty:
    raise ValueError('no tag has a score.')
  tags = list(scored.index)
  values = np.maximum(scored.to_numpy(dtype=float), 0.05)  # as bsuite: no collapse to 0
  angles = np.linspace(0, 2 * np.pi, len(tags), endpoint=False)
  figure = plt.figure(figsize=(7, 7), facecolor='white')
  ax = figure.add_subplot(111, polar=True)
  for radius, alpha in ((0.25, 0.05), (0.5, 0.05), (0.75, 0.03), (1.0, 0.01)):
    ax.fill(np.linspace(0, 2 * np.pi, 100), [radius] * 100, color='k', alpha=alpha)
  closed_angles = np.append(angles, angles[0])
  closed_values = np.append(values, values[0])
  ax.plot(closed_angles, closed_values, '-', linewidth=3, color='#313695')
  ax.fill(closed_angles, closed_values, alpha=0.2, color='#313695')
  ax.set_thetagrids(np.degrees(angles), [t.replace('_', ' ').title() for t in tags])
  ax.set_ylim(0, 1)
  ax.set_yticks([0.25, 0.5, 0.75, 1.0])
  ax.set_title('bsuite score by tag')
  return figure
