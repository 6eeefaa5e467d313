"""Controllers: connect a page's widgets to engine work running in background tasks."""
