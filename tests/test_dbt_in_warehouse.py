"""warehouse/dbt_in_warehouse.py: dbt started in the warehouse, by a warm process when `hzcarbon
run` started one (warm_dbt) or in the process itself otherwise. Either way the caller gets dbt's
output on its own streams and dbt's exit code."""

import os
import subprocess
import sys

from warehouse.dbt_in_warehouse import WARM_SOCKET, warm_dbt
from warehouse.dbt_plan import DBT_IN_WAREHOUSE


def _dbt(args: list[str], workdir) -> subprocess.CompletedProcess:
    env = {**os.environ, "HZCARBON_DBT_WORKDIR": str(workdir)}
    return subprocess.run([sys.executable, str(DBT_IN_WAREHOUSE), *args], env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_warm_process_runs_the_command_with_the_callers_streams_and_exit_code(tmp_path):
    cold_ok, cold_bad = _dbt(["--version"], tmp_path), _dbt(["no-such-command"], tmp_path)
    assert (cold_ok.returncode, cold_bad.returncode) == (0, 2)  # click's exit code for bad usage
    for args, cold in ((["--version"], cold_ok), (["no-such-command"], cold_bad)):
        with warm_dbt() as warm:
            assert WARM_SOCKET in os.environ
            warm_run = _dbt(args, tmp_path)
            # the warm process ran it (and ended with its code), the caller got what dbt wrote
            assert warm.wait(timeout=60) == cold.returncode == warm_run.returncode
        assert (warm_run.stdout, warm_run.stderr) == (cold.stdout, cold.stderr)
    assert WARM_SOCKET not in os.environ


def test_without_the_warm_process_dbt_runs_in_the_caller(tmp_path):
    """The warm process gone (killed, never started): the command runs cold, as before."""
    with warm_dbt() as warm:
        warm.kill()
        warm.wait()
        done = _dbt(["--version"], tmp_path)
    assert done.returncode == 0 and "Core:" in done.stdout
