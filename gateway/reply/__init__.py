"""The response side: Azure's answer relayed to the client (whole or streamed), the usage read from it,
and the headers every response carries."""
