"""Who acts in the scenarios and how a planted record is written: the cast of
background admins and targets, and small record makers shared by every scenario."""
from __future__ import annotations

from datetime import date, datetime, time

from ..data import DIRECTORY_PARENT, PROJECTS, UTC, SiteData, User, user_item
from .oracle import annotate
from .planted import Planted


def _dt(d: date, hour: int, minute: int = 0, second: int = 0, ms: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute, second, ms * 1000), tzinfo=UTC)


def _by_name(data: SiteData, name: str) -> User:
    for u in data.user_objects():
        if u.displayName == name:
            return u
    raise KeyError(name)


def actors(data: SiteData) -> dict[str, User]:
    """The cast: background admins by role in the scenarios, plus target users."""
    a = {u.displayName: u for u in data.admins()}
    people = [u for u in data.admins() if u.people_admin]
    config = [u for u in data.admins() if not u.people_admin]
    regular = data.regular_users()
    return {"people1": people[0], "people2": people[1], "config1": config[0],
            "config2": config[1], "config3": config[2],
            "dormant": _by_name(data, "Farah Haddad"),
            "targets": regular, **a}


def _add(data: SiteData, when: datetime, actor: User | None, summary: str, category: str,
         obj: dict, changed=None, assoc=None, ip: str | None = None, **extra) -> dict:
    fields = dict(summary=summary, category=category, objectItem=obj,
                  changedValues=changed or [], associatedItems=assoc or [], **extra)
    if ip is not None:
        fields["remoteAddress"] = ip
    return data.add_record(when, actor=actor, **fields)


def _group(name: str) -> dict:
    return {"name": name, "typeName": "GROUP", "parentId": DIRECTORY_PARENT[0],
            "parentName": DIRECTORY_PARENT[1]}


def _scheme(name: str, sid: str) -> dict:
    return {"id": sid, "name": name, "typeName": "SCHEME"}


def _project(i: int) -> dict:
    pid, key, name = PROJECTS[i % len(PROJECTS)]
    return {"id": pid, "name": name, "typeName": "PROJECT"}


def _new_user(data: SiteData, name: str, ip: str | None = None) -> User:
    return data.add_user(name, ip=ip, role="planted")


def _created(data: SiteData, creator: User, when: datetime, new: User) -> dict:
    return _add(data, when, creator, "User created", "user management", user_item(new),
                [{"fieldName": "Full name", "changedTo": new.displayName},
                 {"fieldName": "Email", "changedTo": new.emailAddress or ""},
                 {"fieldName": "Active", "changedTo": "true"}])


def _added_to_group(data, when, actor, user: User, group: str) -> dict:
    return _add(data, when, actor, "User added to group", "group management", _group(group),
                assoc=[user_item(user)])


def _finish(data: SiteData, p: Planted) -> Planted:
    annotate(data, [p])
    return p
