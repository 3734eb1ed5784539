"""Provider callbacks (SPEC 4a): one module per provider, each checking the provider's own
signature or shared secret against HERALD_PUBLIC_URL, then calling `channels.events.ingest`.

They need no login and no CSRF token (a provider cannot have either); a failed check is a
403 that changes nothing.
"""
