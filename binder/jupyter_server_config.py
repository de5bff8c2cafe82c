"""The Jupyter server's configuration under Binder.

repo2docker (and BinderHub) start a ServerApp -- ``jupyter notebook`` / ``jupyter lab``
or ``jupyterhub-singleuser`` -- with Voilà as a server extension; ``binder/postBuild``
makes the environment's ``jupyter_server_config.py`` load this file.

Everything shared with the standalone server comes from the repository's ``voila.py``
(kernel transport, culling, no offline buffering, the websocket guard, the upstream
patches) and ``voila.json`` (strip_sources, file allowlist, no template/theme override,
show_tracebacks off), so the two servers cannot drift apart. Voilà's server extension
also reads both files itself from the working directory (the repository root). What
differs under Binder is set at the end, with the reason.
"""

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
c = get_config()  # noqa: F821  (traitlets gives config files get_config)

if not (REPO / "voila.py").exists():
    raise FileNotFoundError(f"{REPO / 'voila.py'}: the repository's Voilà configuration")
load_subconfig(str(REPO / "voila.py"))  # noqa: F821
for key, value in json.loads((REPO / "voila.json").read_text())["VoilaConfiguration"].items():
    setattr(c.VoilaConfiguration, key, value)

# Tracebacks stay on over the websocket under Binder: whoever can open the Voilà page
# there holds the server's token and can run any code in JupyterLab, so hiding
# tracebacks protects nothing, and JupyterLab -- half of the course -- needs them to
# show learners their own errors. Voilà pages still show none (show_tracebacks off).
c.MappingKernelManager.allow_tracebacks = True
