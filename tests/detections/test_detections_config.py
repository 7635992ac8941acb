"""detections.yaml through its strict typed model (issue 16, Security): wrong types,
string entries and unknown keys are refused with a message naming the field. Before
the model, `enabled: "false"` left a rule enabled, `threshold: true` was taken as a
number and a string entry raised AttributeError."""

from __future__ import annotations

import datetime as dt

import pytest

from jira_etl.detections import catalogue, overrides


def load(tmp_path, text: str) -> overrides.Settings:
    cfg = tmp_path / "detections.yaml"
    cfg.write_text(text)
    return overrides.load_settings(cfg)


def refused(tmp_path, text: str) -> str:
    with pytest.raises(catalogue.CatalogueError) as err:
        load(tmp_path, text)
    return str(err.value)


@pytest.mark.parametrize("text, names", [
    ('detections:\n  off_hours_admin_activity: {enabled: "false"}\n',
     ["detections.off_hours_admin_activity.enabled", "valid boolean", "'false'"]),
    ("detections:\n  off_hours_admin_activity: {enabled: 0}\n",
     ["detections.off_hours_admin_activity.enabled", "valid boolean"]),
    ("detections:\n  mass_user_removal: {parameters: {threshold: true}}\n",
     ["mass_user_removal: parameter 'threshold' must be like", "got True"]),
    ('detections:\n  mass_user_removal: {parameters: {threshold: "20"}}\n',
     ["mass_user_removal: parameter 'threshold'", "got '20'"]),
    ("detections:\n  new_site_admin: {parameters: {admin_groups: site-admins}}\n",
     ["new_site_admin: parameter 'admin_groups' must be like"]),
    ("detections:\n  new_site_admin: {parameters: {admin_groups: [1, 2]}}\n",
     ["new_site_admin: parameter 'admin_groups' must be like"]),
    ("detections:\n  off_hours_admin_activity: disabled\n",
     ["detections.off_hours_admin_activity", "valid dictionary", "'disabled'"]),
    ("detections:\n  - off_hours_admin_activity\n", ["detections:", "valid dictionary"]),
    ("detections:\n  off_hours_admin_activity: {enabeld: false}\n",
     ["detections.off_hours_admin_activity.enabeld", "Extra inputs are not permitted"]),
    ("detection:\n  off_hours_admin_activity: {enabled: false}\n", ["detection:", "Extra inputs"]),
    ("detections:\n  new_user_created: {severity: urgent}\n",
     ["detections.new_user_created.severity", "'low', 'medium', 'high' or 'critical'"]),
    ("detections:\n  user_removed_from_group: {group_window_minutes: -1}\n",
     ["detections.user_removed_from_group.group_window_minutes", "greater than or equal to 0"]),
    ('detections:\n  user_removed_from_group: {group_window_minutes: "60"}\n',
     ["detections.user_removed_from_group.group_window_minutes", "valid integer"]),
    ("detections:\n  user_removed_from_group: {group_window_minutes: true}\n",
     ["detections.user_removed_from_group.group_window_minutes", "valid integer"]),
    ("detections:\n  user_removed_from_group: {group_by: [actor, colour]}\n",
     ["detections.user_removed_from_group.group_by.1", "'actor', 'object'"]),
    ("detections:\n  user_removed_from_group: {group_message: '{actor} did {what}'}\n",
     ["detections.user_removed_from_group.group_message", "unknown placeholder '{what}'"]),
    ("detections:\n  user_removed_from_group: {group_message: '{actor.__class__}'}\n",
     ["group_message", "unknown placeholder '{actor.__class__}'"]),
    ("detections:\n  user_removed_from_group:\n    suppress: [{actors: [svc]}]\n",
     ["detections.user_removed_from_group.suppress.0.reason", "Field required"]),
    ("detections:\n  user_removed_from_group:\n    suppress: [{reason: ''}]\n",
     ["detections.user_removed_from_group.suppress.0.reason", "at least 1 character"]),
    ("detections:\n  user_removed_from_group:\n    suppress: [{reason: sync}]\n",
     ["detections.user_removed_from_group.suppress.0", "at least one of actors, networks, groups, objects"]),
    ("detections:\n  user_removed_from_group:\n    suppress: [{reason: r, actors: svc}]\n",
     ["detections.user_removed_from_group.suppress.0.actors", "valid list"]),
    ("detections:\n  user_removed_from_group:\n    suppress: [{reason: r, networks: [10.0.0.0/33]}]\n",
     ["detections.user_removed_from_group.suppress.0.networks", "'10.0.0.0/33' is not an address or CIDR"]),
    ("detections:\n  user_removed_from_group:\n    suppress: [{reason: r, actors: [a], expires: 31.12.2026}]\n",
     ["detections.user_removed_from_group.suppress.0.expires", "'31.12.2026' is not a date"]),
    ("detections:\n  user_removed_from_group:\n    suppress: [{reason: r, actors: [a], expires: 20261231}]\n",
     ["detections.user_removed_from_group.suppress.0.expires", "must be a date"]),
    ("detections:\n  user_removed_from_group:\n    suppress: [{reason: r, actor: [a]}]\n",
     ["detections.user_removed_from_group.suppress.0.actor", "Extra inputs"]),
    ("detections:\n  no_such_rule: {enabled: false}\n", ["unknown detection 'no_such_rule'"]),
    ("detections:\n  mass_user_removal: {parameters: {treshold: 20}}\n",
     ["mass_user_removal: unknown parameter 'treshold' (known: "]),
])
def test_refused_with_a_message_naming_the_field(tmp_path, text, names):
    message = refused(tmp_path, text)
    for name in names:
        assert name in message, message


def test_every_problem_is_reported_at_once(tmp_path):
    message = refused(tmp_path, 'detections:\n  off_hours_admin_activity: {enabled: "no"}\n'
                                "  new_user_created: {severity: urgent, colour: red}\n")
    for name in ("off_hours_admin_activity.enabled", "new_user_created.severity", "new_user_created.colour"):
        assert name in message


def test_a_valid_file_gives_typed_settings(tmp_path):
    s = load(tmp_path, """
detections:
  off_hours_admin_activity: {enabled: false}
  mass_user_removal: {parameters: {threshold: 20.5}, severity: critical}
  new_site_admin: {parameters: {admin_groups: [site-admins, org-admins]}}
  new_user_created:
  user_removed_from_group:
    group_by: [actor]
    group_window_minutes: 0
    group_message: '{actor} removed {count:,} memberships ({sample})'
    suppress:
      - {actors: [svc-sync], networks: [10.0.0.0/8, "2001:db8::1"], reason: sync, expires: 2026-12-31}
      - {groups: [jira-users], reason: cleanup, expires: "2027-01-15"}
""")
    by_id = catalogue.catalogue_by_id()
    assert not s.is_enabled(by_id["off_hours_admin_activity"]) and s.is_enabled(by_id["new_user_created"])
    assert s.parameters["mass_user_removal"] == {"threshold": 20.5}
    assert s.severity_of(by_id["mass_user_removal"]) == "critical"
    spec = s.grouping_of(by_id["user_removed_from_group"])
    assert (spec.group_by, spec.window_minutes) == (("actor",), 0) and spec.message.startswith("{actor} removed")
    assert s.grouping_of(by_id["new_site_admin"]).window_minutes == 60  # the section's default
    first, second = s.suppressions_of(by_id["user_removed_from_group"])
    assert first.expires == dt.date(2026, 12, 31) and str(first.networks[1]) == "2001:db8::1/128"
    assert second.expires == dt.date(2027, 1, 15) and second.groups == ("jira-users",)
    assert s.suppressions_of(by_id["new_user_created"]) == ()


def test_an_empty_file_and_an_empty_mapping_mean_defaults(tmp_path):
    assert load(tmp_path, "") == overrides.Settings()
    assert load(tmp_path, "detections: {}\n") == overrides.Settings()
    assert "not valid YAML" in refused(tmp_path, "detections: [unclosed\n")
