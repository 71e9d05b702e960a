"""tracker: a tech-news RSS aggregator and topic tracker.

Feeds become entries, entries become stories, stories are followed under topics, and every
day a digest is rendered as a static site and an email. See README.md.
"""

__version__ = "0.1.0"
