"""Exit codes of `hzcarbon run` (docs/outputs.md), for the CLI and the in-process runner."""

EXIT_PUBLISHED = 0  # a release was built (a candidate, or published when auto-approved), or nothing was new
EXIT_ERROR = 1  # anything else, including a warehouse held by another run
EXIT_USAGE = 2  # bad usage or unreadable configuration
EXIT_BLOCKED = 3  # a quality gate failed: nothing new published, `latest` unchanged
