"""Delivery channels: one module per channel type, a small base class, an explicit registry.

Channels know nothing of campaigns, the database or the CLI: they turn a `Message`
into a `DeliveryResult`.
"""
