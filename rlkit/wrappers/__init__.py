"""dm_env environment wrappers, as in `acme.wrappers`."""

from rlkit.wrappers.action_repeat import ActionRepeatWrapper
from rlkit.wrappers.base import EnvironmentWrapper
from rlkit.wrappers.base import wrap_all
from rlkit.wrappers.canonical_spec import CanonicalSpecWrapper
from rlkit.wrappers.concatenate_observations import ConcatObservationWrapper
from rlkit.wrappers.one_hot import OneHotObservationWrapper
from rlkit.wrappers.single_precision import SinglePrecisionWrapper
from rlkit.wrappers.step_limit import StepLimitWrapper
