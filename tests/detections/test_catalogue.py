"""The catalogue: every id of shared/detections.md, valid metadata, strict validation, overrides."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from jira_etl.detections import catalogue
from jira_etl.detections import overrides
from jira_etl.storage import schema as storage_schema

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "detections.md"


def spec_ids() -> set[str]:
    text = SPEC.read_text()
    body = text.split("## C.")[0]
    return set(re.findall(r"^\| ([a-z][a-z0-9_]+) \|", body, re.MULTILINE)) - {"id"}


@pytest.mark.skipif(not SPEC.exists(), reason="shared/detections.md not beside the project")
def test_catalogue_ships_every_id_of_the_spec_exactly():
    ids = {d.id for d in catalogue.load_catalogue()}
    assert ids == spec_ids()


def test_metadata_is_complete():
    cat = catalogue.load_catalogue()
    assert len(cat) == 21
    for det in cat:
        assert det.title and det.rationale and det.severity in catalogue.SEVERITIES
        assert det.path.name == f"{det.id}.sql"
    by_id = catalogue.catalogue_by_id()
    assert by_id["privilege_escalation_chain"].severity == "critical"
    removal = by_id["mass_user_removal"].parameters
    assert removal["threshold"] == 10 and removal["window_minutes"] == 15 and removal["learning_days"] == 7
    assert by_id["new_site_admin"].parameters["admin_groups"] == [
        "site-admins", "jira-administrators", "administrators", "org-admins"]
    assert by_id["new_country_or_network_for_actor"].optional


def test_hunting_views_exist():
    names = {v.name for v in storage_schema.load_hunting_views()}
    assert names == {"actor_activity_by_hour", "ips_per_actor", "top_objects_changed",
                     "workflow_scheme_changes_by_project", "new_users", "version_releases",
                     "blocked_status_changes", "daily_summary"}


def _copy_rules(tmp_path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(catalogue.RULES_DIR, target)
    return target


def test_validation_rejects_bad_rules(tmp_path):
    rules = _copy_rules(tmp_path)
    (rules / "new_user_created.sql").write_text(
        (rules / "new_user_created.sql").read_text().replace("severity: low", "severity: urgent"))
    (rules / "mass_deletion.sql").write_text(
        (rules / "mass_deletion.sql").read_text().replace("$threshold", "$thresh0ld"))
    (rules / "audit_gap.sql").write_text((rules / "audit_gap.sql").read_text().replace("id: audit_gap", "id: gap"))
    (rules / "broken.sql").write_text("-- id: broken\n-- title: t\n-- severity: low\n-- rationale: r\n"
                                      "-- section: baseline\nSELECT nonsense FROM nowhere")
    with pytest.raises(catalogue.CatalogueError) as err:
        catalogue.load_catalogue(rules)
    text = str(err.value)
    assert "severity 'urgent'" in text
    assert "undeclared parameters ['thresh0ld']" in text and "['threshold'] are not used" in text
    assert "differs from the file name" in text


def test_validation_runs_the_sql(tmp_path):
    rules = _copy_rules(tmp_path)
    (rules / "broken.sql").write_text("-- id: broken\n-- title: t\n-- severity: low\n-- rationale: r\n"
                                      "-- section: baseline\nSELECT nonsense FROM nowhere")
    with pytest.raises(catalogue.CatalogueError, match="broken.sql: SQL does not run"):
        catalogue.load_catalogue(rules)


def test_values_are_bound_not_formatted():
    det = catalogue.catalogue_by_id()["new_site_admin"]
    assert "site-admins" not in det.sql
    assert "$admin_groups" in det.sql


def test_overrides_file(tmp_path, monkeypatch):
    cfg = tmp_path / "detections.yaml"
    cfg.write_text("detections:\n  mass_user_removal: {parameters: {threshold: 20}}\n"
                   "  off_hours_admin_activity: {enabled: false}\n  new_user_created: {severity: medium}\n")
    monkeypatch.setenv(overrides.CONFIG_ENV, str(cfg))
    s = overrides.load_settings()
    by_id = catalogue.catalogue_by_id()
    assert s.parameters == {"mass_user_removal": {"threshold": 20}}
    assert not s.is_enabled(by_id["off_hours_admin_activity"])
    assert s.severity_of(by_id["new_user_created"]) == "medium"
    cfg.write_text("detections:\n  mass_user_removal: {parameters: {treshold: 20}}\n  nope: {}\n")
    with pytest.raises(catalogue.CatalogueError, match="unknown parameter 'treshold'.*unknown detection 'nope'|"
                                                      "unknown detection 'nope'.*unknown parameter"):
        overrides.load_settings()


def test_no_overrides_file_means_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv(overrides.CONFIG_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert overrides.load_settings() == overrides.Settings()


def test_a_catalogue_loaded_in_the_background_is_the_one_callers_get():
    """`jira-etl backfill` starts the load (its DuckDB dry run) on a thread while Dagster
    imports; the definitions' own call must then reuse it, not validate again."""
    thread = catalogue.load_catalogue_in_background()
    thread.join(60)
    assert not thread.is_alive()
    misses = catalogue._load_catalogue.cache_info().misses
    first = catalogue.load_catalogue()
    assert catalogue.load_catalogue() is first
    assert catalogue._load_catalogue.cache_info().misses == misses  # served from the background's load
