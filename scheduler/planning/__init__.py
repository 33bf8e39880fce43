"""What the planner writes, by kind of campaign: course emails, digests, course posts.

`scheduler.planner.Planner` runs a pass and hands each campaign to its module here; the
rows themselves are written by the outbox (`scheduler.outbox.insert_planned`, `enqueue`).
"""
