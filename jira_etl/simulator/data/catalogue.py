"""What the simulated site is made of: groups, projects, workflows, schemes, fields and
statuses that records name (the background's and the planted scenarios' alike)."""
from __future__ import annotations

ADMIN_GROUPS = ("site-admins", "jira-administrators", "administrators", "org-admins")
NORMAL_GROUPS = ("jira-software-users", "developers", "qa-team", "support-agents",
                 "design", "data-platform", "contractors", "confluence-users")
DIRECTORY_PARENT = ("10000", "com.atlassian.crowd.directory.IdentityPlatformRemoteDirectory")
PROJECTS = tuple((str(10000 + i), key, name) for i, (key, name) in enumerate([
    ("ABC", "Alpha Billing Core"), ("WEB", "Website"), ("MOB", "Mobile App"),
    ("OPS", "Operations"), ("SEC", "Security Engineering"), ("DATA", "Data Platform"),
    ("HR", "People Team"), ("SUP", "Customer Support"), ("INF", "Infrastructure"),
    ("MKT", "Marketing"), ("PAY", "Payments"), ("QA", "Quality Assurance")]))
WORKFLOWS = ("Software Simplified Workflow", "Bug Workflow", "Support Workflow",
             "Change Management", "Incident Workflow", "Release Workflow", "Task Workflow")
WORKFLOW_SCHEMES = ("Default Workflow Scheme", "Software Workflow Scheme",
                    "Support Workflow Scheme", "Ops Workflow Scheme", "Data Workflow Scheme")
FIELD_SCHEMES = ("Default Field Configuration Scheme", "Software Field Scheme",
                 "Support Field Scheme", "Ops Field Scheme")
PERMISSION_SCHEMES = ("Default Permission Scheme", "Software Permission Scheme",
                      "Restricted Permission Scheme", "Contractor Permission Scheme")
SECURITY_SCHEMES = ("Default Issue Security Scheme", "Confidential Issues", "HR Restricted")
NOTIFICATION_SCHEMES = ("Default Notification Scheme", "Quiet Notifications", "Ops Paging")
CUSTOM_FIELDS = ("Story Points", "Team", "Customer Impact", "Root Cause", "Sprint Goal",
                 "Due Quarter", "Severity", "Environment", "Cost Center", "Region")
STATUSES = ("To Do", "In Progress", "In Review", "Blocked", "Done", "Won't Do", "Waiting",
            "Triaged", "Deployed")
