"""`make bench`: the performance figures of SPEC section 8, measured as ratios in one run.

`run` starts one process per database and gathers the rows; the figures are measured by
`engine` (dispatch, voice concurrency, the controls), `pages` (the live partial, the
campaign list), `analytics` (the analytics partial) and `importing` (the CSV import), on
data from `data`, with `timing`, `processes` and `report` shared between them. Nothing here
is imported by the apps.
"""
