"""Users, roles, memberships, API tokens, web sessions and the tenancy filter."""
