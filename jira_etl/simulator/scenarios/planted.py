"""What a planted scenario is (:class:`Planted`) and the rule facts the ground truth
is computed from (which summaries the single-event rules match, which are sensitive)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


DETECTION_IDS = (
    "global_permission_added", "new_site_admin", "site_admin_password_changed",
    "new_user_created", "permission_scheme_changed", "project_roles_changed",
    "password_changed_from_many_ips", "user_removed_from_group",
    "user_removed_from_project", "workflow_scheme_copied", "privilege_escalation_chain",
    "mass_user_removal", "mass_deletion", "config_change_burst", "new_ip_for_actor",
    "off_hours_admin_activity", "rare_action_for_actor", "dormant_actor_returns",
    "security_scheme_removed", "audit_gap")

# Summaries rare_action_for_actor treats as sensitive (plus admin-group membership).
SENSITIVE_SUMMARIES = frozenset({
    "Global permission added", "Global permission deleted",
    "Permission scheme updated", "Permission scheme deleted",
    "Permission scheme added to project", "Permission scheme removed from project",
    "Issue Security scheme added to project", "Issue Security scheme removed from project",
    "Issue Security scheme deleted", "Audit log settings changed"})

# Single-event rules of section A: summary -> detection id.
SUMMARY_RULES = {
    "Global permission added": "global_permission_added",
    "User created": "new_user_created",
    "Permission scheme updated": "permission_scheme_changed",
    "Permission scheme deleted": "permission_scheme_changed",
    "Permission scheme added to project": "permission_scheme_changed",
    "Project roles changed": "project_roles_changed",
    "User removed from group": "user_removed_from_group",
    "User removed from project": "user_removed_from_project",
    "Workflow scheme copied": "workflow_scheme_copied",
}
SECURITY_REMOVAL = {"Issue Security scheme deleted", "Issue Security scheme removed from project",
                    "Permission scheme deleted"}


@dataclass
class Planted:
    detection_id: str
    record_ids: set[int]
    day: date
    setup_ids: set[int] = field(default_factory=set)
    also: dict[str, set[int]] = field(default_factory=dict)
    negative: bool = False
    note: str = ""
