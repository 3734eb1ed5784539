"""The engine: placeholder replaced by the dispatcher."""


def wake(*, channel_id: int) -> None:
    return None
