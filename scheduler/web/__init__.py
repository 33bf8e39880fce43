"""The public pages (`herald serve`). This branch (i19-admin) adds only the `/i/` and `/s/`
blueprints (`scheduler.web.interest.bp`, `scheduler.web.submission.bp`); the app factory
comes from branch i15-web, whose `BLUEPRINTS` lists them at merge."""
