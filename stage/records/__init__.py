"""The domain: records, participants, lineage, moderation, and the SQLite store. No Flask here."""
