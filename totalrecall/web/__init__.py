"""The local web page (`totalrecall web`, [web] in the daemon): Starlette app, pages, jobs, server.

Other modules contribute routes with `totalrecall.web.app.register_routes` (see that module's docstring).
"""
