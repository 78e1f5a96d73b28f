"""Where results come from: gatekit's own files, per-example tables and the harness adapters, read and
aggregated into `Results`."""
