"""Every side effect of Greenline, each a Temporal activity (see ``activities.names``)."""
