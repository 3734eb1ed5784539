from . import results_urls

app_name = "channels"

urlpatterns: list = []

# A channel's results: CSV, conversions, remarketing (channels/results_urls.py).
urlpatterns += results_urls.urlpatterns
