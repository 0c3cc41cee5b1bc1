"""The core interfaces: abstract methods and Learner.run."""

import pytest

from rlkit import core


class CountingLearner(core.Learner):

  def __init__(self):
    self.steps = 0

  def step(self):
    self.steps += 1

  def get_variables(self, names):
    return [{'steps': self.steps} for _ in names]


def test_learner_run_takes_num_steps():
  learner = CountingLearner()
  learner.run(num_steps=5)
  assert learner.steps == 5
  assert learner.get_variables(['policy']) == [{'steps': 5}]


def test_learner_run_rejects_negative_steps():
  with pytest.raises(ValueError, match='-1'):
    CountingLearner().run(num_steps=-1)


def test_learner_without_save_says_so():
  with pytest.raises(NotImplementedError, match='CountingLearner'):
    CountingLearner().save()


@pytest.mark.parametrize('interface', [core.Actor, core.VariableSource, core.Worker,
                                       core.Saveable, core.Learner])
def test_interfaces_are_abstract(interface):
  with pytest.raises(TypeError):
    interface()


def test_core_imports_neither_torch_nor_reverb():
  import subprocess, sys
  code = ('import sys, rlkit, rlkit.core, rlkit.specs, rlkit.types, rlkit.environment_loop; '
          'bad = [m for m in ("torch", "reverb", "tensorflow") if m in sys.modules]; '
          'assert not bad, bad')
  subprocess.run([sys.executable, '-c', code], check=True)
