"""Reverb replay: tables, signatures, the server and priority updates."""

import os

# TensorFlow (loaded by Reverb) prints info lines at import; keep warnings.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')

from rlkit.replay.priorities import MaxPriorityTracker  # pylint: disable=g-import-not-at-top
from rlkit.replay.priorities import update_priorities
from rlkit.replay.server import ReplayServer
from rlkit.replay.server import connect
from rlkit.replay.signatures import sequence_signature
from rlkit.replay.signatures import transition_signature
from rlkit.replay.tables import DEFAULT_PRIORITY_TABLE
from rlkit.replay.tables import disable_insert_blocking
from rlkit.replay.tables import make_queue_table
from rlkit.replay.tables import make_sequence_table
from rlkit.replay.tables import make_transition_table
