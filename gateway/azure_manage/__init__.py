"""Azure as it is: an account's deployments and quota read from Azure's management API (ARM).

client.py       the management API over httpx: token, paging by nextLink, 429 waits, errors that say what to fix
deployments.py  one account's deployment documents -> our `deployments:` entries (model, version, tpm, rpm)
config_text.py  the `resources:` and `deployments:` blocks as YAML text, written into a config file in place
drift.py        a config's deployments against Azure's: what is missing, differs, or has other quota
commands.py     `gateway azure import` and `gateway azure check`
"""
