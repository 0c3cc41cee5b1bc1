"""Scores bsuite's own CSV logs with bsuite's own analysis code: a table and its plots.

    report = write_report('runs/bsuite/<timestamp>/bsuite', 'runs/bsuite/<timestamp>')
    report.scores   # {experiment: score in [0, 1]}

bsuite's CSV logger (`bsuite:<id>` with `bsuite_results_dir`) writes one file
per id; `bsuite.experiments.summary_analysis` turns them into per-experiment
scores, a radar plot and a bar plot. Scores are bsuite's: an experiment
scored on fewer episodes than it prescribes is partial, and the table says
how many episodes each id ran.
"""

import dataclasses
import os
import warnings
from typing import Dict, Mapping, Optional

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
  summary = summary_analysis.bsuite_score(df, sweep_vars)
  scores = {str(k): float(v) for k, v in
            summary.groupby('bsuite_env')['score'].mean().to_dict().items()}
  episodes = {str(k): int(v) for k, v in
              df.groupby('bsuite_id')['episode'].max().to_dict().items()}
  os.makedirs(output_dir, exist_ok=True)
  table_path = os.path.join(output_dir, 'bsuite_scores.md')
  lines = ['| experiment | rlkit score | bsuite reference DQN | ids (episodes run) |',
           '|---|---|---|---|']
  for experiment in sorted(scores):
    ids = ', '.join(f'{i} ({n})' for i, n in sorted(episodes.items())
                    if i.partition('/')[0] == experiment)
    reference = published.get(experiment)
    lines.append(f'| {experiment} | {scores[experiment]:.2f} | '
                 f'{"" if reference is None else f"{reference:.2f}"} | {ids} |')
  with open(table_path, 'w') as f:
    f.write('\n'.join(lines) + '\n')
  summary.to_csv(os.path.join(output_dir, 'bsuite_scores.csv'), index=False)
  plots = {}
  with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    for name, make in (('bsuite_radar', summary_analysis.bsuite_radar_plot),
                       ('bsuite_bars', summary_analysis.bsuite_bar_plot)):
      try:
        figure = make(summary, sweep_vars)
        path = os.path.join(output_dir, f'{name}.png')
        if hasattr(figure, 'save'):
          figure.save(path, verbose=False)
        else:
          figure.savefig(path)
        plots[name] = path
      except Exception as e:  # pylint: disable=broad-except
        print(f'warning: no {name} plot ({type(e).__name__}: {e}).', flush=True)
  return BsuiteReport(scores=scores, episodes=episodes, table_path=table_path, plots=plots)
