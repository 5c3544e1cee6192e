"""What operators see of a running worker: /metrics, /healthz, /readyz and JSON logs."""
