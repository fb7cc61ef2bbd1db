"""Shared test settings.

Property tests draw fresh examples on every run on a developer's machine, to keep finding
new cases; `scripts/test.sh` (what CI runs) selects the `ci` profile, whose examples are
derived from each test's name, so a CI run is repeatable and a red one can be rerun.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
