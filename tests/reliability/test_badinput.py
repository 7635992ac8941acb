"""Bad input (fast subset): the whole configuration catalogue through `cli.main`
in-process (make reliability runs it as subprocesses), malformed API answers over
loopback HTTP, and a hypothesis fuzz of the normalizer."""

from benchmarks.reliability import badinput
from benchmarks.reliability.common import Capture
from jira_etl.simulator.server import JiraSimulator


def test_malformed_configuration_is_refused_with_the_field_named(rel_root):
    with JiraSimulator() as sim:
        results = badinput.run_config_catalogue(rel_root / "config", Capture(rel_root), sim.url,
                                                subprocesses=False, log=lambda *_: None)
    failed = [(r.name, r.problems) for r in results if not r.passed]
    assert not failed, failed
    assert len(results) == len(badinput.CATALOGUE)


def test_one_malformed_configuration_through_the_console_script(rel_root):
    case = next(c for c in badinput.CATALOGUE if c.name == "token with a curly quote")
    with JiraSimulator() as sim:
        results = badinput.run_config_catalogue(rel_root / "config-sub", Capture(rel_root), sim.url, [case],
                                                subprocesses=True, log=lambda *_: None)
    assert results[0].passed, results[0].problems


def test_malformed_api_data_publishes_the_usable_records_or_fails_clearly(rel_root):
    results = badinput.run_api_cases(rel_root / "api", Capture(rel_root), log=lambda *_: None)
    failed = [(r.name, r.problems) for r in results if not r.passed]
    assert not failed, failed


def test_normalizer_fuzz_any_json_in_any_field():
    report = badinput.fuzz_normalizer(max_examples=150)
    assert report.examples >= 100 and not report.failures, report.failures
