"""The Responses API's state: a response lives on the Azure resource that made it, so every follow-up (a
`previous_response_id`, retrieve, delete, cancel, input items) must go back there, from any replica.

    homes.py       response id -> the deployment that made it, in Redis (shared) or this process's memory
    response_ids.py the id of the response an answer carries, whole or streamed
    follow_up.py   retrieve, delete, cancel and input items, relayed to the response's home
"""
