"""Long work as jobs: progress, log, clear failure, and no partial state on failure."""
