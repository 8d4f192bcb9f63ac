"""Analytics of a program over a range of days in its time zone: queries (queries.py),
charts and their CSV (charts.py), the page and downloads (views.py), who may see them
(access.py: the one hook the dashboard replaces); texts are in app/translations."""
