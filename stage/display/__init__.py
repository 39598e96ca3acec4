"""Displays: what each projector shows (its scene), persisted so a reloaded screen comes back right."""
