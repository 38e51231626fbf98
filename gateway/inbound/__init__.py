"""What a client sends, as it arrives: who is calling (client_auth), which endpoint, the body within its size
limit and its fields; and the bounds every connection is held to before any of that (connection_guard: header
size and read timeouts; in_flight: requests at once; body_budget: body bytes held at once)."""
