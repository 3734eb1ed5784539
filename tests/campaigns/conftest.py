import pytest

from tests.factories import CampaignFactory, ChannelFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads and error reports go to a throwaway folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def archived_campaign(manager):
    """A campaign named "Old" whose one channel ran and stopped, then archived."""
    campaign = CampaignFactory(name="Old")
    channel = ChannelFactory(campaign=campaign)
    channel.start(by=manager)
    channel.stop(by=manager)
    campaign.refresh_from_db()
    campaign.archive(by=manager)
    return campaign
