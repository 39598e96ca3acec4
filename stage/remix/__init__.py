"""Remixes made during the night: recipes (what to make from which records) and their rendering."""
