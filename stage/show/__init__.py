"""Show files (models and loader) and the cue engine. Imports nothing from Flask or Socket.IO."""
