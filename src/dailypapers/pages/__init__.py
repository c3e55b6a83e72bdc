"""The top layer: pages that compose several apps (the lists, the paper page with similar papers and
comments, author and organization pages). Templates stay under papers/; URL names stay papers:*."""
