"""Realtime sessions at /v1/realtime: a WebSocket proxy between OpenAI clients and Azure.

handshake.py     who is calling, which model and deployment, budgets, the call to Azure
subprotocols.py  browsers' key and protocol choice in Sec-WebSocket-Protocol
slots.py         open sessions per key, for realtime.max_sessions_per_key
upstream.py      Azure's realtime URLs and the websockets client connection
denial.py        refusing a handshake with an HTTP status and an OpenAI error body
relay.py         the two pumps, and ending one side as the other ended
metering.py      token reservations for response.create, settled by response.done
session_log.py   the session's routing-log line
session.py       the order of it all
"""
