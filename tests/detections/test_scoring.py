"""The evaluation scorer itself."""

import datetime as dt

from jira_etl.detections.evaluation import Planted, failures, score, table

D = dt.date(2026, 3, 10)


def f(det, ids, day=D, msg="m"):
    return {"detection_id": det, "record_ids": ids, "day": day, "message": msg}


def test_score_counts_tp_fp_misses_and_incidentals():
    planted = [Planted("chain", frozenset({"privilege_escalation_chain", "new_site_admin"}), frozenset({1, 2})),
               Planted("gap", frozenset({"audit_gap"}), frozenset(), frozenset({D})),
               Planted("wipe", frozenset({"mass_deletion"}), frozenset({10, 11}))]
    found = [f("privilege_escalation_chain", [1, 2]), f("new_site_admin", [2]), f("new_site_admin", [2, 3]),
             f("rare_action_for_actor", [2]), f("audit_gap", []), f("new_ip_for_actor", [99])]
    s = score(found, planted, ["mass_deletion", "new_user_created"])
    assert (s["privilege_escalation_chain"].tp, s["new_site_admin"].tp, s["new_site_admin"].duplicates) == (1, 1, 1)
    assert s["audit_gap"].tp == 1 and s["mass_deletion"].missed == 1
    assert s["rare_action_for_actor"].incidental == 1 and s["rare_action_for_actor"].fp == 0
    assert s["new_ip_for_actor"].fp == 1
    assert s["new_user_created"].planted == 0
    assert sorted(failures(s)) == ["mass_deletion: missed scenario wipe", "new_ip_for_actor: false positive 2026-03-10: m"]
    assert "| mass_deletion" in table(s)
