"""Sweeps (background jobs). Each feature registers its own with @jobs.sweep."""
