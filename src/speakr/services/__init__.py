"""Services: the rules and queries that routes, the CLI and jobs share."""
