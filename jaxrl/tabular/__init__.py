"""Planning and learning with tables."""
