"""The supervisor: records task state changes, re-runs, reconciles, notifies."""
