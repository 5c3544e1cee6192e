"""``comparator gate``: the rollout gate's verdict from Prometheus, workers or a summary."""
