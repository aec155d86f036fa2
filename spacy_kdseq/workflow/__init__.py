"""The project workflow's units of work: atomic training runs, their records, backends."""
