"""Near misses: activity planted just under a threshold (``Planted.negative`` is True:
the rule must stay silent)."""
from __future__ import annotations

from datetime import date, datetime

from ..data import SiteData
from .behavioural import (plant_config_change_burst, plant_dormant_actor_returns,
                          plant_mass_deletion, plant_mass_user_removal, plant_new_ip_for_actor,
                          plant_off_hours_admin_activity, plant_privilege_escalation_chain)
from .cast import _dt, actors
from .planted import Planted
from .single_event import (plant_new_site_admin, plant_password_changed_from_many_ips,
                           plant_site_admin_password_changed)


def near_miss_mass_user_removal(data: SiteData, at: datetime, n: int = 9) -> Planted:
    """``n`` (default 9 < 10) removals/deletions within 15 minutes."""
    p = plant_mass_user_removal(data, at, n_removed=n - n // 3, n_deleted=n // 3, span_min=14)
    p.negative = True
    return p


def near_miss_mass_user_removal_spread(data: SiteData, at: datetime) -> Planted:
    """12 removals, but spread over 2 hours (never 10 within 15 minutes)."""
    p = plant_mass_user_removal(data, at, n_removed=8, n_deleted=4, span_min=120)
    p.negative = True
    return p


def near_miss_mass_deletion(data: SiteData, at: datetime) -> Planted:
    """4 deletions (< 5) within an hour."""
    p = plant_mass_deletion(data, at, n=4, span_min=30)
    p.negative = True
    return p


def near_miss_config_change_burst(data: SiteData, at: datetime) -> Planted:
    """10 planted changes in 45 minutes: with ~5/h background the hour stays <= 20."""
    p = plant_config_change_burst(data, at, n=10, span_min=45)
    p.negative = True
    return p


def near_miss_privilege_escalation_chain(data: SiteData, at: datetime) -> Planted:
    """Created, then added to site-admins 75 minutes later (> 60): only the single-event
    rules fire."""
    p = plant_privilege_escalation_chain(data, at, gap_min=75)
    p.negative = True
    return p


def near_miss_password_changed_from_many_ips(data: SiteData, at: datetime) -> Planted:
    """Two password changes from two IPs 45 minutes apart (> 30)."""
    p = plant_password_changed_from_many_ips(data, at, n_ips=2, span_min=45)
    p.negative = True
    return p


def near_miss_site_admin_password_changed(data: SiteData, at: datetime) -> Planted:
    """Password changed 16 days after the admin-group add (> 14)."""
    p = plant_site_admin_password_changed(data, at, added_days_before=16)
    p.negative = True
    return p


def near_miss_dormant_actor_returns(data: SiteData, at: datetime) -> Planted:
    """Returns after 28 days (< 30)."""
    p = plant_dormant_actor_returns(data, at, silent_days=28)
    p.negative = True
    return p


def near_miss_new_site_admin(data: SiteData, at: datetime) -> Planted:
    """Added to a group whose name merely contains 'admin' (not in the admin list)."""
    p = plant_new_site_admin(data, at, group="site-admins-readonly")
    p.negative = True
    p.detection_id = "new_site_admin"
    return p


def near_miss_new_ip_for_actor(data: SiteData, at: datetime) -> Planted:
    """Same changes as the new-IP scenario but from the actor's usual IP."""
    a = actors(data)["config2"]
    p = plant_new_ip_for_actor(data, at, ip=a.ip)
    p.negative = True
    return p


def near_miss_off_hours_admin_activity(data: SiteData, d: date) -> Planted:
    """The off-hours scenario's changes at 16:30 UTC, inside the actor's hours."""
    p = plant_off_hours_admin_activity(data, _dt(d, 16, 30))
    p.negative = True
    return p


NEAR_MISSES = {
    "mass_user_removal": near_miss_mass_user_removal,
    "mass_deletion": near_miss_mass_deletion,
    "config_change_burst": near_miss_config_change_burst,
    "privilege_escalation_chain": near_miss_privilege_escalation_chain,
    "password_changed_from_many_ips": near_miss_password_changed_from_many_ips,
    "site_admin_password_changed": near_miss_site_admin_password_changed,
    "dormant_actor_returns": near_miss_dormant_actor_returns,
    "new_site_admin": near_miss_new_site_admin,
    "new_ip_for_actor": near_miss_new_ip_for_actor,
}
