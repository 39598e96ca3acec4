"""The post-show archive: export, import and the report, all run outside the server's event loop."""
