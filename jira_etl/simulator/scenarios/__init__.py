"""Planted attack scenarios with ground truth, for the detections of detections.md.

Every ``plant_<detection_id>(data, at)`` injects records into a :class:`SiteData` at the
UTC datetime ``at`` and returns a :class:`Planted` naming the records the detection must
report.  ``plant_month`` plants every scenario on distinct weekdays of a month over the
clean realistic background (see data/habits.py), and ``near_miss_*`` helpers plant activity
just under a threshold (``Planted.negative`` is True: the rule must stay silent).

Ground truth and collateral
    ``Planted.record_ids`` are the planted records the detection must report (a
    finding may add background records of the same actor and window; match findings
    to truth by overlap).  ``Planted.setup_ids`` are preconditions (history, an earlier
    admin-group add) that are not themselves the finding.  Some scenarios inherently
    trip other rules (a privilege escalation contains a "User created" and an
    admin-group add): ``Planted.also`` maps those detection ids to the record ids
    expected to fire them.  ``also`` is computed by :func:`annotate` from the planted
    records only (the background trips nothing), assuming:

    * the single-event rules of section A match on summary (and admin group name);
    * rare_action_for_actor fires when the actor has events on at least 7 days (its
      learning period) of the previous 30, none with the same summary, and the record
      is sensitive (:data:`SENSITIVE_SUMMARIES`, or "User removed from group" on an
      admin group: an addition is new_site_admin's);
    * new_ip_for_actor fires when the actor has events on at least 7 of the previous
      30 days and none from that remoteAddress.

    Scenario actors act inside their usual hours and from their usual IP unless the
    scenario is about hours or IPs, and bursts stay under 20 events per actor-hour
    unless the scenario is the burst.

Evaluation range
    Behavioural rules need history: ingest ``evaluation_range(start_day, days)``, i.e.
    from 30 days before ``start_day`` (the dormant scenario's earlier activity lies
    there too).

The package, one module per family:

* ``planted``      :class:`Planted` and the rule facts the truth is computed from
* ``cast``         who acts (background admins, targets) and the record makers
* ``single_event`` section A: one record a single-event rule must report
* ``behavioural``  section B: sequences, bursts, behaviour against history, the gap
* ``month``        :func:`plant_month`, :data:`PLANTERS`, :func:`evaluation_range`
* ``near_misses``  just under a threshold (:data:`NEAR_MISSES`)
* ``oracle``       :func:`annotate` (``also``) and :func:`expected_findings`
"""
from .planted import DETECTION_IDS, SECURITY_REMOVAL, SENSITIVE_SUMMARIES, SUMMARY_RULES, Planted
from .oracle import annotate, expected_findings
from .cast import actors
from .single_event import (plant_global_permission_added, plant_new_site_admin,
                           plant_new_user_created, plant_password_changed_from_many_ips,
                           plant_permission_scheme_changed, plant_project_roles_changed,
                           plant_site_admin_password_changed, plant_user_removed_from_group,
                           plant_user_removed_from_project, plant_workflow_scheme_copied)
from .behavioural import (NEW_IP, plant_audit_gap, plant_config_change_burst,
                          plant_dormant_actor_returns, plant_mass_deletion, plant_mass_user_removal,
                          plant_new_ip_for_actor, plant_off_hours_admin_activity,
                          plant_privilege_escalation_chain, plant_rare_action_for_actor,
                          plant_security_scheme_removed)
from .month import DEFAULT_TIMES, PLANTERS, evaluation_range, plant_month
from .near_misses import (NEAR_MISSES, near_miss_config_change_burst,
                          near_miss_dormant_actor_returns, near_miss_mass_deletion,
                          near_miss_mass_user_removal, near_miss_mass_user_removal_spread,
                          near_miss_new_ip_for_actor, near_miss_new_site_admin,
                          near_miss_off_hours_admin_activity,
                          near_miss_password_changed_from_many_ips,
                          near_miss_privilege_escalation_chain,
                          near_miss_site_admin_password_changed)

__all__ = [
    "DETECTION_IDS", "SENSITIVE_SUMMARIES", "SUMMARY_RULES", "SECURITY_REMOVAL", "Planted",
    "annotate", "expected_findings", "actors", "plant_global_permission_added",
    "plant_new_site_admin", "plant_site_admin_password_changed", "plant_new_user_created",
    "plant_permission_scheme_changed", "plant_project_roles_changed",
    "plant_password_changed_from_many_ips", "plant_user_removed_from_group",
    "plant_user_removed_from_project", "plant_workflow_scheme_copied",
    "plant_privilege_escalation_chain", "plant_mass_user_removal", "plant_mass_deletion",
    "plant_config_change_burst", "NEW_IP", "plant_new_ip_for_actor",
    "plant_off_hours_admin_activity", "plant_rare_action_for_actor", "plant_dormant_actor_returns",
    "plant_security_scheme_removed", "plant_audit_gap", "PLANTERS", "DEFAULT_TIMES",
    "evaluation_range", "plant_month", "near_miss_mass_user_removal",
    "near_miss_mass_user_removal_spread", "near_miss_mass_deletion",
    "near_miss_config_change_burst", "near_miss_privilege_escalation_chain",
    "near_miss_password_changed_from_many_ips", "near_miss_site_admin_password_changed",
    "near_miss_dormant_actor_returns", "near_miss_new_site_admin", "near_miss_new_ip_for_actor",
    "near_miss_off_hours_admin_activity", "NEAR_MISSES",
]
