"""Example datasets, apart from the platform: the Women's E-Commerce Clothing Reviews that the
course uses (:mod:`mlyard.datasets.reviews`: where the file is, the course's transform,
balancing and seeded splits). The demo, the benches, the tests and ``mlyard tokenize`` (which
knows the raw reviews layout) read it; nothing in ``core/`` does, and the workspace's
settings hold no demo path."""
