"""dm_env environment wrappers, as in `acme.wrappers`."""

from rlkit.wrappers.base import EnvironmentWrapper
from rlkit.wrappers.base import wrap_all
from rlkit.wrappers.one_hot import OneHotObservationWrapper
from rlkit.wrappers.single_precision import SinglePrecisionWrapper
from rlkit.wrappers.step_limit import StepLimitWrapper
