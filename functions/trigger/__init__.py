"""The trigger: starts, reports on, lists and stops runs."""
