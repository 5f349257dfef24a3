"""Release binaries: the catalog of what khatui installs from upstream, and their published sums."""
