"""A month of every scenario on distinct days over the clean background
(:func:`plant_month`), the planter of each detection, and the range to ingest."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Callable

from ..data import SiteData
from .behavioural import (plant_audit_gap, plant_config_change_burst, plant_dormant_actor_returns,
                          plant_mass_deletion, plant_mass_user_removal, plant_new_ip_for_actor,
                          plant_off_hours_admin_activity, plant_privilege_escalation_chain,
                          plant_rare_action_for_actor, plant_security_scheme_removed)
from .cast import _dt
from .oracle import annotate
from .planted import DETECTION_IDS, Planted
from .single_event import (plant_global_permission_added, plant_new_site_admin,
                           plant_new_user_created, plant_password_changed_from_many_ips,
                           plant_permission_scheme_changed, plant_project_roles_changed,
                           plant_site_admin_password_changed, plant_user_removed_from_group,
                           plant_user_removed_from_project, plant_workflow_scheme_copied)


PLANTERS: dict[str, Callable[[SiteData, datetime], Planted]] = {
    "global_permission_added": plant_global_permission_added,
    "new_site_admin": plant_new_site_admin,
    "site_admin_password_changed": plant_site_admin_password_changed,
    "new_user_created": plant_new_user_created,
    "permission_scheme_changed": plant_permission_scheme_changed,
    "project_roles_changed": plant_project_roles_changed,
    "password_changed_from_many_ips": plant_password_changed_from_many_ips,
    "user_removed_from_group": plant_user_removed_from_group,
    "user_removed_from_project": plant_user_removed_from_project,
    "workflow_scheme_copied": plant_workflow_scheme_copied,
    "privilege_escalation_chain": plant_privilege_escalation_chain,
    "mass_user_removal": plant_mass_user_removal,
    "mass_deletion": plant_mass_deletion,
    "config_change_burst": plant_config_change_burst,
    "new_ip_for_actor": plant_new_ip_for_actor,
    "off_hours_admin_activity": plant_off_hours_admin_activity,
    "rare_action_for_actor": plant_rare_action_for_actor,
    "dormant_actor_returns": plant_dormant_actor_returns,
    "security_scheme_removed": plant_security_scheme_removed,
    "audit_gap": plant_audit_gap,
}

# Time of day (UTC) each scenario is planted at by plant_month: inside the actor's
# usual hours, except the off-hours one.
DEFAULT_TIMES = {
    "global_permission_added": (10, 17), "new_site_admin": (14, 5),
    "site_admin_password_changed": (11, 42), "new_user_created": (9, 31),
    "permission_scheme_changed": (13, 8), "project_roles_changed": (11, 20),
    "password_changed_from_many_ips": (10, 3), "user_removed_from_group": (15, 26),
    "user_removed_from_project": (12, 48), "workflow_scheme_copied": (14, 12),
    "privilege_escalation_chain": (9, 55), "mass_user_removal": (13, 30),
    "mass_deletion": (10, 40), "config_change_burst": (11, 5),
    "new_ip_for_actor": (15, 15), "off_hours_admin_activity": (2, 30),
    "rare_action_for_actor": (12, 2), "dormant_actor_returns": (11, 11),
    "security_scheme_removed": (13, 44), "audit_gap": (0, 0),
}


def evaluation_range(start_day: date, days: int = 30) -> tuple[date, date]:
    """(first, last) UTC day to ingest to evaluate a planted month (30 days of history
    before it, for the behavioural rules)."""
    return start_day - timedelta(days=30), start_day + timedelta(days=days - 1)


def plant_month(data: SiteData, start_day: date, days: int = 30) -> list[Planted]:
    """Plant every scenario on distinct days in [start_day, start_day + days), weekdays
    first (admins work weekdays), the dormant return in the second half, the audit gap
    on a weekday late in the month whose day and the day after hold no other scenario.
    Returns the primary Planted objects, annotated (``also``) in chronological order."""
    all_days = [start_day + timedelta(days=i) for i in range(days)]
    weekdays = [d for d in all_days if d.weekday() < 5]
    others = [d for d in all_days if d.weekday() >= 5]
    order = list(DETECTION_IDS)
    if len(all_days) < len(order) + 2:
        raise ValueError(f"need at least {len(order) + 2} days")
    pool = weekdays + others
    assignment: dict[str, date] = {}
    gap = next(d for d in reversed(weekdays) if d - timedelta(days=3) >= start_day)
    assignment["audit_gap"] = gap
    used = {gap, gap + timedelta(days=1)}
    dormant = next(d for d in pool if d not in used and (d - start_day).days >= 10)
    assignment["dormant_actor_returns"] = dormant
    used.add(dormant)
    for det in order:
        if det in assignment:
            continue
        d = next(d for d in pool if d not in used and (d - start_day).days >= (
            3 if det == "site_admin_password_changed" else 0))
        assignment[det] = d
        used.add(d)
    # silence first so no setup record lands on the gap day
    planted = []
    by_time = sorted(order, key=lambda k: (assignment[k], DEFAULT_TIMES[k]))
    gap_p = plant_audit_gap(data, assignment["audit_gap"])
    for det in by_time:
        if det == "audit_gap":
            planted.append(gap_p)
            continue
        h, m = DEFAULT_TIMES[det]
        p = PLANTERS[det](data, _dt(assignment[det], h, m))
        planted.append(p)
    annotate(data, planted)
    return planted
