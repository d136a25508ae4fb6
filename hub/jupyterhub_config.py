"""JupyterHub configuration of the course's local demo hub (started by hub/start.sh).

Settings come from ``DLCOURSE_HUB_*`` variables written by ``hub/course_hub.py`` (which also
prepares the state folder: exchange, homes, nbgrader configs, the instructor's course).

* login: JupyterHub's shared-password authenticator, only for the course's users;
  the instructor is the hub admin (with a separate, long password);
* servers: every user's JupyterLab runs as a local process of the hub's own system user, in
  ``<state>/home/<user>`` (SimpleLocalProcessSpawner: a demo, users are NOT isolated);
* proxy: configurable-http-proxy from ``hub/node_modules`` (npm), everything on ``DLCOURSE_HUB_IP``
  (127.0.0.1 by default: nothing is reachable from other machines).
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from course_hub import CHP, HubSettings  # noqa: E402

c = get_config()  # noqa: F821 (provided by traitlets when JupyterHub loads this file)
s = HubSettings.from_env()
venv_bin = Path(sys.executable).parent

# --- network: the public proxy, the hub's API and the proxy's API, all on one address -----------
c.JupyterHub.ip = s.ip
c.JupyterHub.port = s.port
c.JupyterHub.hub_ip = s.ip
c.JupyterHub.hub_port = s.hub_port
c.ConfigurableHTTPProxy.api_url = f"http://{s.ip}:{s.proxy_api_port}"
c.ConfigurableHTTPProxy.command = [str(CHP)] if CHP.exists() else ["configurable-http-proxy"]
c.ConfigurableHTTPProxy.pid_file = str(s.state / "proxy.pid")
c.ConfigurableHTTPProxy.debug = False

# --- state: database, cookie secret, pid file in the state folder --------------------------------
c.JupyterHub.db_url = f"sqlite:///{s.state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(s.state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(s.state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every user's server
c.JupyterHub.cleanup_proxy = True

# --- who may log in -----------------------------------------------------------------------------
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = s.student_password
c.SharedPasswordAuthenticator.admin_password = s.instructor_password
c.Authenticator.allowed_users = {s.instructor, *s.students}
c.Authenticator.admin_users = {s.instructor}

# A service token for scripts and the end-to-end test (start servers, make user tokens).
if s.api_token:
    c.JupyterHub.services = [{"name": "course-admin", "api_token": s.api_token}]
    c.JupyterHub.load_roles = [{
        "name": "course-admin",
        "scopes": ["admin:users", "admin:servers", "access:servers", "tokens", "list:users"],
        "services": ["course-admin"],
    }]

# --- every user's JupyterLab ------------------------------------------------------------------------
c.JupyterHub.spawner_class = "simple"  # jupyterhub.spawner.SimpleLocalProcessSpawner
c.SimpleLocalProcessSpawner.home_dir_template = str(s.state / "home" / "{username}")
c.Spawner.cmd = [str(venv_bin / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
if hasattr(os, "geteuid") and os.geteuid() == 0:
    c.Spawner.args = ["--allow-root"]  # CI and containers run everything as root


def _user_environment(spawner):
    home = s.home(spawner.user.name)
    env = {
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),  # holds the user's nbgrader_config.py
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
    }
    if s.fast:
        env["DLCOURSE_FAST"] = "1"
    return env


def _pre_spawn(spawner):
    spawner.environment.update(_user_environment(spawner))


c.Spawner.pre_spawn_hook = _pre_spawn
