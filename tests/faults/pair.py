"""A private PostgreSQL + RabbitMQ pair for the fault suite.

The fault cases restart PostgreSQL and RabbitMQ. Doing that to the checkout's
default pair (ports 55432/56720) would cut every other suite, and every other
person, using it. So the suite starts its own pair through scripts/services
(JETL_SERVICES_DIR, JETL_PG_PORT, JETL_RABBIT_PORT, JETL_RABBIT_DIST_PORT),
points the e2e harness at it through the environment (JETL_DB, JETL_QUEUE and
the JETL_SERVICES_* variables that `scripts/services vhost` reads), and stops
and deletes it at the end.
"""
import os
import random
import shutil
import socket
import subprocess
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVICES = os.path.join(ROOT, "scripts", "services")


def free_port(taken):
    """A loopback port nobody listens on, below Linux's ephemeral range
    (32768-60999) so that no outgoing connection takes it meanwhile."""
    rnd = random.Random()
    for _ in range(200):
        p = rnd.randrange(20000, 30000)
        if p in taken:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                continue
        taken.add(p)
        return p
    raise RuntimeError("no free port in 20000-29999")


class PrivatePair:
    def __init__(self):
        self.keep = False
        if os.environ.get("JETL_FAULTS_PAIR_DIR"):
            # While working on the suite: reuse a pair started by hand with
            # these variables, and leave it running at the end.
            self.keep = True
            self.dir = os.environ["JETL_FAULTS_PAIR_DIR"]
            self.vars = {"JETL_SERVICES_DIR": self.dir}
            for k in ("JETL_PG_PORT", "JETL_RABBIT_PORT", "JETL_RABBIT_DIST_PORT"):
                self.vars[k] = os.environ[k]
            return
        # The servers run as postgres/rabbitmq: the folder must be theirs to
        # traverse (mkdtemp makes it 0700).
        self.dir = tempfile.mkdtemp(prefix="jetl-faults-")
        os.chmod(self.dir, 0o755)
        taken = set()
        self.vars = {
            "JETL_SERVICES_DIR": self.dir,
            "JETL_PG_PORT": str(free_port(taken)),
            "JETL_RABBIT_PORT": str(free_port(taken)),
            "JETL_RABBIT_DIST_PORT": str(free_port(taken)),
        }

    def services(self, *args):
        env = dict(os.environ, **self.vars)
        p = subprocess.run([SERVICES, *args], env=env, capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise RuntimeError("scripts/services %s failed: %s" % (" ".join(args), p.stderr[-2000:]))
        return p.stdout

    def start(self):
        """Start both servers and export what the harness and jetl read."""
        out = self.services("start")
        os.environ.update(self.vars)
        for line in out.splitlines():
            if line.startswith("export ") and "=" in line:
                k, v = line[len("export "):].split("=", 1)
                os.environ[k] = v.strip("'")

    def restart(self, what):
        """Stop and start one server ('pg' or 'rabbit'): a clean shutdown,
        which closes every client connection, then the same port again."""
        self.services("stop", what)
        self.services("start", what)

    def stop(self):
        if self.keep:
            return
        try:
            self.services("stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
