"""What the gateway writes down about the requests it served (one routing-log line each, kept live for the
feed and the 15-minute stats; metrics; traces when configured), with secrets kept out of everything it
writes."""
