"""Show files (models and loader) and the cue runner. Imports nothing from Flask or Socket.IO."""
