"""What the gateway writes down about the requests it served (one routing-log line each), with secrets
kept out of everything it writes."""
