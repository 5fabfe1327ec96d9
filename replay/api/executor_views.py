"""`POST /runs/{id}/execute`: this server executes a run with its local executor, the
contract of Autopack's `run_parallel.py --executor api` (it then polls
`GET /runs/{id}/status`). In the replay app: the run store knows no executors."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from autopack_site.api.scopes import INGEST
from metrics.models import Run
from replay import dispatch, services
from replay.executors import ExecutorConfigError


class RunExecuteResponseSerializer(serializers.Serializer):
    run_id = serializers.CharField()
    status = serializers.CharField()
    message = serializers.CharField()
    state = serializers.CharField()


class RunExecuteView(APIView):
    # Autopack's run_parallel.py --executor api calls it with an executor's key.
    write_scope = INGEST

    @extend_schema(
        request=None,
        responses={
            200: RunExecuteResponseSerializer,
            404: OpenApiResponse(description="no such run"),
            409: OpenApiResponse(description="already executing, or finished"),
            503: OpenApiResponse(description="no executor configured"),
        },
    )
    def post(self, request, run_id: str):
        executor = services.local_executor()
        try:
            executor.check()
        except ExecutorConfigError as error:
            raise services.ReplayRefused(str(error)) from None
        try:
            run = services.run_execution_start(run_id=run_id)
        except Run.DoesNotExist:
            raise NotFound(f"Run {run_id!r} not found.") from None
        dispatch.run_execute(run_id=run.pk)
        return Response(
            {
                "run_id": run.pk,
                "status": "started",
                "message": f"Run {run.pk} is executing.",
                "state": run.state,
            }
        )
