"""The suites do not depend on the user's shell: scripts/test sources
scripts/lib/test-env.sh, which removes every JETL_*, PG* and AMQP* variable
but the ones choosing the private services. Here a shell polluted the way a
user of the command has it (JETL_JIRA_TOKEN, JETL_DB, PGHOST, ...) goes
through that file, then runs a test that such a shell used to break."""
import os
import subprocess
import unittest

from harness import BUILD, ROOT, admin_dsn

LIB = os.path.join(ROOT, "scripts", "lib", "test-env.sh")
POLLUTION = {
    "JETL_JIRA_TOKEN": "users-own-token", "JETL_JIRA_URL": "https://example.atlassian.net",
    "JETL_JIRA_USER": "me@example.com", "JETL_DB": "host=db.example.com dbname=prod",
    "JETL_QUEUE": "amqp://prod.example.com/", "JETL_TENANT": "7", "JETL_INTEGRATION": "3",
    "JETL_CONFIG": "/nonexistent/jetl.conf", "JETL_LOG_TALLY_SECONDS": "1",
    "PGHOST": "/nonexistent", "PGPASSWORD": "x", "PGSSLMODE": "require", "PGTZ": "Pacific/Chatham",
    "AMQP_URL": "amqp://prod.example.com/",
}
KEPT = {"JETL_PG_PORT": "55999", "JETL_RABBIT_PORT": "56999", "JETL_BUILD_DIR": "build-x"}


def polluted():
    env = {k: v for k, v in os.environ.items()}
    env.update(POLLUTION)
    env.update(KEPT)
    return env


class ShellEnvironment(unittest.TestCase):
    def test_runner_clears_what_the_user_exported(self):
        out = subprocess.run(["bash", "-c", 'source "$0" && env -0', LIB], env=polluted(),
                             capture_output=True, text=True, check=True).stdout
        env = dict(kv.split("=", 1) for kv in out.split("\0") if kv)
        for k in POLLUTION:
            if k == "JETL_CONFIG":
                self.assertEqual(env.get(k), "/dev/null")
            else:
                self.assertNotIn(k, env)
        for k, v in KEPT.items():
            self.assertEqual(env.get(k), v)

    def test_config_file_test_passes_with_a_token_exported(self):
        # With JETL_JIRA_TOKEN exported, the environment's token won over the
        # configuration file's missing token file: exit 1 instead of 2.
        script = ('source "$0" && export JETL_DB="$1" JETL_BUILD_ROOT="$2" && '
                  'exec /usr/bin/python3 -m unittest '
                  'test_cli.ConfigFile.test_bad_lines_name_file_and_line')
        p = subprocess.run(["bash", "-c", script, LIB, admin_dsn(), BUILD], env=polluted(),
                           cwd=os.path.dirname(os.path.abspath(__file__)),
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
