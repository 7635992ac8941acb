"""Deterministic synthetic Jira Cloud site: audit records and a user directory.

Records follow the exact shape of ``GET /rest/api/3/auditing/record`` (see
``/work/shared/jira-audit-api.md``). The package, in the order a record is made:

* ``instants``  unix ms, record ids and ``created`` strings (the id rule is there)
* ``catalogue`` groups, projects, workflows, schemes, fields, statuses
* ``directory`` the users: roles, IPs, working hours
* ``templates`` the background's record templates; rendering a stored row
* ``habits``    the realistic background day (who does what when; clean for detections)
* ``bulk``      the benchmark generator (an exact ``daily_volume``, no such guarantee)
* ``day_store`` a UTC day held as sorted numpy columns
* ``site``      :class:`SiteData`: the site, its windows and paging, injection

Everything other code imported from the former ``data`` module is re-exported here.
"""
from .catalogue import (ADMIN_GROUPS, CUSTOM_FIELDS, DIRECTORY_PARENT, FIELD_SCHEMES,
                        NORMAL_GROUPS, NOTIFICATION_SCHEMES, PERMISSION_SCHEMES, PROJECTS,
                        SECURITY_SCHEMES, STATUSES, WORKFLOW_SCHEMES, WORKFLOWS)
from .directory import ADMINS, FIRST_NAMES, LAST_NAMES, TIMEZONES, User, build_users
from .habits import (CONFIG_TEMPLATES, DELETION_TEMPLATES, PEOPLE_TEMPLATES,
                     SYSTEM_DAYTIME_TEMPLATES, SYSTEM_TEMPLATES, T_ADDED_TO_GROUP,
                     USER_TEMPLATES)
from .instants import (DAY_MS, EPOCH, ID_MULT, MS_2000, UTC, day_start_ms, from_ms, id_for,
                       ms_day, parse_created, parse_offset, render_created, to_ms_ceil,
                       to_ms_floor)
from .site import CACHE_PER_DAY, SiteData
from .templates import DESCRIPTIONS, TEMPLATES, user_item

__all__ = [
    "ADMIN_GROUPS", "CUSTOM_FIELDS", "DIRECTORY_PARENT", "FIELD_SCHEMES", "NORMAL_GROUPS",
    "NOTIFICATION_SCHEMES", "PERMISSION_SCHEMES", "PROJECTS", "SECURITY_SCHEMES", "STATUSES",
    "WORKFLOW_SCHEMES", "WORKFLOWS", "ADMINS", "FIRST_NAMES", "LAST_NAMES", "TIMEZONES",
    "User", "build_users", "CONFIG_TEMPLATES", "DELETION_TEMPLATES", "PEOPLE_TEMPLATES",
    "SYSTEM_DAYTIME_TEMPLATES", "SYSTEM_TEMPLATES", "T_ADDED_TO_GROUP", "USER_TEMPLATES",
    "DAY_MS", "EPOCH", "ID_MULT", "MS_2000", "UTC", "day_start_ms", "from_ms", "id_for",
    "ms_day", "parse_created", "parse_offset", "render_created", "to_ms_ceil", "to_ms_floor",
    "CACHE_PER_DAY", "SiteData", "DESCRIPTIONS", "TEMPLATES", "user_item",
]
