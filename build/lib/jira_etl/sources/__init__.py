"""Everything that talks to Jira: the HTTP client, its typed errors, the time-cursor walk
of a window and the parallel slices of a range."""
