"""``python -m mlyard``: the command-line interface.

``job run NAME`` and ``job standby`` (what every job process runs) skip the rest of the CLI
(:mod:`mlyard.cli.job_process`), so a job starts with only the runner's imports."""

import sys

from mlyard.cli.job_process import fast_path

if fast_path(sys.argv[1:]):
    from mlyard.cli.job_process import main as job_main

    sys.exit(job_main(sys.argv[1:]))
else:
    from mlyard.cli.main import main

    main()
