"""The sales cockpit: a web app on the published warehouse (a surface, like cli.py)."""
