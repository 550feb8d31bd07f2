"""Use cases: the only layer that joins the domain, storage and the clock. Returns plain data."""
