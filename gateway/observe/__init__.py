"""What the gateway writes down about the requests it served: one routing-log line per request."""
