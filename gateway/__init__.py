"""OpenAI-compatible gateway in front of Azure OpenAI deployments.

The folders are the request's steps, in the order `pipeline.py` calls them:

    app.py  services.py  pipeline.py  cli.py  errors.py      wiring, the request flow, the CLI, every error
    reload.py  reload_gate.py                           a new config taken while serving (SIGHUP)
    │
    ├── inbound/     authenticate the client key, read and check the body (endpoints.py: what is served);
    │                the bounds on every connection (header size, read timeouts, requests in flight, body bytes)
    ├── routing/     inspect the request (features, tokens, task class), walk the policy tree to a model;
    │                models.yaml is the model-facts table
    ├── dispatch/    pick a deployment (balance, health), admit, call Azure, retry elsewhere or fall back,
    │                adapting the request for a fallback model
    │   ├── limits/  TPM/RPM budgets and USD spend caps, in memory or shared through Redis
    │   ├── health/  circuit breakers and cool-downs per deployment
    │   └── upstream/  the deployments, the request Azure receives, the HTTP call, reading its answer
    ├── reply/       relay Azure's answer (whole or streamed), read its usage, finish: settle, then log
    ├── responses/   the Responses API's state: which resource holds each response, and its follow-ups
    ├── observe/     the routing log (one line per request), its live feed and 15-minute stats, Prometheus
    │                metrics, OpenTelemetry traces (optional), secrets kept out of every log line, and
    │                `gateway logs` (reading the log in a terminal)
    │
    ├── realtime/    /v1/realtime over WebSocket: the same steps, for a session
    ├── admin/       endpoints about the gateway: /v1/models, explain, deployment status, probes, and for
    │                operators (admin keys) the live page /gateway/ui, its feed and stats, and /metrics
    ├── pricing/     what a request costs at Azure's list prices (the model table's prices)
    ├── azure_manage/  `gateway azure import|check` and the quota sync: Azure's management API
    ├── settings/    the YAML config, validated
    └── simulator/   a local stand-in for Azure OpenAI, for `make run` and the tests

Where a chat request gets its deployment: `pipeline.handle` routes it (`routing.router.Router.route` →
`routing.decide`) to a model, then `dispatch.dispatcher.Dispatcher.dispatch` orders that model's
deployments (`dispatch.balance`, skipping those `health` holds open) and admits the first with room
(`limits.admission`). A new endpoint is one `Endpoint` entry in `inbound/endpoints.py` (its path, body kind,
required fields), which `app.py` mounts; its Azure path is in `upstream/azure_urls.py`, and its task (for
routing) in `routing/inspect_request.py`.
"""

__version__ = "0.1.0"
