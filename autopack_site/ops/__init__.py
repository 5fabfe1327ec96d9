"""The service's own operations, apart from any app: health checks and their
endpoints, and the smoke check of a deployed instance."""
