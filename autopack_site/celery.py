"""The Celery app: replay attempts run as tasks on any number of workers.

    celery -A autopack_site worker

Configured from Django's settings (`CELERY_*`); without CELERY_BROKER_URL nothing
here is used and campaigns run in an in-process pool. Tasks are declared on this
app (`@app.task`), not as shared tasks: the web process then sends them to the
configured broker without importing this module at start-up.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autopack_site.settings")

app = Celery("autopack_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
