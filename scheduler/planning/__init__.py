"""What the planner writes, by kind of campaign: course emails, digests, course posts,
catalogues and centre invitations (`catalogue`).

`scheduler.planner.Planner` runs a pass and hands each campaign to its module here; the
rows themselves are written by the outbox (`scheduler.outbox.insert_planned`, `enqueue`).
"""
