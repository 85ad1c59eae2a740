"""What every function shares: the runs table, attempts, clients and config, the request log."""
