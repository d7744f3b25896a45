"""The strategic performance group scorecard: a web application over the current publication."""
