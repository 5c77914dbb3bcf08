"""Jobs: records and their lifecycle (store, lifecycle), dispatch to workers, webhooks."""
