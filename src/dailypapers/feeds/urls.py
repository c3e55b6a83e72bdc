from django.urls import re_path

from .feeds import (
    AuthorFeed,
    CollectionFeed,
    DailyFeed,
    FollowFeed,
    OrganizationFeed,
    SearchFeed,
    TrendingFeed,
    feed_view,
)

app_name = "feeds"

FMT = r"\.(?P<fmt>rss|atom)$"

urlpatterns = [
    re_path(r"^daily" + FMT, feed_view(DailyFeed), name="daily"),
    re_path(r"^date/(?P<value>[^/]+?)" + FMT, feed_view(DailyFeed), name="date"),
    re_path(r"^trending" + FMT, feed_view(TrendingFeed), name="trending"),
    re_path(r"^search" + FMT, feed_view(SearchFeed), name="search"),
    re_path(r"^organizations/(?P<slug>[-a-zA-Z0-9_]+)" + FMT, feed_view(OrganizationFeed), name="organization"),
    re_path(r"^authors/(?P<pk>[0-9]+)" + FMT, feed_view(AuthorFeed), name="author"),
    re_path(r"^collections/(?P<pk>[0-9]{1,18})" + FMT, feed_view(CollectionFeed), name="collection"),
    # A follow's private feed: the token is the user's FeedToken (follows.models).
    re_path(r"^follows/(?P<token>[-_a-zA-Z0-9]{1,64})/(?P<pk>[0-9]{1,18})" + FMT, feed_view(FollowFeed),
            name="follow"),
]
