"""Bad input: a catalogue of malformed configuration run through the CLI, malformed API
data served over loopback HTTP, and a hypothesis fuzz of the normalizer.

Configuration: each case must stop with a clear message naming the field (exit code
non-zero, no Python traceback), never echo the token, and write nothing (no Parquet
file, no audit row). API data: each case either publishes exactly the usable records
(each kept whole in `raw`) or fails with a clear message and publishes nothing.

The family is split by input: ``config`` (the CLI's settings), ``api_data`` (pages over
HTTP), ``fuzz`` (the normalizer); ``shared`` holds the token and the case result.
"""

from __future__ import annotations

from benchmarks.reliability.badinput.api_data import API_CASES, ApiCase, canned_server, run_api_cases
from benchmarks.reliability.badinput.config import (CATALOGUE, GOOD_YAML, ConfigCase, run_config_catalogue,
                                                    run_main_in_process)
from benchmarks.reliability.badinput.fuzz import FuzzReport, fuzz_normalizer
from benchmarks.reliability.badinput.shared import SECRET, CaseResult

__all__ = ["API_CASES", "ApiCase", "canned_server", "run_api_cases", "CATALOGUE", "GOOD_YAML", "ConfigCase",
           "run_config_catalogue", "run_main_in_process", "FuzzReport", "fuzz_normalizer", "SECRET", "CaseResult"]
