"""Access and governance: committees, roles, data agreements, approved users, usage log.

Row-level scope itself is enforced in one place, `unionhall.warehouse.person_base`, which
asks this package which paths of visibility a user has (`scope_paths_for`).
"""
