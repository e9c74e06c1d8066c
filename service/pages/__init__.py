"""The reading pages: server-rendered HTML (Jinja2 templates, no JavaScript) of the same models the
API returns."""
