"""The Autopack executor's own routes, served at the root so it works unmodified."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from autopack_site.api.scopes import INGEST
from metrics import selectors, services
from metrics.api import executor_serializers as es


class RunStartView(APIView):
    """POST /runs/start: create a run with its tiers and phases."""

    write_scope = INGEST

    @extend_schema(
        request=es.RunStartSerializer, responses={201: es.ExecutorRunSerializer}, tags=["executor"]
    )
    def post(self, request):
        serializer = es.RunStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            run = services.run_create(
                run_fields=es.executor_run_fields(serializer.validated_data["run"]),
                tiers=serializer.validated_data["tiers"],
                phases=serializer.validated_data["phases"],
            )
        except services.RunAlreadyExists as exc:
            # The executor treats 400 as "run already exists" and reuses it.
            raise ValidationError({"run_id": [exc.detail]}) from None
        run = selectors.run_for_executor_get(run.pk)
        return Response(es.ExecutorRunSerializer(run).data, status=status.HTTP_201_CREATED)


class ExecutorRunView(APIView):
    """GET /runs/{run_id}: the run with tiers[] and a flat phases[] list."""

    @extend_schema(responses=es.ExecutorRunSerializer, tags=["executor"])
    def get(self, request, run_id: str):
        run = selectors.run_for_executor_get(run_id)
        return Response(es.ExecutorRunSerializer(run).data)


class RunStatusView(APIView):
    """GET /runs/{run_id}/status: COMPLETE, FAILED, RUNNING or QUEUED, and progress."""

    @extend_schema(responses=es.RunStatusSerializer, tags=["executor"])
    def get(self, request, run_id: str):
        progress = selectors.run_executor_status(selectors.run_get(run_id))
        return Response(es.RunStatusSerializer(progress).data)


class PhaseStatusUpdateView(APIView):
    """POST /runs/{run_id}/phases/{phase_id}/update_status."""

    write_scope = INGEST

    @extend_schema(
        request=es.PhaseStatusUpdateSerializer,
        responses=es.PhaseStatusUpdatedSerializer,
        tags=["executor"],
    )
    def post(self, request, run_id: str, phase_id: str):
        phase = selectors.phase_get(run_id, phase_id)
        serializer = es.PhaseStatusUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes, tokens_used = serializer.split()
        services.phase_update(phase=phase, changes=changes, tokens_used=tokens_used)
        phase = selectors.phase_get(run_id, phase_id)
        return Response(
            {
                "message": f"Phase {phase.phase_id} updated to state {phase.state}",
                "phase": es.ExecutorPhaseSerializer(phase).data,
            }
        )


class _ResultView(APIView):
    write_scope = INGEST
    schema_error_statuses = {"POST": (422,)}
    serializer_class: type[serializers.Serializer]
    record = None
    label = ""

    def post(self, request, run_id: str, phase_id: str):
        phase = selectors.phase_get(run_id, phase_id)
        serializer = self.serializer_class(data=request.data)
        # The executor expects 422 (not 400) naming the bad field of a result body.
        if not serializer.is_valid():
            return Response(serializer.errors, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        event = type(self).record(phase=phase, result=serializer.validated_data)
        return Response(
            {"message": f"{self.label} result recorded for phase {phase_id}", "event_id": event.pk},
            status=status.HTTP_200_OK,
        )


class BuilderResultView(_ResultView):
    """POST …/builder_result: stored as an event; tokens_used → base tokens."""

    serializer_class = es.BuilderResultSerializer
    record = staticmethod(services.builder_result_record)
    label = "Builder"

    @extend_schema(
        request=es.BuilderResultSerializer,
        responses=es.ResultAcceptedSerializer,
        tags=["executor"],
    )
    def post(self, request, run_id: str, phase_id: str):
        return super().post(request, run_id, phase_id)


class AuditorResultView(_ResultView):
    """POST …/auditor_result: stored as an event; tokens_used → second-opinion tokens."""

    serializer_class = es.AuditorResultSerializer
    record = staticmethod(services.auditor_result_record)
    label = "Auditor"

    @extend_schema(
        request=es.AuditorResultSerializer,
        responses=es.ResultAcceptedSerializer,
        tags=["executor"],
    )
    def post(self, request, run_id: str, phase_id: str):
        return super().post(request, run_id, phase_id)
